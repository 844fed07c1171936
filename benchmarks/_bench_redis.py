"""``bench_serve.py --queue redis://HOST:PORT/DB``: destkit on Redis next to Redis's own limits,
measured in the same run against the same redis-server.

- **XADD limit**: the same jobs as ingest writes (the same packed field), 100 ``XADD`` a pipeline
  (one round trip), ``--clients`` pipelines at once, with redis-py (the client destkit uses).
- **scripted XADD limit**: the same XADDs, 100 in one ``EVALSHA`` of destkit's ``ENQUEUE``
  script (what ingest sends), ``--clients`` at once.
- **XREADGROUP + XACK limit**: a consumer reading 100 at a time and acknowledging each read
  (and trimming the stream past it, as destkit settles a lane) in one pipeline, until the
  stream is drained.
- **ingest**: ``destkit serve --queue URL --no-worker``, ``POST /v1/batch`` of 100.
- **drain with 1, 2, 4 workers**: the ingest node fills the stream with ``events`` while N
  ``destkit worker`` processes are stopped (``SIGSTOP``); they are continued and timed until the
  loopback sink (a separate process that answers 200 at once and only counts) has them all.
  Only the workers, redis-server and the sink run while timed: the workers' own scaling.
- **end to end (concurrent) with 1, 2, 4 workers**: N workers are started (all up before
  timing), then ``events`` are posted through the ingest node and timed until the sink has them
  all: ingest and the load generator share the machine with the workers.

Each worker run also reports the CPU every process used while timed (cores), read from
``/proc`` (see ``_bench_redis_procs``).

Everything runs ``--rounds`` times, interleaved (1, 2 and 4 workers in a rotating order): the
machine is shared, so each ratio is taken within one round and the median over rounds is
reported, with every round's ratio beside it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import _bench_redis_procs as procs

from sdk.queue._redis_keys import JOB_FIELD, pack_job

BATCH = 100


async def _xadd_limit(url: str, events: int, clients: int, body: bytes) -> float:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    todo = list(range(0, events, BATCH))
    now = time.time()

    async def one() -> None:
        while todo:
            start = todo.pop()
            pipe = client.pipeline(transaction=False)
            for i in range(start, start + BATCH):
                job = pack_job(f"{i:020d}", "user-1", f"m-{i}", 0, now, body)
                pipe.xadd(f"bench:s:{i % 8}", {JOB_FIELD: job})
            await pipe.execute()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return events / elapsed


async def _script_limit(url: str, events: int, clients: int, body: bytes) -> float:
    """The same XADDs as one ``EVALSHA`` of 100 a round trip (destkit's ENQUEUE script)."""
    import redis.asyncio as aioredis

    from sdk.queue._redis_scripts import ENQUEUE

    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    script = client.register_script(ENQUEUE)
    # counters, destinations, pending, then the streams (as ingest calls it)
    keys = ["bench:c", "bench:d", "bench:p", *(f"bench:s:{lane}" for lane in range(8))]
    todo = list(range(0, events, BATCH))
    now = time.time()

    async def one() -> None:
        while todo:
            start = todo.pop()
            args: list[Any] = [b"[]", b'["Sandbox"]']
            for i in range(start, start + BATCH):
                args += (i % 8 + 4, pack_job(f"{i:020d}", "user-1", f"m-{i}", 0, now, body))
            await script(keys=keys, args=args)

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
            ms, seq = ids[-1].split(b"-")
            pipe = client.pipeline(transaction=False)
            pipe.xack(stream, "g", *ids)
            pipe.xtrim(stream, minid=f"{ms.decode()}-{int(seq) + 1}")
            await pipe.execute()
            done += len(ids)

    await asyncio.gather(*(lane(s) for s in streams))
    elapsed = time.perf_counter() - started
    await client.flushdb()
    await client.aclose()
    return done / elapsed


def _median(values: list[float]) -> float:
    return statistics.median(values)


#: The processes whose CPU a run reports, in the table's order.
ROLES = ("workers", "workers waiting", "ingest", "redis-server", "sink", "bench", "others")


def run(
    url: str,
    events: int,
    clients: int,
    tmp: Path,
    bench: Any,
    rounds: int = 3,
    only: tuple[str, ...] = ("limits", "ingest", "drain", "concurrent"),
    counts: tuple[int, ...] = (1, 2, 4),
) -> dict[str, Any]:
    """Every Redis measurement (or those in ``only``), ``rounds`` times interleaved (the
    machine is shared: a ratio is taken within a round, and the median over rounds is
    reported); ``bench`` is bench_serve (its load generator and sink)."""
    import json

    body = json.dumps(bench._message(1)).encode()
    result: dict[str, Any] = {"events": events, "clients": clients, "queue": url, "rounds": rounds}
    result["counts"] = list(counts)
    series: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        series.setdefault(name, []).append(value)

    sink, sink_port = bench._sink(record_ids=False)
    config = bench._config(tmp / "redis.yaml", f"http://127.0.0.1:{sink_port}", "normal")
    argv = ["--config", str(config), "--queue", url]
    try:
        ingest, first = procs.cli(["serve", *argv, "--port", "0", "--no-worker"], "listening on ")
        port = int(first.rsplit(":", 1)[1])
        pids = {"ingest": ingest.pid, "sink": sink.pid}
        redis_pid = procs.redis_pid(url)
        if redis_pid is not None:
            pids["redis-server"] = redis_pid
        fixed = procs.Fixed(pids, port, sink_port, argv)
        try:
            for round_ in range(rounds):
                if "limits" in only or "ingest" in only:
                    xadd = asyncio.run(_xadd_limit(url, events, clients, body))
                    note("xadd_limit_per_s", xadd)
                    note("xreadgroup_xack_limit_per_s", asyncio.run(_read_ack_limit(url, events)))
                    note(
                        "script_xadd_limit_per_s",
                        asyncio.run(_script_limit(url, events, clients, body)),
                    )
                if "ingest" in only:
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
                    procs.run_workers(fixed, 1, 0, bench, clients, False, "x", backlog=events)
                # each worker count in a different order each round
                turn = round_ % len(counts)
                order = [*counts[turn:], *counts[:turn]]
                for kind in ("drain", "concurrent"):
                    if kind not in only:
                        continue
                    runs = {
                        n: procs.run_workers(
                            fixed, n, events, bench, clients, kind == "drain", f"{kind}{n}r{round_}"
                        )
                        for n in order
                    }
                    for n, one in runs.items():
                        name = f"{kind}_{n}"
                        note(f"{name}_events_per_s", one.events_per_s)
                        note(f"{name}_ratio", one.events_per_s / runs[counts[0]].events_per_s)
                        note(f"{name}_events_per_worker_cpu_s", one.events_per_worker_cpu_s)
                        for role, cores in one.cores.items():
                            note(f"{name}_cores_{role}", cores)
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


def report(r: dict[str, Any], url: str) -> None:
    """The Markdown tables of :func:`run`'s medians (the README's "Scaling out" tables)."""
    print(
        f"destkit serve/worker on Redis ({url}), {r['events']} events, {r['clients']} clients, "
        f"{r['rounds']} rounds (medians; ratios within a round), "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    print()
    print("| measurement | events/s | ratio | rounds (ratio) | events per worker CPU-s |")
    print("|---|---:|---:|---|---:|")
    if "xadd_limit_per_s" in r:
        xadd = r["xadd_limit_per_s"]
        print(
            f"| Redis limit: pipelined XADD, 100 a round trip (redis-py) | {xadd:,.0f} | 1.00 | | |"
        )
        script = r["script_xadd_limit_per_s"]
        print(
            f"| Redis limit: the same 100 XADDs in one EVALSHA (destkit's script) | "
            f"{script:,.0f} | {script / xadd:.2f} | | |"
        )
    if "ingest_ratio" in r:
        rounds = ", ".join(f"{x:.2f}" for x in r["ingest_ratio_rounds"])
        print(
            f"| destkit ingest (`serve --no-worker`, `/v1/batch` of 100) | "
            f"{r['ingest_events_per_s']:,.0f} | **{r['ingest_ratio']:.2f}** | {rounds} | |"
        )
    if "xreadgroup_xack_limit_per_s" in r:
        print(
            f"| Redis limit: XREADGROUP 100 + XACK/XTRIM | "
            f"{r['xreadgroup_xack_limit_per_s']:,.0f} | | | |"
        )
    labels = {
        "drain": "drain: queued backlog → Redis → {n} `destkit worker` → loopback sink",
        "concurrent": "end to end: ingest → Redis → {n} `destkit worker` → loopback sink",
    }
    cores: list[str] = []
    for kind, label in labels.items():
        for n in r["counts"]:
            name = f"{kind}_{n}"
            if f"{name}_ratio" not in r:
                continue
            rounds = ", ".join(f"{x:.2f}" for x in r[f"{name}_ratio_rounds"])
            print(
                f"| {label.format(n=n)} | {r[f'{name}_events_per_s']:,.0f} | "
                f"**{r[f'{name}_ratio']:.2f}** | {rounds} | "
                f"{r[f'{name}_events_per_worker_cpu_s']:,.0f} |"
            )
            used = [f"{r.get(f'{name}_cores_{role}', 0.0):.2f}" for role in ROLES]
            cores.append(f"| {kind}, {n} worker{'s' if n > 1 else ''} | {' | '.join(used)} |")
    if cores:
        print()
        print(
            "CPU while timed (cores: CPU-seconds per second, medians; workers waiting = "
            "runnable, waiting for a CPU; bench = load generator; others = the rest of the "
            f"machine, of {os.cpu_count()} cores)"
        )
        print()
        print(f"| run | {' | '.join(ROLES)} |")
        print(f"|---|{'---:|' * len(ROLES)}")
        print("\n".join(cores))
