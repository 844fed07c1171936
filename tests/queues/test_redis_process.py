"""Redis end to end with real processes: two ``destkit serve --no-worker`` ingest nodes and three
``destkit worker`` processes against one redis-server, delivering to the sandbox; and the crash
test (SIGKILL a worker mid-batch and an ingest node mid-stream, several times: every message
that got a 200 is delivered at least once, and nothing that was never sent is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


class Nodes:
    """Ingest and worker subprocesses; every one left running is killed at the end."""

    def __init__(self, tmp: Path, config: str, queue: str) -> None:
        self.config = tmp / "serve.yaml"
        self.config.write_text(config)
        self.queue = queue
        self.log = tmp / "nodes.log"
        self.procs: list[subprocess.Popen[str]] = []

    def _spawn(self, argv: list[str], ready: str) -> tuple[subprocess.Popen[str], str]:
        argv = [sys.executable, "-m", "sdk.cli", *argv, "--config", str(self.config)]
        argv += ["--queue", self.queue]
        with self.log.open("a") as errors:
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=dict(os.environ)
            )
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith(ready), (first, self.log.read_text()[-2000:])
        self.procs.append(proc)
        return proc, first

    def ingest(self) -> tuple[subprocess.Popen[str], str]:
        proc, line = self._spawn(["serve", "--port", "0", "--no-worker"], "listening on ")
        return proc, line.removeprefix("listening on ")

    def worker(self) -> subprocess.Popen[str]:
        return self._spawn(["worker"], "worker started")[0]

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def nodes(tmp_path: Path, redis_url: str, sandbox: Sandbox) -> Iterator[Nodes]:
    made = Nodes(tmp_path, config_text(sandbox.url), redis_url + "?visibility=1")
    yield made
    made.close()


def test_two_ingest_nodes_three_workers_deliver_everything(nodes: Nodes, sandbox: Sandbox):
    ingest = [nodes.ingest()[1] for _ in range(2)]
    workers = [nodes.worker() for _ in range(3)]
    sent = []
    with httpx.Client(timeout=10) as client:
        for i in range(40):
            ids = [f"e{i}-{k}" for k in range(25)]
            sent += ids
            answer = client.post(
                f"{ingest[i % 2]}/v1/batch", json=batch_of(ids, f"u{i % 9}"), auth=(WRITE_KEY, "")
            )
            assert answer.status_code == 200, answer.text
    assert wait_until(lambda: len({m["messageId"] for m in delivered(sandbox)}) == 1000, 30)
    got = [m["messageId"] for m in delivered(sandbox)]
    assert set(got) == set(sent)
    # one user's messages arrive in the order they were sent
    for user in ("u0", "u4"):
        mine = [m["messageId"] for m in delivered(sandbox) if m["userId"] == user]
        firsts = list(dict.fromkeys(mine))
        assert firsts == [i for i in sent if i in set(firsts)]

    def counted() -> bool:
        """``status`` counts every delivery the sandbox answered, once each, once settled (a
        lease that ran out under load may have a batch delivered again: at least once)."""
        status = subprocess.run(
            [sys.executable, "-m", "sdk.cli", "status", "--queue", nodes.queue, "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        (row,) = json.loads(status.stdout)
        seen = ("Sandbox", 0, len(delivered(sandbox)))
        return (row["destination"], row["queued"], row["delivered"]) == seen

    assert wait_until(counted, 30)
    for worker in workers:
        worker.terminate()
        assert worker.wait(15) == 0


def test_sigkill_a_worker_and_an_ingest_node_loses_no_accepted_message(
    nodes: Nodes, sandbox: Sandbox
):
    sandbox.set_faults(Faults(latency=0.05))  # batches are in flight when a worker dies
    stream = BatchStream()
    workers = [nodes.worker() for _ in range(2)]
    for round_ in range(3):
        proc, url = nodes.ingest()
        stop, sender = stream.start(url, round_)
        time.sleep(0.6)
        victim = workers.pop(0)
        victim.kill()  # mid-batch: the sandbox answers slowly
        victim.wait(10)
        time.sleep(0.3)
        proc.kill()  # the ingest node, mid-stream
        proc.wait(10)
        stop.set()
        sender.join(10)
        workers.append(nodes.worker())
    assert stream.accepted
    assert wait_until(
        lambda: stream.accepted <= {m["messageId"] for m in delivered(sandbox)}, 40
    ), len(stream.accepted - {m["messageId"] for m in delivered(sandbox)})
    arrived = {m["messageId"] for m in delivered(sandbox)}
    assert arrived <= stream.sent  # nothing that was never sent


def test_redis_restart_mid_stream_ingest_503s_and_worker_processes_lose_nothing(
    nodes: Nodes, sandbox: Sandbox, redis_server: Any
):
    """Redis goes away under load and comes back: the ingest node answers 503 meanwhile (those
    messages are not accepted), the ``destkit worker`` processes keep running, reconnect with
    backoff and deliver every message that got a 200 (batches whose settle failed are claimed
    again)."""
    sandbox.set_faults(Faults(latency=0.05))  # batches are in flight when Redis goes
    workers = [nodes.worker() for _ in range(2)]
    _, url = nodes.ingest()
    stream = BatchStream()
    stop, sender = stream.start(url, 0)
    time.sleep(0.6)
    redis_server.stop()
    time.sleep(1.0)
    refused_while_down = len(stream.sent - stream.accepted)
    redis_server.start()  # same port, same directory (AOF)
    time.sleep(0.6)
    stop.set()
    sender.join(10)
    assert refused_while_down > 0  # answered 503, never 200, while Redis was away
    assert stream.accepted
    assert wait_until(
        lambda: stream.accepted <= {m["messageId"] for m in delivered(sandbox)}, 40
    ), len(stream.accepted - {m["messageId"] for m in delivered(sandbox)})
    assert {m["messageId"] for m in delivered(sandbox)} <= stream.sent
    assert all(worker.poll() is None for worker in workers)  # reconnected, not restarted
    assert "queue_error" in nodes.log.read_text()
