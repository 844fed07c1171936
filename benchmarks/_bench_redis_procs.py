"""The process side of ``bench_serve.py --queue redis://...``: starting ``destkit worker``
processes, timing them to the sink, and the CPU each process of the run used meanwhile.

Two ways to time N workers:

- **drain**: N workers are started, then stopped (``SIGSTOP``) while the ingest node fills the
  stream with ``events``; the clock starts when they are continued (``SIGCONT``) and stops when
  the sink has every event. Only the workers, redis-server and the sink run while timed: this
  measures the workers' scaling without ingest and the load generator on the same cores.
- **concurrent** (end to end): N workers are started (all idle before timing), then ``events``
  are posted through the ingest node and timed until the sink has them all: ingest, the load
  generator, redis-server, the sink and the workers all share the machine.

Each run also gives the CPU each process used while timed, as cores (CPU-seconds per second).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def cli(argv: list[str], ready: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``destkit ARGV`` and wait for its first line, which must start with ``ready``."""
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


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` and its children (an ingest node's ingest
    processes) have used so far (Linux ``/proc``); 0 when it cannot be read (a redis-server on
    another machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total + sum(cpu_seconds(int(child)) for child in children)


def runqueue_seconds(pid: int) -> float:
    """Seconds process ``pid``'s main thread (a worker's event loop) has spent runnable but
    waiting for a CPU (``/proc/PID/schedstat``; 0 when it cannot be read). Beside its CPU
    time, this tells a CPU-bound process (on a CPU or waiting for one nearly all the time)
    from one that waits on round trips (neither)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy_seconds() -> float:
    """CPU seconds every core of this machine has been busy so far (``/proc/stat``): beside
    the run's own processes, what else was running (the machine may be shared)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class SinkCounter:
    """``GET /count`` of the bench's sink over one keep-alive connection (cheap to poll)."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def count(self) -> int:
        self._conn.request("GET", "/count")
        return int(self._conn.getresponse().read())

    def close(self) -> None:
        self._conn.close()


@dataclass
class Fixed:
    """The processes that outlive one run: their pids by role (``ingest``, ``redis-server``,
    ``sink``); the bench itself (the load generator) is measured with ``time.process_time``."""

    pids: dict[str, int]
    ingest_port: int
    sink_port: int
    argv: list[str]


@dataclass
class Run:
    """One timed run of N workers."""

    events_per_s: float
    #: cores used while timed: "workers" (all), "worker 1".., "ingest", "redis-server", "sink",
    #: "bench" (the load generator and the sink's poller, this process), "others" (every other
    #: process of the machine), "workers waiting" (the workers' time runnable but waiting for a
    #: CPU, also as cores: a worker on a CPU or waiting for one all the time is CPU-bound)
    cores: dict[str, float] = field(default_factory=dict)
    events_per_worker_cpu_s: float = 0.0


def run_workers(
    fixed: Fixed,
    workers: int,
    events: int,
    bench: Any,
    clients: int,
    drain: bool,
    tag: str,
    backlog: int = 0,
) -> Run:
    """Time ``workers`` worker processes delivering ``events`` (``drain``: queued while they
    were stopped; else posted through the ingest node while timed), and the ``backlog`` that
    was queued before."""
    counter = SinkCounter(fixed.sink_port)
    requests = bench._bodies(events, tag)  # encoded before timing: the bench's own CPU
    target = counter.count() + events + backlog
    procs = [cli(["worker", *fixed.argv], "worker started")[0] for _ in range(workers)]
    stopped = False
    try:
        if drain:
            for proc in procs:
                os.kill(proc.pid, signal.SIGSTOP)
            stopped = True
            _post(fixed.ingest_port, requests, clients, bench)
        pids = {**fixed.pids, **{f"worker {i + 1}": p.pid for i, p in enumerate(procs)}}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy = machine_busy_seconds()
        queued = sum(runqueue_seconds(p.pid) for p in procs)
        own = time.process_time()
        started = time.perf_counter()
        if drain:
            for proc in procs:
                os.kill(proc.pid, signal.SIGCONT)
            stopped = False
        elif requests:
            _post(fixed.ingest_port, requests, clients, bench)
        while counter.count() < target:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        used["bench"] = time.process_time() - own
        busy = machine_busy_seconds() - busy
        queued = sum(runqueue_seconds(p.pid) for p in procs) - queued
    finally:
        counter.close()
        for proc in procs:
            if stopped:
                os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    worker_cpu = sum(v for k, v in used.items() if k.startswith("worker "))
    cores = {name: cpu / elapsed for name, cpu in used.items()}
    cores["workers"] = worker_cpu / elapsed
    cores["others"] = max(0.0, busy - sum(used.values())) / elapsed
    cores["workers waiting"] = queued / elapsed
    return Run((events + backlog) / elapsed, cores, (events + backlog) / max(worker_cpu, 1e-6))


def _post(port: int, requests: list[bytes], clients: int, bench: Any) -> None:
    _, failed = asyncio.run(bench._post_all(port, requests, clients))
    if failed:
        raise SystemExit(f"bench_serve: redis ingest: {failed} requests not answered 200")


def redis_pid(url: str) -> int | None:
    """The redis-server's pid when it runs on this machine (its ``INFO server``)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("server")
    finally:
        client.close()
    pid = int(info.get("process_id", 0))
    try:  # the same pid on another machine is not it
        return pid if "redis" in Path(f"/proc/{pid}/comm").read_text() else None
    except OSError:
        return None
