"""The server's side of its child processes: its worker processes (:mod:`sdk.service._child`)
and its other ingest processes (:mod:`sdk.service._ingest_child`). Start one, hand it the
configuration, count and log what it reports, restart it if it dies, stop it on SIGTERM; wake a
worker process when ingest committed messages; answer an ingest process's ``/metrics``.

A child that exits while the server runs (killed, crashed) is started again, after a pause that
doubles from half a second to 10 seconds while it keeps dying within a minute of starting: the
jobs a worker process had claimed were never settled, so they are still queued and its successor
delivers them (at least once); an ingest process answered 200 only for what it committed. Each
exit and start is a log line (``worker_exited``, ``worker_started``; ``ingest_exited``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from sdk.queue._interface import LANES
from sdk.queue._sqlite import SqliteQueue
from sdk.service._config import ServiceConfig, shape_of
from sdk.service._log import ServiceLog
from sdk.service._metrics import ServiceMetrics

__all__ = ["ChildProcess", "IngestProcess", "WorkerProcess"]

#: The pause before starting a worker process that died again: doubling up to the maximum.
_FIRST_PAUSE = 0.5
_MAX_PAUSE = 10.0
#: A worker process that ran this long before it died is restarted after the first pause.
_HEALTHY_AFTER = 60.0
#: Seconds past the grace period that a stopping worker process has to exit before SIGKILL.
_EXIT_MARGIN = 5.0
_BOOT = "import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
_BOOT += "from {} import main; main()"


class ChildProcess:
    """A child process of the server that reads ``order`` (one JSON line) from its stdin and
    reports JSON lines on its stdout; ``kind`` names it in the log."""

    kind = "child"
    module = ""

    def __init__(self, order: dict[str, Any], log: ServiceLog) -> None:
        self.log = log
        self._order = orjson.dumps(order)
        self.process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()  # it said "ready", or its first run ended
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the process, and keep it running until :meth:`stop`."""
        await self._spawn()
        self._watch = asyncio.get_running_loop().create_task(self._keep_running())

    async def started(self, timeout: float) -> bool:
        """Wait until the process said it is ready (a worker process: it has imported the
        connectors and taken its lanes; an ingest process: it listens), or its first run
        ended, or ``timeout``; whether it is ready."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set() and self.process is not None and self.process.returncode is None

    async def stop(self, grace: float) -> None:
        """SIGTERM to the process (a worker process finishes its batches in flight within
        ``grace`` and leaves the rest queued; an ingest process stops accepting and finishes
        the requests it is answering); SIGKILL if it has not exited shortly after."""
        self._stopping = True
        self._stop.set()
        _terminate(self.process)
        if self._watch is None:
            return
        try:
            # The watch reads the process's last reports, then sees it exit; it also stops a
            # process it was starting again when this was called.
            await asyncio.wait_for(asyncio.shield(self._watch), grace + _EXIT_MARGIN)
        except TimeoutError:
            if self.process is not None and self.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
            await self._watch

    async def _spawn(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _BOOT.format(self.module),
            json.dumps([p for p in sys.path if p]),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Its own session: a terminal's Ctrl-C reaches the server, which stops it in order.
            start_new_session=True,
            limit=1 << 24,
        )
        assert self.process.stdin is not None
        self.process.stdin.write(self._order + b"\n")

    async def _keep_running(self) -> None:
        pause = _FIRST_PAUSE
        while True:
            process = self.process
            assert process is not None
            started = time.monotonic()
            await self._read(process)
            code = await process.wait()
            self._ready.set()  # no longer worth waiting for at start
            if self._stopping:
                return
            self.log.event(f"{self.kind}_exited", pid=process.pid, code=code)
            pause = _FIRST_PAUSE if time.monotonic() - started > _HEALTHY_AFTER else pause
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)
            pause = min(pause * 2, _MAX_PAUSE)
            if self._stopping:
                return
            await self._spawn()
            if self._stopping:  # stop() came while it started, and did not see it
                _terminate(self.process)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        """Apply what the process reports, until it closes its end."""
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # a line past the limit: not a report (none is this long)
                continue
            if not line:
                return
            try:
                self._apply(process.pid, orjson.loads(line))
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                continue  # not a report of ours: the process's stdout is only for them

    def _apply(self, pid: int, report: Any) -> None:
        kind = report[0]
        if kind == "log":
            self.log.event(report[1], **report[2])
        elif kind == "ready":
            self._ready.set()
            self.log.event(f"{self.kind}_started", pid=pid)

    def tell(self, line: list[Any]) -> None:
        """Write one JSON line to the process's stdin (nothing if it is not running)."""
        process = self.process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        if not process.stdin.transport.is_closing():
            with contextlib.suppress(OSError, RuntimeError):
                process.stdin.write(orjson.dumps(line) + b"\n")


