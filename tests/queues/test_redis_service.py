"""``destkit serve`` on Redis in this process: it delivers with its in-process worker, and a
lost Redis connection answers 503 with Retry-After (never a 200 for an unstored message)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from sdk.queue import open_queue
from sdk.service import Service, ServiceLog, parse_config
from sdk.testing import Faults, Sandbox
from tests.service.conftest import WRITE_KEY, batch_of, config_text, delivered, until


async def test_serve_with_redis_delivers_in_process(
    redis_url: str, sandbox: Sandbox, tmp_path: Path
):
    config = parse_config(config_text(sandbox.url))
    with (tmp_path / "log").open("a") as stream:
        service = Service(
            config, tmp_path, queue=open_queue(redis_url, tmp_path), log=ServiceLog(stream)
        )
        host, port = await service.start("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"http://{host}:{port}/v1/batch",
                    json=batch_of([f"m{i}" for i in range(30)]),
                    auth=(WRITE_KEY, ""),
                )
                assert answer.status_code == 200
                assert await until(lambda: len(delivered(sandbox)) == 30, 10)
                # The sandbox has answered; the worker counts the deliveries when it has
                # settled the batch, a moment later.
                counted = 'destkit_delivered_total{destination="Sandbox"} 30.0'
                for _ in range(200):
                    metrics = (await client.get(f"http://{host}:{port}/metrics")).text
                    if counted in metrics:
                        break
                    await asyncio.sleep(0.05)
                assert counted in metrics
        finally:
            await service.stop()
    assert [m["messageId"] for m in delivered(sandbox)] == [f"m{i}" for i in range(30)]


async def test_redis_down_answers_503_with_retry_after(sandbox: Sandbox, tmp_path: Path):
    config = parse_config(config_text(sandbox.url))
    queue = open_queue("redis://127.0.0.1:1/0", tmp_path)
    with (tmp_path / "log").open("a") as stream:
        service = Service(config, tmp_path, queue=queue, log=ServiceLog(stream), workers=False)
        host, port = await service.start("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"http://{host}:{port}/v1/batch", json=batch_of(["m1"]), auth=(WRITE_KEY, "")
                )
        finally:
            await service.stop()
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"


def test_status_and_dlq_take_a_redis_queue(redis_url: str):
    for argv in (["status"], ["dlq", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "sdk.cli", *argv, "--queue", redis_url],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "sdk.cli", "status", "--queue", "redis://127.0.0.1:1/0"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "redis" in done.stderr


def test_without_the_redis_package_the_error_names_the_extra(tmp_path: Path):
    config = tmp_path / "c.yaml"
    config.write_text(config_text("http://127.0.0.1:9"))
    code = (
        "import sys; sys.modules['redis'] = None; sys.modules['redis.asyncio'] = None\n"
        "from sdk.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "serve", "--config", str(config), "--queue", "redis://h:1/0"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "destkit serve: error: --queue: redis:// needs the redis extra: "
        "pip install 'destkit[redis]'"
    )


async def test_redis_restart_503_then_workers_reconnect_and_lose_nothing(
    redis_server: Any, redis_url: str, sandbox: Sandbox, tmp_path: Path
):
    config = parse_config(config_text(sandbox.url))
    queue = open_queue(redis_url, tmp_path)
    with (tmp_path / "log").open("a") as stream:
        service = Service(config, tmp_path, queue=queue, log=ServiceLog(stream))
        host, port = await service.start("127.0.0.1", 0)
        url = f"http://{host}:{port}/v1/batch"
        try:
            async with httpx.AsyncClient() as client:
                sandbox.set_faults(Faults(status=503))  # accepted, not delivered yet
                ok = await client.post(url, json=batch_of(["a1", "a2"]), auth=(WRITE_KEY, ""))
                assert ok.status_code == 200
                redis_server.stop()  # Redis goes away (AOF always: a1, a2 are on disk)
                down = await client.post(url, json=batch_of(["b1"]), auth=(WRITE_KEY, ""))
                assert (down.status_code, down.headers["retry-after"]) == (503, "1")
                sandbox.set_faults(None)
                redis_server.start()  # same port, same directory
                again = await client.post(url, json=batch_of(["c1"]), auth=(WRITE_KEY, ""))
                assert again.status_code == 200
                want = {"a1", "a2", "c1"}
                assert await until(lambda: want <= {m["messageId"] for m in delivered(sandbox)}, 20)
        finally:
            await service.stop()
    assert "b1" not in {m["messageId"] for m in delivered(sandbox)}
