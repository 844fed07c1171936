"""The service: ingest server, queue, one worker per destination, and an orderly stop.

The workers run in this process, or (``worker_processes=N``, what ``destkit serve`` does on
SQLite) in N worker processes beside it sharing the lanes, on the same queue file, so that
ingest and delivery use every core, not one GIL (:mod:`sdk.service._children`).

Its ingest runs in this process, or (``ingest_processes=N``) in this one and N - 1 ingest
processes serving the same port (``SO_REUSEPORT``) and committing to the same queue, so that
ingest is not bound by one GIL either (:mod:`sdk.service._ingest_child`); what is one per
service stays one: the backlog (the queue's shared count), ``/metrics`` (the ingest processes
report their counts here and forward ``/metrics`` here), the workers' wake-up, the log.

SIGTERM (or SIGINT) stops accepting in every ingest process (the listening sockets close;
requests being answered finish), lets batches in flight finish for up to ``shutdown_grace``
seconds, leaves everything else queued, and returns, so ``destkit serve`` exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdk.queue._interface import LANES, Queue
from sdk.queue._sqlite import SqliteQueue
from sdk.service._children import IngestProcess, WorkerProcess
from sdk.service._config import DestinationConfig, ServiceConfig, point_at_sandbox
from sdk.service._http import HttpServer, Request
from sdk.service._ingest import MAX_REQUEST_BYTES, Ingest
from sdk.service._ingest_child import shared_socket
from sdk.service._log import ServiceLog
from sdk.service._metrics import ServiceMetrics
from sdk.service._worker import DestinationWorker

__all__ = ["Service"]

#: Seconds the server waits for its worker processes to deliver before it listens anyway.
_START_WAIT = 30.0
#: Seconds between two sends of the backlog to ingest processes on Redis (when it changed).
_BACKLOG_EVERY = 0.1


class Service:
    """One ``destkit serve``. ``queue`` defaults to SQLite in ``data_dir``.

    ``ingest_processes=N`` (N > 1) serves ingest from N processes on one port: this one and
    N - 1 children; they need the configuration's text (``parse_config``) and, on Redis,
    ``queue_url`` (what they open). 1: ingest in this process only."""

    def __init__(
        self,
        config: ServiceConfig,
        data_dir: str | Path,
        *,
        queue: Queue | None = None,
        log: ServiceLog | None = None,
        workers: bool = True,
        worker_processes: int = 0,
        ingest_processes: int = 1,
        queue_url: str | None = None,
    ) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self.log = log or ServiceLog()
        self.metrics = ServiceMetrics()
        self.queue = queue or SqliteQueue.for_server(
            self.data_dir, durability=config.delivery.durability
        )
        self._run_workers = workers
        self.workers: list[DestinationWorker] = []
        #: The worker processes (``worker_processes=N``, at most one a lane): they need the
        #: SQLite queue, and a configuration that its text describes (``parse_config``).
        self.worker_processes: list[WorkerProcess] = []
        self._processes = min(worker_processes, LANES) if workers else 0
        if self._processes and not isinstance(self.queue, SqliteQueue):
            raise ValueError("worker_processes: only with the SQLite queue")
        #: The other ingest processes (``ingest_processes=N``: N - 1 of them).
        self.ingest_processes: list[IngestProcess] = []
        self._ingest_count = max(1, ingest_processes)
        self._queue_url = queue_url
        if self._ingest_count > 1:
            if isinstance(self.queue, SqliteQueue):
                self.queue.serialise_writes()
            elif queue_url is None:
                raise ValueError("ingest_processes: with this queue, queue_url is needed")
        self.ingest = Ingest(
            config,
            self.queue,
            on_accepted=lambda source, n: self.metrics.accepted.labels(source).inc(n),
            on_rejected=lambda reason: self.metrics.rejected.labels(reason).inc(),
            on_enqueued=self._wake,
            metrics=self._render_metrics,
            health=lambda: not self._stopping,
        )
        self.http = HttpServer(self.ingest, max_body=MAX_REQUEST_BYTES, on_error=self._on_error)
        self._sandbox: Any = None
        self._stopping = False
        self._backlog_task: asyncio.Task[None] | None = None

    def _wake(self) -> None:
        for process in self.worker_processes:
            process.wake()
        for worker in self.workers:
            worker.wake.set()

    def _render_metrics(self) -> tuple[bytes, str]:
        self.metrics.depth.set(self.queue.pending())
        return self.metrics.render()

    def _on_error(self, request: Request) -> None:
        self.log.event("internal_error", method=request.method, path=request.path)

    def _destinations(self) -> list[DestinationConfig]:
        """The configured destinations, the sandbox ones pointed at a running sandbox."""
        found = self.config.destinations
        if not any(d.needs_sandbox for d in found):
            return found
        from sdk.testing._sandbox import Sandbox

        self._sandbox = Sandbox().start()
        self.log.event("sandbox_started", url=self._sandbox.url)
        return point_at_sandbox(found, self._sandbox.url)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Start the workers and listen; returns the bound address."""
        sock = None
        if self._ingest_count > 1:
            # Bound first, so that the ingest processes start (their imports take a moment)
            # while the workers do; connections wait in the socket's backlog meanwhile.
            sock = shared_socket(host, port, join=False)
            address = sock.getsockname()
            await self._start_ingest_processes((str(address[0]), int(address[1])))
        if self._processes:
            assert isinstance(self.queue, SqliteQueue)
            self._destinations()  # the sandbox, if one is needed, runs here
            url = None if self._sandbox is None else str(self._sandbox.url)
            for k in range(self._processes):
                lanes = range(k, LANES, self._processes)
                process = WorkerProcess(self.config, self.queue, url, self.metrics, self.log, lanes)
                await process.start()
                self.worker_processes.append(process)
            # Listening once they deliver (their imports and TLS set-up take a moment): one
            # that cannot start is logged and started again, and ingest does not wait for it.
            await asyncio.gather(*(p.started(_START_WAIT) for p in self.worker_processes))
        elif self._run_workers:
            for destination in self._destinations():
                worker = DestinationWorker(
                    destination, self.queue, self.config.delivery, self.metrics, self.log
                )
                worker.start()
                self.workers.append(worker)
        bound = await self.http.start(host, port, sock=sock)
        if self.ingest_processes:
            # Listening (the one line on stdout) once every ingest process listens too.
            await asyncio.gather(*(p.started(_START_WAIT) for p in self.ingest_processes))
        more = {"ingest_processes": self._ingest_count} if self._ingest_count > 1 else {}
        self.log.event(
            "started",
            address=f"http://{bound[0]}:{bound[1]}",
            sources=len(self.config.sources),
            destinations=",".join(d.name for d in self.config.destinations),
            pending=self.queue.pending(),
            durability=self.config.delivery.durability,
            **more,
        )
        return bound

    async def _start_ingest_processes(self, bound: tuple[str, int]) -> None:
        for _ in range(self._ingest_count - 1):
            process = IngestProcess(
                self.config,
                self.data_dir,
                self._queue_url,
                bound,
                self.metrics,
                self.log,
                on_enqueued=self._wake,
                render=self._render_metrics,
                backlog=None if isinstance(self.queue, SqliteQueue) else self.queue.pending,
            )
            await process.start()
            self.ingest_processes.append(process)
        if not isinstance(self.queue, SqliteQueue):  # SQLite: the file's counter is shared
            self._backlog_task = asyncio.get_running_loop().create_task(self._tell_backlog())

    async def _tell_backlog(self) -> None:
        """Send this process's view of the backlog to the ingest processes while it changes
        (on Redis, a process's count is as fresh as its last call to Redis)."""
        told = -1
        while True:
            await asyncio.sleep(_BACKLOG_EVERY)
            pending = self.queue.pending()
            if pending != told:
                told = pending
                for process in self.ingest_processes:
                    process.tell(["pending", pending])

    async def stop(self) -> None:
        """Stop accepting, finish in-flight work within the grace period, close the queue."""
        if self._stopping:
            return
        self._stopping = True
        grace = self.config.delivery.shutdown_grace
        self.log.event("stopping", grace_s=grace)
        if self._backlog_task is not None:
            self._backlog_task.cancel()
        await asyncio.gather(
            self.http.stop(grace), *(process.stop(grace) for process in self.ingest_processes)
        )
        await asyncio.gather(*(process.stop(grace) for process in self.worker_processes))
        await asyncio.gather(*(worker.stop(grace) for worker in self.workers))
        await self.queue.close()
        if self._sandbox is not None:
            self._sandbox.stop()
        self.log.event("stopped", pending=self.queue.pending())

    async def serve(self, host: str, port: int, on_listening: Callable[[str, int], None]) -> None:
        """Run until SIGTERM or SIGINT, then stop in order."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            bound = await self.start(host, port)
            on_listening(*bound)
            await stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)
            await self.stop()