class WorkerProcess(ChildProcess):
    """One worker process delivering ``lanes`` of every destination of ``config`` from
    ``queue``'s file (it delivers once it has its lanes' locks)."""

    kind = "worker"
    module = "sdk.service._child"

    def __init__(
        self,
        config: ServiceConfig,
        queue: SqliteQueue,
        sandbox_url: str | None,
        metrics: ServiceMetrics,
        log: ServiceLog,
        lanes: Sequence[int] = range(LANES),
    ) -> None:
        if not config.text:
            raise ValueError("a worker process needs a configuration read by parse_config")
        self.queue = queue
        #: The lanes it delivers (of every destination).
        self.lanes = list(lanes)
        self.metrics = metrics
        order = {
            "config": config.text,
            "data": str(queue.directory),
            "sandbox": sandbox_url,
            "lanes": self.lanes,
            "shape": shape_of(config),
        }
        super().__init__(order, log)

    def wake(self) -> None:
        """Messages were committed: the worker process's idle lanes claim now."""
        process = self.process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        transport = process.stdin.transport
        if transport.is_closing() or transport.get_write_buffer_size():
            return  # a wake not yet read is enough
        with contextlib.suppress(OSError, RuntimeError):
            process.stdin.write(b"w")

    def _apply(self, pid: int, report: Any) -> None:
        if report[0] == "settled":
            destination, delivered, retried, dead, filtered, latencies = report[1:7]
            self.metrics.settled(destination, delivered, retried, dead, filtered, latencies)
            self.queue.settled_elsewhere(delivered + dead + sum(filtered.values()))
        else:
            super()._apply(pid, report)


class IngestProcess(ChildProcess):
    """One more ingest process on the server's address (``SO_REUSEPORT``), committing to the
    same queue: its counts go to the server's metrics, its commits wake the server's workers,
    and the server answers the ``/metrics`` requests it gets."""

    kind = "ingest"
    module = "sdk.service._ingest_child"

    def __init__(
        self,
        config: ServiceConfig,
        data_dir: Path,
        queue_url: str | None,
        address: tuple[str, int],
        metrics: ServiceMetrics,
        log: ServiceLog,
        *,
        on_enqueued: Callable[[], None],
        render: Callable[[], tuple[bytes, str]],
        backlog: Callable[[], int] | None = None,
    ) -> None:
        if not config.text:
            raise ValueError("an ingest process needs a configuration read by parse_config")
        self.metrics = metrics
        self._on_enqueued = on_enqueued
        self._render = render
        #: On Redis, the server's view of the backlog, told to the process once it listens.
        self._backlog = backlog
        order = {
            "config": config.text,
            "shape": shape_of(config),
            "data": str(data_dir),
            "queue": queue_url,
            "host": address[0],
            "port": address[1],
        }
        super().__init__(order, log)

    def _apply(self, pid: int, report: Any) -> None:
        kind = report[0]
        if kind == "counts":
            for source, n in report[1].items():
                self.metrics.accepted.labels(source).inc(n)
            for reason, n in report[2].items():
                self.metrics.rejected.labels(reason).inc(n)
            if report[3]:
                self._on_enqueued()
        elif kind == "metrics":
            body, content_type = self._render()
            self.tell(["metrics", report[1], body.decode(), content_type])
        else:
            super()._apply(pid, report)
            if kind == "ready" and self._backlog is not None:
                self.tell(["pending", self._backlog()])


def _terminate(process: asyncio.subprocess.Process | None) -> None:
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
