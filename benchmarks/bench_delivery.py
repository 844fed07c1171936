"""Delivery throughput and memory: destkit's runtime against raw httpx, same server, same run.

Both sides post the same journey events to the sandbox destination, which runs in a separate
process (``destkit sandbox``) so that the server does not share the client's GIL:

- **unbatched**: one request per event, 8 requests in flight. destkit: ``AsyncDelivery`` with
  ``batching=False, concurrency=8``; reference: an ``httpx.AsyncClient`` posting each event under
  a semaphore of 8, checking the status and nothing else.
- **batched**: 100 events per request (the sandbox connector's batch limit). destkit:
  ``send_many`` with batching; reference: httpx posting ``{"batch": [...]}`` chunks of 100.

What destkit adds per event is the price measured here: routing, mapping, the retry policy, the
rate limiter, redaction and a complete lifecycle record (request, response, timings) per event.
Memory is the tracemalloc peak while delivering (with the results kept, as a caller would).

Run: ``python benchmarks/bench_delivery.py [--events N] [--repeat R] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

import sdk
from connectors.sandbox import destination as sandbox_destination

CONCURRENCY = 8
BATCH = 100


def _events(count: int) -> list[dict[str, Any]]:
    space = sdk.Space("spa_bench")
    step = space.step("First Purchase", "Opened Email", destinations=["Sandbox"])
    return [step.event("track", user_id=f"user-{i}").to_wire() for i in range(count)]


def _start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sdk.cli", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if "listening on " not in first:
        process.kill()
        raise SystemExit(f"bench_delivery: the sandbox did not start: {first!r}")
    stream = process.stdout
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()
    return process, first.rsplit(" ", 1)[-1]


async def _destkit(url: str, events: list[dict[str, Any]], batching: bool) -> list[Any]:
    async with sdk.AsyncDelivery(
        sandbox_destination,
        {"endpoint": url},
        concurrency=CONCURRENCY,
        batching=batching,
    ) as delivery:
        lifecycles = await delivery.send_many(events)
    failed = [lc for lc in lifecycles if not lc.delivered]
    if failed:
        raise SystemExit(f"bench_delivery: destkit failed {len(failed)} events: {failed[0].error}")
    return lifecycles


async def _raw_httpx(url: str, events: list[dict[str, Any]], batching: bool) -> list[Any]:
    semaphore = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY * 2)
    headers = {"Authorization": "Bearer sandbox-secret-key"}
    async with httpx.AsyncClient(base_url=url, limits=limits, headers=headers) as client:

        async def post(path: str, body: Any) -> httpx.Response:
            async with semaphore:
                response = await client.post(path, json=body)
                response.raise_for_status()
                return response

        if batching:
            chunks = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
            jobs = [post("/v1/batch", {"batch": chunk}) for chunk in chunks]
        else:
            jobs = [post("/v1/event", event) for event in events]
        return list(await asyncio.gather(*jobs))


Runner = Callable[[str, list[dict[str, Any]], bool], Awaitable[list[Any]]]


def _rate(runner: Runner, url: str, events: list[dict[str, Any]], batching: bool) -> float:
    gc.collect()
    start = time.perf_counter()
    asyncio.run(runner(url, events, batching))
    return len(events) / (time.perf_counter() - start)


def _peak_bytes(runner: Runner, url: str, events: list[dict[str, Any]], batching: bool) -> int:
    gc.collect()
    tracemalloc.start()
    asyncio.run(runner(url, events, batching))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=4000, help="events per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (best is kept)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)

    events = _events(args.events)
    process, url = _start_server()
    rows: list[dict[str, Any]] = []
    try:
        for batching in (False, True):
            mode = "batched (100/request)" if batching else "unbatched (8 in flight)"
            _rate(_destkit, url, events[:200], batching)  # warm-up: imports, connections
            _rate(_raw_httpx, url, events[:200], batching)
            ours = max(_rate(_destkit, url, events, batching) for _ in range(args.repeat))
            ref = max(_rate(_raw_httpx, url, events, batching) for _ in range(args.repeat))
            sample = events[: min(len(events), 1000)]
            our_mem = _peak_bytes(_destkit, url, sample, batching) / len(sample)
            ref_mem = _peak_bytes(_raw_httpx, url, sample, batching) / len(sample)
            rows.append(
                {
                    "mode": mode,
                    "destkit_events_per_s": round(ours),
                    "httpx_events_per_s": round(ref),
                    "ratio": round(ours / ref, 2),
                    "destkit_bytes_per_event": round(our_mem),
                    "httpx_bytes_per_event": round(ref_mem),
                }
            )
    finally:
        process.terminate()
        process.wait(timeout=10)

    if args.json:
        print(json.dumps({"events": args.events, "rows": rows}, indent=2))
        return 0
    print(f"delivery to the sandbox over loopback, {args.events} events, best of {args.repeat}")
    print()
    print("| mode | destkit ev/s | raw httpx ev/s | ratio | destkit KB/ev | httpx KB/ev |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['mode']} | {row['destkit_events_per_s']:,} | {row['httpx_events_per_s']:,} "
            f"| {row['ratio']:.2f}x | {row['destkit_bytes_per_event'] / 1024:.1f} "
            f"| {row['httpx_bytes_per_event'] / 1024:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
