"""``bench_serve.py --queue redis://HOST:PORT/DB``: destkit on Redis next to Redis's own limits,
measured in the same run against the same redis-server.

- **XADD limit**: the same jobs as ingest writes (same fields and body), 100 ``XADD`` a pipeline
  (one round trip), ``--clients`` pipelines at once, with redis-py (the client destkit uses).
- **scripted XADD limit**: the same XADDs, 100 in one ``EVALSHA`` of destkit's ``ENQUEUE``
  script (what ingest sends), ``--clients`` at once.
- **XREADGROUP + XACK limit**: a consumer reading 100 at a time and acknowledging (+ ``XDEL``)
  each read in one pipeline, until the stream is drained.
- **ingest**: ``destkit serve --queue URL --no-worker``, ``POST /v1/batch`` of 100.
- **delivery with 1, 2, 4 workers**: the queue is filled through ingest first, then N
  ``destkit worker`` processes drain it to a loopback sink (a separate process that answers 200
  at once and only counts); events/s from the moment every worker is up until the sink has all.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BATCH = 100


async def _xadd_limit(url: str, events: int, clients: int, body: bytes) -> float:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    todo = list(range(0, events, BATCH))
    fields = {"o": "0" * 20, "u": "user-1", "m": "m-1", "a": "0", "e": repr(time.time())}

    async def one() -> None:
        while todo:
            start = todo.pop()
            pipe = client.pipeline(transaction=False)
            for i in range(start, start + BATCH):
                pipe.xadd(f"bench:s:{i % 8}", {**fields, "m": f"m-{i}", "b": body})
            await pipe.execute()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return events / elapsed


async def _script_limit(url: str, events: int, clients: int, body: bytes) -> float:
    """The same XADDs as one ``EVALSHA`` of 100 a round trip (destkit's ENQUEUE script)."""
    import orjson
    import redis.asyncio as aioredis

    from sdk.queue._redis_scripts import ENQUEUE

    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    script = client.register_script(ENQUEUE)
    keys = [f"bench:s:{lane}" for lane in range(8)]
    todo = list(range(0, events, BATCH))
    now, text = repr(time.time()), body.decode()

    async def one() -> None:
        while todo:
            start = todo.pop()
            jobs = [
                (i % 8 + 1, f"{i:020d}", "user-1", f"m-{i}", now, text)
                for i in range(start, start + BATCH)
            ]
            await script(keys=keys, args=[orjson.dumps(jobs)])

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return events / elapsed


async def _read_ack_limit(url: str, events: int) -> float:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    streams = [f"bench:s:{lane}" for lane in range(8)]
    for stream in streams:
        await client.xgroup_create(stream, "g", id="0", mkstream=True)
    done = 0
    started = time.perf_counter()

    async def lane(stream: str) -> None:
        nonlocal done
        while True:
            read = await client.xreadgroup("g", "c", {stream: ">"}, count=BATCH)
            if not read or not read[0][1]:
                return
            ids = [entry[0] for entry in read[0][1]]
            pipe = client.pipeline(transaction=False)
            pipe.xack(stream, "g", *ids)
            pipe.xdel(stream, *ids)
            await pipe.execute()
            done += len(ids)

    await asyncio.gather(*(lane(s) for s in streams))
    elapsed = time.perf_counter() - started
    await client.flushdb()
    await client.aclose()
    return done / elapsed


def _cli(argv: list[str], ready: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sdk.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith(ready):
        process.kill()
        raise SystemExit(f"bench_serve: {argv[0]} did not start: {first!r}")
    return process, first


def run(url: str, events: int, clients: int, tmp: Path, bench: Any) -> dict[str, Any]:
    """Every Redis measurement; ``bench`` is bench_serve (its load generator and sink)."""
    import json

    body = json.dumps(bench._message(1)).encode()
    result: dict[str, Any] = {"events": events, "clients": clients, "queue": url}
    result["xadd_limit_per_s"] = asyncio.run(_xadd_limit(url, events, clients, body))
    result["xreadgroup_xack_limit_per_s"] = asyncio.run(_read_ack_limit(url, events))
    result["script_xadd_limit_per_s"] = asyncio.run(_script_limit(url, events, clients, body))
    sink, sink_port = bench._sink(record_ids=False)
    config = bench._config(tmp / "redis.yaml", f"http://127.0.0.1:{sink_port}", "normal")
    argv = ["--config", str(config), "--queue", url]
    try:
        ingest, first = _cli(["serve", *argv, "--port", "0", "--no-worker"], "listening on ")
        port = int(first.rsplit(":", 1)[1])
        try:
            requests = bench._bodies(events, "i")
            started = time.perf_counter()
            ok, failed = asyncio.run(bench._post_all(port, requests, clients))
            result["ingest_events_per_s"] = ok * BATCH / (time.perf_counter() - started)
            if failed:
                raise SystemExit(f"bench_serve: redis ingest: {failed} requests not answered 200")
            # the queue holds `events` now: one worker drains it (not timed)
            _end_to_end(argv, 1, sink_port, events, bench, None, clients)
            for workers in (1, 2, 4):
                rate = _end_to_end(argv, workers, sink_port, events, bench, port, clients)
                result[f"workers_{workers}_events_per_s"] = rate
        finally:
            ingest.terminate()
            ingest.wait(30)
    finally:
        sink.kill()
        sink.wait()
    return result


def _end_to_end(
    argv: list[str],
    workers: int,
    sink_port: int,
    events: int,
    bench: Any,
    port: int | None,
    clients: int,
) -> float:
    """Start ``workers`` worker processes (all up before timing), post ``events`` through the
    ingest node at ``port`` (none: drain what is queued) and time until the sink has them."""
    procs = [_cli(["worker", *argv], "worker started")[0] for _ in range(workers)]
    try:
        target = int(bench._get(sink_port, "/count")) + events
        started = time.perf_counter()
        if port is not None:
            asyncio.run(bench._post_all(port, bench._bodies(events, f"w{workers}"), clients))
        while int(bench._get(sink_port, "/count")) < target:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    return events / elapsed
