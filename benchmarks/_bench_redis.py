"""``bench_serve.py --queue redis://HOST:PORT/DB``: destkit on Redis next to Redis's own limits,
measured in the same run against the same redis-server.

- **XADD limit**: the same jobs as ingest writes (same fields and body), 100 ``XADD`` a pipeline
  (one round trip), ``--clients`` pipelines at once, with redis-py (the client destkit uses).
- **scripted XADD limit**: the same XADDs, 100 in one ``EVALSHA`` of destkit's ``ENQUEUE``
  script (what ingest sends), ``--clients`` at once.
- **XREADGROUP + XACK limit**: a consumer reading 100 at a time and acknowledging (+ ``XDEL``)
  each read in one pipeline, until the stream is drained.
- **ingest**: ``destkit serve --queue URL --no-worker``, ``POST /v1/batch`` of 100.
- **end to end with 1, 2, 4 workers**: N ``destkit worker`` processes are started (all up
  before timing), then ``events`` are posted through the ingest node and timed until the
  loopback sink (a separate process that answers 200 at once and only counts) has them all.

Everything runs ``--rounds`` times, interleaved (1, 2 and 4 workers in a rotating order): the
machine is shared, so each ratio is taken within one round and the median over rounds is
reported, with every round's ratio beside it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
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
    # counters, destinations, pending, then the streams (as ingest calls it)
    keys = ["bench:c", "bench:d", "bench:p", *(f"bench:s:{lane}" for lane in range(8))]
    todo = list(range(0, events, BATCH))
    now, text = repr(time.time()), body.decode()

    async def one() -> None:
        while todo:
            start = todo.pop()
            jobs = [
                (i % 8 + 4, f"{i:020d}", "user-1", f"m-{i}", now, text)
                for i in range(start, start + BATCH)
            ]
            await script(keys=keys, args=[orjson.dumps(jobs), b"[]", b'["Sandbox"]'])

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


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run(
    url: str, events: int, clients: int, tmp: Path, bench: Any, rounds: int = 3
) -> dict[str, Any]:
    """Every Redis measurement, ``rounds`` times interleaved (the machine is shared: a ratio is
    taken within a round, and the median over rounds is reported); ``bench`` is bench_serve
    (its load generator and sink)."""
    import json

    body = json.dumps(bench._message(1)).encode()
    result: dict[str, Any] = {"events": events, "clients": clients, "queue": url, "rounds": rounds}
    series: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        series.setdefault(name, []).append(value)

    sink, sink_port = bench._sink(record_ids=False)
    config = bench._config(tmp / "redis.yaml", f"http://127.0.0.1:{sink_port}", "normal")
    argv = ["--config", str(config), "--queue", url]
    try:
        ingest, first = _cli(["serve", *argv, "--port", "0", "--no-worker"], "listening on ")
        port = int(first.rsplit(":", 1)[1])
        try:
            for round_ in range(rounds):
                xadd = asyncio.run(_xadd_limit(url, events, clients, body))
                note("xadd_limit_per_s", xadd)
                note("xreadgroup_xack_limit_per_s", asyncio.run(_read_ack_limit(url, events)))
                note(
                    "script_xadd_limit_per_s",
                    asyncio.run(_script_limit(url, events, clients, body)),
                )
                requests = bench._bodies(events, f"i{round_}")
                started = time.perf_counter()
                ok, failed = asyncio.run(bench._post_all(port, requests, clients))
                rate = ok * BATCH / (time.perf_counter() - started)
                if failed:
                    raise SystemExit(
                        f"bench_serve: redis ingest: {failed} requests not answered 200"
                    )
                note("ingest_events_per_s", rate)
                note("ingest_ratio", rate / xadd)
                # the queue holds `events` now: one worker drains it (not timed)
                _end_to_end(argv, 1, sink_port, events, bench, None, clients)
                # 1, 2 and 4 workers in a different order each round
                order = [1, 2, 4][round_ % 3 :] + [1, 2, 4][: round_ % 3]
                runs = {
                    n: _end_to_end(argv, n, sink_port, events, bench, port, clients) for n in order
                }
                for n, (rate, per_cpu) in runs.items():
                    note(f"workers_{n}_events_per_s", rate)
                    note(f"workers_{n}_ratio", rate / runs[1][0])
                    note(f"workers_{n}_events_per_worker_cpu_s", per_cpu)
        finally:
            ingest.terminate()
            ingest.wait(30)
    finally:
        sink.kill()
        sink.wait()
    for name, values in series.items():
        result[name] = _median(values)
        result[f"{name}_rounds"] = values
    return result


def _end_to_end(
    argv: list[str],
    workers: int,
    sink_port: int,
    events: int,
    bench: Any,
    port: int | None,
    clients: int,
) -> tuple[float, float]:
    """Start ``workers`` worker processes (all up before timing), post ``events`` through the
    ingest node at ``port`` (none: drain what is queued) and time until the sink has them.
    Returns events/s and events per CPU-second of the workers (all of them, while timed)."""
    target = int(bench._get(sink_port, "/count")) + events  # before a worker can deliver any
    procs = [_cli(["worker", *argv], "worker started")[0] for _ in range(workers)]
    try:
        cpu = sum(bench._cpu(proc.pid) for proc in procs)
        started = time.perf_counter()
        if port is not None:
            asyncio.run(bench._post_all(port, bench._bodies(events, f"w{workers}"), clients))
        while int(bench._get(sink_port, "/count")) < target:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu = sum(bench._cpu(proc.pid) for proc in procs) - cpu
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    return events / elapsed, events / cpu


def report(r: dict[str, Any], url: str) -> None:
    """The Markdown table of :func:`run`'s medians (the README's "Scaling out" table)."""
    print(
        f"destkit serve/worker on Redis ({url}), {r['events']} events, {r['clients']} clients, "
        f"{r['rounds']} rounds (medians; ratios within a round), "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    print()
    xadd = r["xadd_limit_per_s"]
    print("| measurement | events/s | ratio | rounds (ratio) | events per worker CPU-s |")
    print("|---|---:|---:|---|---:|")
    print(f"| Redis limit: pipelined XADD, 100 a round trip (redis-py) | {xadd:,.0f} | 1.00 | | |")
    script = r["script_xadd_limit_per_s"]
    print(
        f"| Redis limit: the same 100 XADDs in one EVALSHA (destkit's script) | {script:,.0f} | "
        f"{script / xadd:.2f} | | |"
    )
    rounds = ", ".join(f"{x:.2f}" for x in r["ingest_ratio_rounds"])
    print(
        f"| destkit ingest (`serve --no-worker`, `/v1/batch` of 100) | "
        f"{r['ingest_events_per_s']:,.0f} | **{r['ingest_ratio']:.2f}** | {rounds} | |"
    )
    print(
        f"| Redis limit: XREADGROUP 100 + XACK/XDEL | "
        f"{r['xreadgroup_xack_limit_per_s']:,.0f} | | | |"
    )
    for n in (1, 2, 4):
        rounds = ", ".join(f"{x:.2f}" for x in r[f"workers_{n}_ratio_rounds"])
        print(
            f"| end to end: ingest → Redis → {n} `destkit worker` → loopback sink | "
            f"{r[f'workers_{n}_events_per_s']:,.0f} | **{r[f'workers_{n}_ratio']:.2f}** | "
            f"{rounds} | {r[f'workers_{n}_events_per_worker_cpu_s']:,.0f} |"
        )
