"""destkit against its peers, one loopback sink, one run, rows interleaved; prints ratios.

The sink (``benchmarks/_sink.py``, a minimal asyncio HTTP server answering ``200 {}``) runs in
its own process; every row runs in a fresh subprocess (so peak RSS is honest and no row warms
another's caches), and rounds interleave the rows so that a change in machine load hits all
of them alike; the best round of each row is kept.

- **batched**: destkit ``AsyncDelivery.stream`` with the ``segment`` connector (dicts ->
  validated -> routed -> mapped -> serialised -> 200; batches of up to 500 / 500 KB) on the
  default carrier (``http="auto"``: the lean HTTP/1.1 one) and on aiohttp directly, next to
  segment-analytics-python (``upload_size`` 100 and 500) and raw httpx posting batches of 500
  serialised before the clock starts (the floor).
- **per event**: destkit ``webhook`` through ``stream`` (one event per request, concurrency 8)
  on each HTTP carrier: the default (``http="auto"``: the lean HTTP/1.1 carrier on httptools
  under ``ctx.http``), ``"aiohttp"`` (aiohttp directly under ``ctx.http``), ``"httpx-aiohttp"``
  (the httpx-aiohttp transport under httpx's client) and ``"httpx"``; next to aiohttp (8 in
  flight) and raw httpx (8 in flight).
- **list sync**: ``destkit sync`` of N users (JSON Lines, each an email) through
  ``facebook_custom_audiences`` and ``google_ads_customer_match``: seconds and peak RSS.

Run: ``python benchmarks/bench_peers.py [--events N] [--per-event N] [--lists 100000,1000000]
[--rounds R] [--only per-event] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

CONCURRENCY = 8
BATCH = 500
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _event(i: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{i}",
        "messageId": f"bench-{i}",
        "properties": {"revenue": 12.5, "sku": "sku-1", "quantity": 2},
        "context": {"ip": "10.0.0.1", "library": {"name": "bench", "version": "1"}},
    }


def _events(count: int) -> Iterator[dict[str, Any]]:
    return (_event(i) for i in range(count))


# -- rows (each runs in its own subprocess) -------------------------------------------------


async def _destkit_stream(
    destination: Any, settings: dict[str, Any], count: int, http: str = "aiohttp", **kw: Any
) -> int:
    from sdk import AsyncDelivery

    delivered = 0
    async with AsyncDelivery(destination, settings, http=http, **kw) as delivery:
        async for result in delivery.stream(_events(count)):
            delivered += result.delivered
    return delivered


def _batched(url: str, count: int, http: str) -> int:
    from connectors.segment import destination

    settings = {"write_key": "bench-key", "endpoint": url}
    return asyncio.run(_destkit_stream(destination, settings, count, http=http))


def row_destkit_batched(url: str, count: int) -> int:
    return _batched(url, count, "auto")  # the default: stream() on the lean HTTP/1.1 carrier


def row_destkit_batched_aiohttp(url: str, count: int) -> int:
    return _batched(url, count, "aiohttp")  # the direct aiohttp carrier (this row until 12-07)


def _webhook(url: str, count: int, http: str) -> int:
    from connectors.webhook import destination

    settings = {"url": f"{url}/hook"}
    return asyncio.run(
        _destkit_stream(
            destination, settings, count, http=http, batching=False, concurrency=CONCURRENCY
        )
    )


def row_destkit_webhook(url: str, count: int) -> int:
    return _webhook(url, count, "auto")  # the default: stream() on the lean HTTP/1.1 carrier


def row_destkit_webhook_aiohttp(url: str, count: int) -> int:
    return _webhook(url, count, "aiohttp")  # the direct aiohttp carrier


def row_destkit_webhook_httpx_aiohttp(url: str, count: int) -> int:
    return _webhook(url, count, "httpx-aiohttp")


def row_destkit_webhook_httpx(url: str, count: int) -> int:
    return _webhook(url, count, "httpx")


def _segment_python(url: str, count: int, upload_size: int) -> int:
    from segment.analytics.client import Client

    errors: list[Any] = []
    client = Client(
        write_key="bench-key",
        host=url,
        upload_size=upload_size,
        max_queue_size=count + 1,
        on_error=lambda error, batch: errors.append(error),
        upload_interval=0.01,
    )
    for i in range(count):
        event = _event(i)
        client.track(
            user_id=event["userId"],
            event=event["event"],
            properties=event["properties"],
            context=event["context"],
            message_id=event["messageId"],
        )
    client.flush()
    client.join()
    return count - len(errors) * upload_size


def row_segment_100(url: str, count: int) -> int:
    return _segment_python(url, count, 100)


def row_segment_500(url: str, count: int) -> int:
    return _segment_python(url, count, 500)


def _bodies(count: int) -> list[bytes]:
    events = list(_events(count))
    return [
        json.dumps({"batch": events[i : i + BATCH], "sentAt": "2026-01-01T00:00:00Z"}).encode()
        for i in range(0, count, BATCH)
    ]


async def _httpx_post(url: str, bodies: list[bytes]) -> int:
    import httpx

    semaphore = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY * 2)
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:

        async def post(body: bytes) -> None:
            async with semaphore:
                (await client.post(url, content=body)).raise_for_status()

        await asyncio.gather(*(post(body) for body in bodies))
    return len(bodies)


def row_httpx_batched(url: str, count: int) -> tuple[int, float]:
    bodies = _bodies(count)  # serialised before the clock starts: the floor
    start = time.perf_counter()
    asyncio.run(_httpx_post(f"{url}/v1/batch", bodies))
    return count, time.perf_counter() - start


def row_httpx_event(url: str, count: int) -> int:
    bodies = [json.dumps(e).encode() for e in _events(count)]
    asyncio.run(_httpx_post(f"{url}/hook", bodies))
    return count


async def _aiohttp_events(url: str, count: int) -> int:
    import aiohttp

    semaphore = asyncio.Semaphore(CONCURRENCY)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def post(event: dict[str, Any]) -> None:
            async with semaphore, session.post(url, data=json.dumps(event)) as response:
                await response.read()
                response.raise_for_status()

        await asyncio.gather(*(post(event) for event in _events(count)))
    return count


def row_aiohttp_event(url: str, count: int) -> int:
    return asyncio.run(_aiohttp_events(f"{url}/hook", count))


def _sync(slug: str, settings: dict[str, str], users: str) -> int:
    from sdk.cli import main

    argv = ["sync", "--destination", slug, "--audience", "Bench Users", "--users", users, "--json"]
    for name, value in settings.items():
        argv += ["--setting", f"{name}={value}"]
    code = main(argv)
    if code != 0:
        raise SystemExit(f"bench_peers: destkit sync of {slug} exited {code}")
    return int(users.rsplit("-", 1)[-1].split(".")[0])


def row_facebook_list(url: str, users: str) -> int:
    settings = {"access_token": "bench-token", "audience_id": "1234", "endpoint": url}
    return _sync("facebook_custom_audiences", settings, users)


def row_google_list(url: str, users: str) -> int:
    settings = {
        "developer_token": "bench-dev",
        "client_id": "bench-client",
        "client_secret": "bench-secret",
        "refresh_token": "bench-refresh",
        "customer_id": "1234567890",
        "user_list_id": "42",
        "endpoint": url,
    }
    return _sync("google_ads_customer_match", settings, users)


_IMPORTS = {
    "destkit": [
        "sdk",
        "connectors.segment",
        "connectors.webhook",
        "httpx_aiohttp",
        "sdk.transport._http_direct",  # the direct carrier's aiohttp, imported on first use
        "sdk.transport._http_h1",  # the lean carrier, imported on first use
    ],
    "segment": ["segment.analytics.client"],
    "httpx": ["httpx"],
    "aiohttp": ["aiohttp"],
    "facebook": ["sdk.cli._sync", "sdk.delivery", "connectors.facebook_custom_audiences"],
    "google": ["sdk.cli._sync", "sdk.delivery", "connectors.google_ads_customer_match"],
}

ROWS = {
    name[len("row_") :]: function for name, function in globals().items() if name.startswith("row_")
}


def _child(row: str, url: str, arg: str) -> None:
    """Run one row here and print ``{"events", "seconds", "rss_mb", "cpu_s"}``."""
    sys.path.insert(0, ROOT)
    function: Any = ROWS[row]
    for module in _IMPORTS[row.split("_")[0]]:  # imports are not what is measured
        importlib.import_module(module)
    start = time.perf_counter()
    done = function(url, arg if row.endswith("_list") else int(arg))
    seconds = time.perf_counter() - start
    if isinstance(done, tuple):
        done, seconds = done
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb = usage.ru_maxrss / 1024
    # CPU seconds of this process (imports included): steadier than wall time on a busy machine.
    cpu_s = round(usage.ru_utime + usage.ru_stime, 3)
    print(
        json.dumps({"events": done, "seconds": seconds, "rss_mb": round(rss_mb, 1), "cpu_s": cpu_s})
    )


# -- the parent: sink, rounds, table -------------------------------------------------------


def _run(row: str, url: str, arg: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", row, "--url", url, "--arg", arg],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench_peers: row {row} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _users_file(folder: str, count: int) -> str:
    path = os.path.join(folder, f"users-{count}.jsonl")
    with open(path, "w") as file:
        for i in range(count):
            file.write(f'{{"user_id": "user-{i}", "email": "user{i}@example.com"}}\n')
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="destkit against its peers, one loopback sink.")
    parser.add_argument("--events", type=int, default=50_000, help="events per batched row")
    parser.add_argument("--per-event", type=int, default=3_000, help="events per per-event row")
    parser.add_argument("--lists", default="100000,1000000", help="list sizes (comma-separated)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (best kept)")
    parser.add_argument(
        "--only", choices=["all", "per-event"], default="all", help="which rows to run"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.url, args.arg)
        return 0
    sink = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "benchmarks", "_sink.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None
    url = sink.stdout.readline().split()[-1]
    best: dict[str, dict[str, Any]] = {}
    per_event = [
        ("destkit_webhook", args.per_event),
        ("aiohttp_event", args.per_event),
        ("destkit_webhook_aiohttp", args.per_event),
        ("destkit_webhook_httpx_aiohttp", args.per_event),
        ("destkit_webhook_httpx", args.per_event),
        ("httpx_event", args.per_event),
    ]
    batched = [
        ("destkit_batched", args.events),
        ("destkit_batched_aiohttp", args.events),
        ("segment_100", args.events),
        ("segment_500", args.events),
        ("httpx_batched", args.events),
    ]
    rows = per_event if args.only == "per-event" else batched + per_event
    sizes = [int(n) for n in args.lists.split(",") if n.strip()] if args.only == "all" else []
    try:
        with tempfile.TemporaryDirectory() as folder:
            files = {n: _users_file(folder, n) for n in sizes}
            for _ in range(args.rounds):
                for row, count in rows:
                    result = _run(row, url, str(count))
                    result["rate"] = result["events"] / result["seconds"]
                    if row not in best or result["rate"] > best[row]["rate"]:
                        best[row] = result
                for n in sizes:
                    for row in ("facebook_list", "google_list"):
                        result = _run(row, url, files[n])
                        result["rate"] = result["events"] / result["seconds"]
                        key = f"{row}_{n}"
                        if key not in best or result["seconds"] < best[key]["seconds"]:
                            best[key] = result
    finally:
        sink.kill()
    _report(best, sizes, as_json=args.json)
    return 0


def _report(best: dict[str, dict[str, Any]], sizes: list[int], *, as_json: bool) -> None:
    rate = {name: row["rate"] for name, row in best.items()}
    ratios: dict[str, float] = {}
    if "destkit_batched" in rate:
        segment_best = max(rate["segment_100"], rate["segment_500"])
        ratios["batched_vs_segment_python_best"] = rate["destkit_batched"] / segment_best
        ratios["batched_vs_raw_httpx"] = rate["destkit_batched"] / rate["httpx_batched"]
        ratios["batched_aiohttp_vs_raw_httpx"] = (
            rate["destkit_batched_aiohttp"] / rate["httpx_batched"]
        )
    for carrier in ("", "_aiohttp", "_httpx_aiohttp", "_httpx"):
        ratios[f"webhook{carrier}_vs_aiohttp"] = (
            rate[f"destkit_webhook{carrier}"] / rate["aiohttp_event"]
        )
    ratios["webhook_vs_raw_httpx"] = rate["destkit_webhook"] / rate["httpx_event"]
    if len(sizes) >= 2:
        small, large = min(sizes), max(sizes)
        for row in ("facebook_list", "google_list"):
            ratios[f"{row}_rss_{large}_vs_{small}"] = (
                best[f"{row}_{large}"]["rss_mb"] / best[f"{row}_{small}"]["rss_mb"]
            )
    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    load = os.getloadavg()
    if as_json:
        print(json.dumps({"rows": best, "ratios": ratios, "machine": machine, "load": load}))
        return
    print(f"machine: {machine}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| path | events/s | seconds | peak RSS MB |")
    print("|---|---:|---:|---:|")
    for name, row in best.items():
        print(f"| {name} | {row['rate']:,.0f} | {row['seconds']:.2f} | {row['rss_mb']:,.0f} |")
    print()
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
