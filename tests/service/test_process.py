"""``destkit serve`` as a process: SIGTERM exits 0 and resumes after restart; the crash test
(kill -9 several times mid-stream: every 200'd message is delivered at least once, and nothing
that was never sent is), with one ingest process and with two."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import httpx
import pytest

from sdk.testing import Faults, Sandbox
from tests.service.conftest import (
    WRITE_KEY,
    BatchStream,
    batch_of,
    config_text,
    delivered,
    wait_until,
)


def test_sigterm_stops_accepting_exits_0_and_restart_resumes(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    sandbox.set_faults(Faults(status=503))  # nothing can be delivered: all stays pending
    server = serve_process(config_text(sandbox.url)).start()
    answer = httpx.post(
        f"{server.url}/v1/batch", json=batch_of(["m1", "m2", "m3"]), auth=(WRITE_KEY, "")
    )
    assert answer.status_code == 200
    assert wait_until(lambda: len(sandbox.requests) >= 1)
    started = time.monotonic()
    assert server.terminate() == 0
    assert time.monotonic() - started < 12
    log = server.log.read_text()
    assert "stopping" in log and "stopped" in log
    assert "sandbox-secret-key" not in log and WRITE_KEY not in log
    sandbox.set_faults(None)
    server.start()  # same data directory: the retrying jobs resume
    assert wait_until(lambda: len(delivered(sandbox)) == 3, timeout=15)
    assert server.terminate() == 0
    assert sorted(m["messageId"] for m in delivered(sandbox)) == ["m1", "m2", "m3"]


@pytest.mark.parametrize("ingest", ["1", "2"])
def test_kill_9_mid_stream_loses_no_accepted_message(
    sandbox: Sandbox, tmp_path: Path, serve_process, ingest: str
):
    sandbox.set_faults(Faults(latency=0.01))
    server = serve_process(config_text(sandbox.url), "--ingest-processes", ingest)
    stream = BatchStream()
    rng = random.Random(7)
    for _round in range(4):
        server.start()
        stop, sender = stream.start(server.url, _round)
        time.sleep(rng.uniform(0.3, 0.8))
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        stop.set()
        sender.join(10)
    server.start()
    got = lambda: {m["messageId"] for m in delivered(sandbox)}  # noqa: E731
    assert wait_until(lambda: stream.accepted <= got(), timeout=30), len(stream.accepted - got())
    assert server.terminate() == 0
    assert len(stream.accepted) > 100
    assert got() <= stream.sent  # nothing that was never sent was delivered
