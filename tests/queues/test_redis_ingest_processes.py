"""``destkit serve --queue redis:// --ingest-processes 2``: both processes accept, and the
backlog's 429 holds in both, and lifts in both once the workers drained it (an ingest process
that only answers 429 learns the backlog from the server)."""

from __future__ import annotations

import time
from pathlib import Path

from sdk.testing import Faults, Sandbox
from tests.service.conftest import ServeProcess, config_text, delivered, wait_until
from tests.service.test_ingest_processes import _connections, _ingest_pids, _post, _server_ends


def test_two_ingest_processes_on_redis_share_the_backlog(
    redis_url: str, sandbox: Sandbox, tmp_path: Path
):
    sandbox.set_faults(Faults(status=503))
    config = tmp_path / "serve.yaml"
    config.write_text(config_text(sandbox.url, delivery="max_backlog: 40"))
    args = ("--queue", redis_url, "--ingest-processes", "2")
    server = ServeProcess(config, tmp_path / "data", tmp_path / "serve.log", args)
    try:
        server.start()
        children = _ingest_pids(server.log)
        assert len(children) == 1
        connections = _connections(server.url, 16)
        assert _post(connections[0], [f"b{i}" for i in range(50)]) == 200
        time.sleep(0.6)  # the server's view reaches the other process within 0.1 s of its own
        assert [_post(c, [f"late-{k}"]) for k, c in enumerate(connections[1:])] == [429] * 15
        assert _server_ends(server, connections) == {server.proc.pid, children[0]}
        sandbox.set_faults(None)  # the retries are delivered: the backlog goes
        assert wait_until(lambda: len(delivered(sandbox)) >= 50, timeout=30)

        def accepted_everywhere() -> bool:
            return all(_post(c, [f"again-{k}"]) == 200 for k, c in enumerate(connections))

        assert wait_until(accepted_everywhere, timeout=10, interval=0.2)
        for connection in connections:
            connection.close()
        assert server.terminate() == 0
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()
