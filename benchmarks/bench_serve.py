"""``destkit serve`` throughput and crash safety, each next to its limit measured in the same run.

- **ingest**: events/s accepted by ``POST /v1/batch`` (100 messages a request, ``--clients``
  keep-alive connections) into a server with no workers, with ``destkit serve``'s default
  ingest processes (one a CPU, at most 4; or ``--ingest-processes N``) and with 1, next to the
  raw SQLite limit: the same
  rows (same schema, same WAL/synchronous settings) inserted 100 per commit by one thread, both
  with the multi-row INSERT statements the queue uses and with ``executemany``, each before and
  after ingest; the limit (ratio 1.00) is the faster way's mean.
- **end to end**: events/s from the first request to the last event acknowledged by a loopback
  sink (a separate process that answers 200 at once), with the workers running: in worker
  processes beside the server as ``destkit serve`` runs them on SQLite (one a CPU, at most 4),
  or ``--worker-processes N`` (0: in the server's own process, the shape before worker
  processes); the server's CPU counts its worker processes'.
- **soak**: ``--restarts`` kill -9 of the server under load, then a clean restart; reports the
  events that got a 200 and never reached the sink (must be 0) and the duplicates (allowed:
  delivery is at least once).

The server, the sink and the load generator are separate processes. The load generator is a raw
asyncio HTTP/1.1 client posting pre-encoded bodies, so that it costs little CPU beside the server.

Run: ``python benchmarks/bench_serve.py [--events N] [--durability normal|full]
[--restarts N] [--worker-processes N] [--json]`` (``--restarts 100`` for the README figure).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WRITE_KEY = "bench-key"
BATCH = 100
AUTH = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()


def _message(i: int, tag: str = "m") -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{i % 1000}",
        "messageId": f"{tag}-{i}",
        "timestamp": "2026-12-01T10:00:00.000Z",
        "properties": {"revenue": 19.99, "currency": "EUR", "sku": f"sku-{i % 50}"},
        "context": {"library": {"name": "bench", "version": "1"}},
    }


def _request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {AUTH}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Poster(asyncio.Protocol):
    """One keep-alive connection of the load generator: writes the next pre-built request once
    the last one's response is in, and reads a response by its status line and
    ``Content-Length`` alone (the server's answers are small and never chunked)."""

    def __init__(self, requests: list[bytes], counts: list[int], done: asyncio.Future[None]):
        self.requests = requests  # shared by every connection, taken from the end
        self.counts = counts  # [ok, failed], shared
        self.done = done
        self.buffer = b""
        self.waiting = False  # a request is out and its response not yet in
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if self.requests:
            self.waiting = True
            self.transport.write(self.requests.pop())
        else:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            at = buffer.find(b"\r\nContent-Length:", 0, end)
            if at < 0:
                at = buffer.lower().find(b"\r\ncontent-length:", 0, end)
            length = int(buffer[at + 17 : buffer.find(b"\r\n", at + 17, end + 2)]) if at >= 0 else 0
            if len(buffer) < end + 4 + length:
                break
            self.counts[0 if buffer.startswith(b"HTTP/1.1 200") else 1] += 1
            buffer = buffer[end + 4 + length :]
            self.waiting = False
            self._send()
        self.buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if self.waiting:
            self.done.set_exception(ConnectionError("bench_serve: the server closed a connection"))
        else:
            self.done.set_result(None)


def _factory(
    requests: list[bytes], counts: list[int], done: asyncio.Future[None]
) -> Callable[[], _Poster]:
    return lambda: _Poster(requests, counts, done)


async def _post_all(port: int, requests: list[bytes], clients: int) -> tuple[int, int]:
    """Send every request over ``clients`` keep-alive connections, one request in flight on
    each; (ok, failed) counts. A protocol, not streams: the load generator runs beside the
    server on the same cores, so its CPU a request is kept small."""
    queue = list(reversed(requests))
    counts = [0, 0]
    loop = asyncio.get_running_loop()
    finished: list[asyncio.Future[None]] = []
    for _ in range(clients):
        done: asyncio.Future[None] = loop.create_future()
        finished.append(done)
        await loop.create_connection(_factory(queue, counts, done), "127.0.0.1", port)
    await asyncio.gather(*finished)
    return counts[0], counts[1]


def _config(path: Path, endpoint: str, durability: str) -> Path:
    path.write_text(
        f"sources:\n  - name: bench\n    write_key: {WRITE_KEY}\n"
        f"destinations:\n  - name: Sandbox\n    connector: sandbox\n"
        f'    settings: {{endpoint: "{endpoint}"}}\n'
        f"delivery:\n  durability: {durability}\n  max_backlog: 100000000\n"
        f"  shutdown_grace: 2s\n"
    )
    return path


def _spawn(argv: list[str]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if "listening on " not in first:
        process.kill()
        raise SystemExit(f"bench_serve: {argv[2:4]} did not start: {first!r}")
    return process, int(first.rsplit(":", 1)[1])


#: ``--worker-processes N`` of the server (0: its workers in its own process, as before worker
#: processes), for a same-run comparison; none given: as destkit serve on SQLite chooses.
PROCESSES: list[str] = []


#: ``--ingest-processes N`` of the server; none given: as destkit serve chooses.
INGEST: list[str] = []


def _serve(
    config: Path, data: Path, workers: bool, ingest: int | None = None
) -> tuple[subprocess.Popen[str], int]:
    argv = [sys.executable, __file__, "--child-serve", str(config), str(data), *PROCESSES]
    argv += INGEST if ingest is None else ["--ingest-processes", str(ingest)]
    return _spawn(argv + ([] if workers else ["--no-workers"]))


# -- children: the server without workers, and the sink -----------------------------------


def _child_serve(
    config: str, data: str, workers: bool, processes: int | None, ingest: int | None
) -> None:
    from sdk.cli._serve import default_ingest_processes
    from sdk.service import Service, ServiceLog, load_config, settle_collector

    if processes is None:  # as destkit serve chooses on SQLite
        processes = min(os.cpu_count() or 1, 4)
    if ingest is None:
        ingest = default_ingest_processes()

    def listening(host: str, port: int) -> None:
        print(f"listening on http://{host}:{port}", flush=True)

    with open(os.devnull, "w") as quiet:
        service = Service(
            load_config(config),
            data,
            log=ServiceLog(quiet),
            workers=workers,
            worker_processes=processes,
            ingest_processes=ingest,
        )
        settle_collector()  # as destkit serve does
        asyncio.run(service.serve("127.0.0.1", 0, listening))


def _child_sink(record_ids: bool) -> None:
    """Answers 200 to every POST; ``GET /count`` gives the events received, ``GET /ids`` the
    messageIds (with ``record_ids``)."""
    from sdk.service._http import HttpServer, Request, Response

    count = 0
    ids: list[str] = []

    async def handle(request: Request) -> Response:
        nonlocal count
        if request.method == "GET":
            if request.path == "/ids":
                return Response(200, json.dumps(ids).encode())
            return Response(200, str(count).encode())
        if record_ids:
            document = json.loads(request.body)
            batch = document.get("batch", [document])
            ids.extend(m["messageId"] for m in batch)
            count += len(batch)
        else:
            count += request.body.count(b'"messageId"')
        return Response(200, b'{"ok": true}')

    async def main() -> None:
        server = HttpServer(handle, max_body=8 * 1024 * 1024)
        _, port = await server.start("127.0.0.1", 0)
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _sink(record_ids: bool) -> tuple[subprocess.Popen[str], int]:
    return _spawn([sys.executable, __file__, "--child-sink"] + (["--ids"] if record_ids else []))


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the server's worker process)."""
    total = _cpu(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        with contextlib.suppress(OSError):
            total += _tree_cpu(int(child))
    return total


#: One keep-alive connection per sink port: polling the sink's count every 20 ms with a new
#: client each time (httpx.get builds a client and its TLS context) cost the load generator's
#: process a tenth of a core or more, taken from the server measured beside it.
_POLLERS: dict[int, http.client.HTTPConnection] = {}


def _get(port: int, path: str) -> bytes:
    for _ in range(2):
        connection = _POLLERS.get(port)
        if connection is None:
            connection = _POLLERS[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path)
            return connection.getresponse().read()
        except (OSError, http.client.HTTPException):
            connection.close()
            del _POLLERS[port]
    raise SystemExit(f"bench_serve: the sink on port {port} does not answer")


# -- the measurements --------------------------------------------------------------------


def raw_sqlite(events: int, durability: str, body: bytes, *, multirow: bool = True) -> float:
    """Rows/s inserting the same rows as ingest, 100 per commit, one thread: with the
    multi-row INSERT statements the queue itself uses, or ``executemany`` (``multirow=False``;
    which is faster varies from run to run, so both are measured and the faster is the limit)."""
    from sdk.queue._sqlite import SCHEMA, _insert

    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "raw.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        conn.executescript(SCHEMA)
        insert = (
            "INSERT INTO jobs (dest, lane, user_key, message_id, enq, body) VALUES (?,?,?,?,?,?)"
        )
        now = time.time()
        started = time.perf_counter()
        for start in range(0, events, BATCH):
            rows = [
                ("Sandbox", i % 8, f"user-{i % 1000}", f"m-{i}", now, body)
                for i in range(start, start + BATCH)
            ]
            conn.execute("BEGIN")
            if multirow:
                _insert(conn, [value for row in rows for value in row])
            else:
                conn.executemany(insert, rows)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
    return events / elapsed


def _bodies(events: int, tag: str) -> list[bytes]:
    return [
        _request(
            "/v1/batch",
            json.dumps({"batch": [_message(i, tag) for i in range(s, s + BATCH)]}).encode(),
        )
        for s in range(0, events, BATCH)
    ]


def ingest(
    events: int,
    durability: str,
    clients: int,
    tmp: Path,
    processes: int | None = None,
    round_: int = 0,
) -> tuple[float, float]:
    """(events/s, events per CPU-second of the server and its ingest processes), with
    ``processes`` ingest processes (None: the default)."""
    config = _config(tmp / "ingest.yaml", "http://127.0.0.1:9", durability)
    data = tmp / f"ingest-data-{processes}-{clients}-{round_}"
    server, port = _serve(config, data, workers=False, ingest=processes)
    try:
        asyncio.run(_post_all(port, _bodies(BATCH * clients, "warm"), clients))
        requests = _bodies(events, "i")
        cpu = _tree_cpu(server.pid)
        started = time.perf_counter()
        ok, failed = asyncio.run(_post_all(port, requests, clients))
        elapsed = time.perf_counter() - started
        cpu = _tree_cpu(server.pid) - cpu
    finally:
        server.terminate()
        server.wait(30)
    if failed:
        raise SystemExit(f"bench_serve: ingest: {failed} requests were not answered 200")
    return ok * BATCH / elapsed, ok * BATCH / max(cpu, 0.01)


def end_to_end(events: int, durability: str, clients: int, tmp: Path) -> tuple[float, float]:
    """(events/s, events per CPU-second of the server)."""
    sink, sink_port = _sink(record_ids=False)
    config = _config(tmp / "e2e.yaml", f"http://127.0.0.1:{sink_port}", durability)
    server, port = _serve(config, tmp / "e2e-data", workers=True)
    try:
        requests = _bodies(events, "e")
        cpu = _tree_cpu(server.pid)
        started = time.perf_counter()
        asyncio.run(_post_all(port, requests, clients))
        while int(_get(sink_port, "/count")) < events:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu = _tree_cpu(server.pid) - cpu
    finally:
        server.terminate()
        server.wait(30)
        sink.kill()
        sink.wait()
    return events / elapsed, events / max(cpu, 0.01)


def engine_alone(events: int) -> tuple[float, float]:
    """The peer of end to end: the SDK's engine as the workers call it (``stream`` of one
    claimed batch of 100 at a time, ``record="failures"``, one attempt, aiohttp, 8 at once) to
    the same kind of sink, in this process; (events/s, events per CPU-second)."""
    from connectors.sandbox import destination
    from sdk import AsyncDelivery, RetryPolicy

    sink, sink_port = _sink(record_ids=False)
    messages = [_message(i, "g") for i in range(events)]

    async def run() -> None:
        settings = {"endpoint": f"http://127.0.0.1:{sink_port}"}
        retry = RetryPolicy(max_attempts=1)
        async with AsyncDelivery(
            destination, settings, retry=retry, concurrency=8, http="aiohttp"
        ) as delivery:
            chunks = [messages[s : s + BATCH] for s in range(0, events, BATCH)]

            async def lane() -> None:
                while chunks:
                    chunk = [dict(m) for m in chunks.pop()]
                    stream = delivery.stream(chunk, window=len(chunk), linger=0.0)
                    async for result in stream:
                        if not result.delivered:
                            raise SystemExit(f"bench_serve: engine: {result.error}")

            await asyncio.gather(*(lane() for _ in range(8)))

    try:
        cpu = time.process_time()
        started = time.perf_counter()
        asyncio.run(run())
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        sink.kill()
        sink.wait()
    return events / elapsed, events / max(cpu, 0.01)


def soak(restarts: int, durability: str, tmp: Path, seed: int = 1) -> dict[str, int]:
    """kill -9 the server ``restarts`` times under load; then count what was lost."""
    rng = random.Random(seed)
    sink, sink_port = _sink(record_ids=True)
    config = _config(tmp / "soak.yaml", f"http://127.0.0.1:{sink_port}", durability)
    data = tmp / "soak-data"
    accepted: set[str] = set()
    sent: set[str] = set()
    next_id = 0
    try:
        for round_ in range(restarts):
            server, port = _serve(config, data, workers=True)
            stop = threading.Event()

            def load(port: int = port, stop: threading.Event = stop, tag: int = round_) -> None:
                nonlocal next_id
                import httpx

                with httpx.Client(timeout=5) as client:
                    while not stop.is_set():
                        ids = [f"s{tag}-{next_id + i}" for i in range(20)]
                        next_id += 20
                        sent.update(ids)
                        batch = {"batch": [{**_message(0), "messageId": i} for i in ids]}
                        try:
                            answer = client.post(
                                f"http://127.0.0.1:{port}/v1/batch",
                                json=batch,
                                auth=(WRITE_KEY, ""),
                            )
                        except httpx.HTTPError:
                            return
                        if answer.status_code == 200:
                            accepted.update(ids)

            sender = threading.Thread(target=load)
            sender.start()
            time.sleep(rng.uniform(0.2, 0.6))
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            stop.set()
            sender.join(10)
        server, _ = _serve(config, data, workers=True)
        deadline = time.monotonic() + 120
        received: list[str] = []
        while time.monotonic() < deadline:
            received = json.loads(_get(sink_port, "/ids"))
            if accepted <= set(received):
                break
            time.sleep(0.2)
        server.terminate()
        server.wait(30)
    finally:
        sink.kill()
        sink.wait()
    got = set(received)
    return {
        "restarts": restarts,
        "accepted": len(accepted),
        "lost": len(accepted - got),
        "duplicates": len(received) - len(got),
        # sent without a 200 (killed mid-request) may be delivered; never sent must not be
        "never_sent_delivered": len(got - sent),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000, help="events per measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--ingest-clients",
        default="8,32",
        help="the ingest row's concurrent connections, each measured (comma-separated): one "
        "request in flight a connection, so a few connections leave several ingest processes "
        "idle between their answers and the next requests; more measure them saturated",
    )
    parser.add_argument("--durability", choices=["normal", "full"], default="normal")
    parser.add_argument("--restarts", type=int, default=10, help="kill -9 restarts in the soak")
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--queue", metavar="URL", help="redis://HOST:PORT/DB: measure the Redis queue instead"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved rounds, medians reported (SQLite: of the ingest row; Redis: of all)",
    )
    parser.add_argument(
        "--measure",
        default="limits,ingest,drain,concurrent",
        help="with --queue: which measurements (comma-separated; default all)",
    )
    parser.add_argument(
        "--workers", default="1,2,4", help="with --queue: worker counts (the first is 1.00)"
    )
    parser.add_argument("--child-serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--no-workers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--worker-processes",
        type=int,
        metavar="N",
        help="the server's worker processes (destkit serve --worker-processes; 0: in process)",
    )
    parser.add_argument(
        "--ingest-processes",
        type=int,
        metavar="N",
        help="the server's ingest processes (destkit serve --ingest-processes; default: as it "
        "chooses); the ingest row also measures 1",
    )
    parser.add_argument("--child-sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ids", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_serve:
        _child_serve(
            *args.child_serve,
            workers=not args.no_workers,
            processes=args.worker_processes,
            ingest=args.ingest_processes,
        )
        return 0
    if args.child_sink:
        _child_sink(args.ids)
        return 0
    events = max(BATCH, args.events // BATCH * BATCH)
    if args.worker_processes is not None:
        PROCESSES.extend(["--worker-processes", str(args.worker_processes)])
    if args.ingest_processes is not None:
        INGEST.extend(["--ingest-processes", str(args.ingest_processes)])
    if args.queue:
        only = tuple(args.measure.split(","))
        counts = tuple(int(n) for n in args.workers.split(","))
        return _redis_main(args.queue, events, args.clients, args.json, args.rounds, only, counts)
    ingest_clients = [int(n) for n in args.ingest_clients.split(",")]
    body = json.dumps(_message(1)).encode()
    result: dict[str, Any] = {
        "events": events,
        "durability": args.durability,
        "clients": args.clients,
    }
    with tempfile.TemporaryDirectory() as tmp:
        # each way of inserting before and after ingest; the limit is the faster way's mean
        raw: dict[bool, list[float]] = {True: [], False: []}
        for multirow in (True, False):
            raw[multirow].append(raw_sqlite(events, args.durability, body, multirow=multirow))
        from sdk.cli._serve import default_ingest_processes

        many = args.ingest_processes or default_ingest_processes()
        result["ingest_processes"] = many
        runs: list[dict[str, Any]] = []
        configs = [(p, c) for p in dict.fromkeys((many, 1)) for c in ingest_clients]
        for p, c in configs:
            runs.append({"processes": p, "clients": c, "rounds": [], "cpu_rounds": []})
        for round_ in range(args.rounds):  # interleaved, each round in another order
            turn = round_ % len(configs)
            for k in [*range(turn, len(configs)), *range(turn)]:
                processes, clients = configs[k]
                rate, per_cpu = ingest(
                    events, args.durability, clients, Path(tmp), processes, round_
                )
                runs[k]["rounds"].append(rate)
                runs[k]["cpu_rounds"].append(per_cpu)
        for run in runs:
            run["events_per_s"] = statistics.median(run["rounds"])
            run["events_per_cpu_s"] = statistics.median(run["cpu_rounds"])
        result["ingest"] = runs
        for multirow in (False, True):
            raw[multirow].append(raw_sqlite(events, args.durability, body, multirow=multirow))
        result["raw_sqlite_multirow_rows_per_s"] = sum(raw[True]) / 2
        result["raw_sqlite_executemany_rows_per_s"] = sum(raw[False]) / 2
        rate, per_cpu = end_to_end(events, args.durability, args.clients, Path(tmp))
        result["end_to_end_events_per_s"], result["end_to_end_events_per_cpu_s"] = rate, per_cpu
        rate, per_cpu = engine_alone(events)
        result["engine_events_per_s"], result["engine_events_per_cpu_s"] = rate, per_cpu
        if not args.skip_soak:
            result["soak"] = soak(args.restarts, args.durability, Path(tmp))
    multi = result["raw_sqlite_multirow_rows_per_s"]
    many = result["raw_sqlite_executemany_rows_per_s"]
    result["raw_sqlite_rows_per_s"] = limit = max(multi, many)
    for run in result["ingest"]:
        run["ratio"] = run["events_per_s"] / limit
        run["ratio_rounds"] = [rate / limit for rate in run["rounds"]]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"destkit serve, {events} events, durability={args.durability}, "
        f"{args.clients} clients end to end, python {sys.version.split()[0]}, "
        f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus"
    )
    print()
    r = result
    print("| measurement | events/s | ratio | events per CPU-second of the server |")
    print("|---|---:|---:|---:|")
    for name, value in (("multi-row INSERT", multi), ("executemany", many)):
        print(
            f"| raw SQLite insert, 100 rows a commit, {name} (mean of before/after) "
            f"| {value:,.0f} | {value / limit:.2f} | |"
        )
    for run in r["ingest"]:
        processes = run["processes"]
        which = "processes" if processes > 1 else "process"
        default = " (the default)" if processes == r["ingest_processes"] else ""
        rounds = ", ".join(f"{x:.2f}" for x in run["ratio_rounds"])
        print(
            f"| ingest `/v1/batch` of 100, {processes} ingest {which}{default}, "
            f"{run['clients']} connections (median; rounds {rounds}) | "
            f"{run['events_per_s']:,.0f} | {run['ratio']:.2f} | {run['events_per_cpu_s']:,.0f} |"
        )
    print(
        f"| delivery engine alone (`stream` of 100 a call, 8 at once) to a loopback sink | "
        f"{r['engine_events_per_s']:,.0f} | 1.00 | {r['engine_events_per_cpu_s']:,.0f} |"
    )
    e2e_ratio = r["end_to_end_events_per_s"] / r["engine_events_per_s"]
    print(
        f"| end to end: ingest → queue → workers → loopback sink | "
        f"{r['end_to_end_events_per_s']:,.0f} | {e2e_ratio:.2f} | "
        f"{r['end_to_end_events_per_cpu_s']:,.0f} |"
    )
    if "soak" in result:
        s = result["soak"]
        print()
        print(
            f"soak: {s['restarts']} kill -9 restarts, {s['accepted']} events accepted, "
            f"lost {s['lost']}, duplicates {s['duplicates']}, "
            f"delivered but never sent {s['never_sent_delivered']}"
        )
    return 0


def _redis_main(
    url: str,
    events: int,
    clients: int,
    as_json: bool,
    rounds: int,
    only: tuple[str, ...],
    counts: tuple[int, ...],
) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    import _bench_redis

    with tempfile.TemporaryDirectory() as tmp:
        bench = sys.modules[__name__]
        r = _bench_redis.run(url, events, clients, Path(tmp), bench, rounds, only, counts)
    if as_json:
        print(json.dumps(r, indent=2))
    else:
        _bench_redis.report(r, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
