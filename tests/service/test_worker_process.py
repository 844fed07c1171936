"""``destkit serve`` on SQLite with its worker process: the queue's writer on the worker's event
loop (the queue contract, a write lock held by the server), and the process itself: killed, it
is started again and nothing accepted is lost; the server killed, it exits; SIGTERM stops both;
what it delivers shows in the server's ``/metrics`` and pending count."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sdk.queue import Accepted, QueueError, Settlement, SqliteQueue, lane_of
from sdk.service import (
    DeliveryOptions,
    DestinationWorker,
    Service,
    ServiceLog,
    ServiceMetrics,
    parse_config,
)
from sdk.testing import Faults, Sandbox
from tests.queues import test_contract as contract
from tests.service.conftest import (
    WRITE_KEY,
    BatchStream,
    batch_of,
    config_text,
    delivered,
    until,
    wait_until,
)

_CONTRACT = [
    name
    for name, test in vars(contract).items()
    if name.startswith("test_") and list(inspect.signature(test).parameters) == ["queue"]
]


@pytest.mark.parametrize("name", _CONTRACT)
async def test_the_queue_contract_holds_with_the_writer_on_the_loop(
    name: str, tmp_path: Path
) -> None:
    queue = SqliteQueue(tmp_path / "data", owner=False, in_loop=True)
    try:
        await getattr(contract, name)(queue)
    finally:
        await queue.close()


def _accepted(i: int) -> Accepted:
    body = f'{{"type":"track","event":"E","messageId":"m{i}","userId":"u1"}}'.encode()
    return Accepted(f"m{i}", body, "u1", ["A"])


async def test_the_loop_writer_waits_for_the_servers_write_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    server = SqliteQueue(tmp_path / "data")
    worker = SqliteQueue(tmp_path / "data", owner=False, in_loop=True)
    try:
        await server.enqueue([_accepted(i) for i in range(3)])
        jobs = await worker.claim("A", lane_of("u1"), 100, time.time())
        assert len(jobs) == 3
        # Another connection (as the server's writer) holds the write lock for a while.
        holder = sqlite3.connect(tmp_path / "data" / "queue.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        settle = asyncio.ensure_future(worker.settle("A", Settlement(delivered=jobs)))
        ticks = 0
        for _ in range(20):  # the loop keeps running while the settle waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not settle.done()
        holder.execute("COMMIT")
        holder.close()
        await asyncio.wait_for(settle, 5)
        assert await worker.claim("A", lane_of("u1"), 100, time.time()) == []
        (status,) = await server.status(time.time())
        assert status.delivered == 3 and status.queued == 0
    finally:
        await worker.close()
        await server.close()


async def test_a_closed_loop_writer_refuses_writes(tmp_path: Path) -> None:
    worker = SqliteQueue(tmp_path / "data", owner=False, in_loop=True)
    await worker.close()
    with pytest.raises(QueueError, match="closed"):
        await worker.enqueue([_accepted(1)])


def _worker_pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"worker_started pid=(\d+)", log.read_text())]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for this purpose.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_killed_worker_process_is_started_again_and_loses_nothing(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    sandbox.set_faults(Faults(latency=0.01))
    server = serve_process(config_text(sandbox.url), "--worker-processes", "1").start()
    assert wait_until(lambda: len(_worker_pids(server.log)) == 1)
    stream = BatchStream()
    stop, sender = stream.start(server.url, 0)
    time.sleep(0.5)
    first = _worker_pids(server.log)[0]
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: len(_worker_pids(server.log)) == 2, timeout=15)
    time.sleep(0.3)
    stop.set()
    sender.join(10)
    got = lambda: {m["messageId"] for m in delivered(sandbox)}  # noqa: E731
    assert wait_until(lambda: stream.accepted <= got(), timeout=30), len(stream.accepted - got())
    metrics = httpx.get(f"{server.url}/metrics").text
    assert server.terminate() == 0
    log = server.log.read_text()
    assert f"worker_exited pid={first} code=-9" in log
    assert len(stream.accepted) > 20 and got() <= stream.sent
    assert 'destkit_delivered_total{destination="Sandbox"}' in metrics
    second = _worker_pids(server.log)[1]
    assert not _alive(second)  # SIGTERM stopped the server's worker process too


def test_the_worker_process_exits_when_its_server_is_killed(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    server = serve_process(config_text(sandbox.url), "--worker-processes", "2").start()
    assert wait_until(lambda: len(_worker_pids(server.log)) == 2)
    pids = _worker_pids(server.log)
    server.kill()
    assert wait_until(lambda: not any(_alive(pid) for pid in pids), timeout=10)
    # The next server's worker process takes over the data directory and delivers.
    server.start()
    answer = httpx.post(f"{server.url}/v1/batch", json=batch_of(["k1", "k2"]), auth=(WRITE_KEY, ""))
    assert answer.status_code == 200
    assert wait_until(lambda: len(delivered(sandbox)) == 2, timeout=15)
    assert server.terminate() == 0


def test_metrics_and_depth_follow_what_the_worker_process_settles(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    server = serve_process(config_text(sandbox.url)).start()
    ids = [f"d{i}" for i in range(30)]
    answer = httpx.post(f"{server.url}/v1/batch", json=batch_of(ids), auth=(WRITE_KEY, ""))
    assert answer.status_code == 200
    assert wait_until(lambda: len(delivered(sandbox)) == 30, timeout=15)

    def settled() -> bool:
        text = httpx.get(f"{server.url}/metrics").text
        return (
            'destkit_delivered_total{destination="Sandbox"} 30.0' in text
            and "destkit_queue_depth 0.0" in text
        )

    assert wait_until(settled, timeout=10), httpx.get(f"{server.url}/metrics").text
    text = httpx.get(f"{server.url}/metrics").text
    assert 'destkit_delivery_latency_seconds_count{destination="Sandbox"} 30.0' in text
    assert server.terminate() == 0


async def test_worker_processes_share_the_lanes_and_keep_each_users_order(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = parse_config(config_text(sandbox.url))
    log = tmp_path / "serve.log"
    with log.open("a") as stream:
        service = Service(config, tmp_path / "data", log=ServiceLog(stream), worker_processes=2)
        host, port = await service.start("127.0.0.1", 0)
        try:
            assert [p.lanes for p in service.worker_processes] == [[0, 2, 4, 6], [1, 3, 5, 7]]
            async with httpx.AsyncClient(timeout=10) as client:
                for round_ in range(5):
                    batch = {
                        "batch": [
                            {
                                "type": "track",
                                "event": "E",
                                "userId": f"u{i % 10}",
                                "messageId": f"{round_}-{i}",
                            }
                            for i in range(40)
                        ]
                    }
                    answer = await client.post(
                        f"http://{host}:{port}/v1/batch", json=batch, auth=(WRITE_KEY, "")
                    )
                    assert answer.status_code == 200
            assert await until(lambda: len(delivered(sandbox)) == 200, timeout=20)
            assert await until(lambda: service.queue.pending() == 0, timeout=10)
        finally:
            await service.stop()
    assert len(_worker_pids(log)) == 2
    lanes = {lane_of(f"u{i}") for i in range(10)}
    assert lanes & {0, 2, 4, 6} and lanes & {1, 3, 5, 7}  # both processes had work
    for user in range(10):
        mine = [m["messageId"] for m in delivered(sandbox) if m["userId"] == f"u{user}"]
        assert mine == sorted(mine, key=lambda i: tuple(map(int, i.split("-"))))


def test_a_worker_process_takes_its_lanes_share_of_the_rate_limit(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (destination,) = parse_config(config_text(sandbox.url)).destinations
    limited = dataclasses.replace(
        destination, connector=dataclasses.replace(destination.connector, rate_limit=80.0)
    )
    queue = SqliteQueue(tmp_path / "data")
    options = DeliveryOptions()
    both = DestinationWorker(limited, queue, options, ServiceMetrics(), ServiceLog())
    half = DestinationWorker(
        limited, queue, options, ServiceMetrics(), ServiceLog(), lanes=[1, 3, 5, 7]
    )
    quarter = DestinationWorker(
        limited, queue, options, ServiceMetrics(), ServiceLog(), lanes=[0, 4]
    )
    rates = [w.delivery.destination.rate_limit for w in (both, half, quarter)]
    assert rates == [80.0, 40.0, 20.0]
    asyncio.run(queue.close())


def test_worker_processes_is_checked_on_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text(config_text("http://127.0.0.1:9"))
    base = [sys.executable, "-m", "sdk.cli", "serve", "--config", str(config), "--port", "0"]
    for extra, expected in (
        (["--worker-processes", "9"], "--worker-processes: must be a whole number 0 to 8"),
        (
            ["--worker-processes", "2", "--queue", "redis://127.0.0.1:9/0"],
            "destkit serve: error: --worker-processes: only with SQLite",
        ),
    ):
        done = subprocess.run(base + extra, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) <= 2  # argparse adds its usage line


def test_sigterm_while_a_worker_process_is_being_started_again_exits_0(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    server = serve_process(config_text(sandbox.url), "--worker-processes", "2").start()
    assert wait_until(lambda: len(_worker_pids(server.log)) == 2)
    for pid in _worker_pids(server.log):
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: "worker_exited" in server.log.read_text())
    started = time.monotonic()
    assert server.terminate() == 0
    assert time.monotonic() - started < 10
    assert all(not _alive(pid) for pid in _worker_pids(server.log))
