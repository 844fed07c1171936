"""A worker process of ``destkit serve`` on SQLite: the destinations' workers for some of the
lanes, beside the server's ingest, on the same queue file, so that ingest and delivery use every
core (one process would share one GIL between them).

The server starts it (:mod:`sdk.service._children`) and talks to it over two pipes:

- its stdin: first one JSON line (the configuration's text, the data directory, its lanes, the
  sandbox's URL, the destinations' shape to check), then a byte whenever ingest committed
  messages (the lanes wake at once instead of at their next poll). End of file means the server
  is gone (it was killed): the process exits at once, without settling anything more (its
  claimed jobs are still queued: its successor delivers them again, at least once).
- its stdout: JSON lines back: ``["ready"]``, one ``["settled", ...]`` per settled batch (for
  ``/metrics`` and the server's pending count) and ``["log", event, fields]`` for the server's
  log. Anything else the process prints goes to stderr.

SIGTERM stops it as it stops a server: nothing more is claimed, batches in flight finish within
``shutdown_grace``, the rest stays queued, exit 0. Worker processes share the lanes (lane ``k``
to process ``k mod N``); one process at a time delivers a lane (its lock in ``workers.lock``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from sdk.queue._sqlite import SqliteQueue
from sdk.queue._sqlite_file import lock_lanes
from sdk.service._collector import settle_collector
from sdk.service._config import ServiceConfig, parse_config, point_at_sandbox, shape_of
from sdk.service._log import ServiceLog
from sdk.service._metrics import ServiceMetrics
from sdk.service._worker import DestinationWorker

__all__ = ["Relay", "main"]

#: Seconds the worker process gathers its reports before writing them to the server.
_FLUSH_EVERY = 0.05


class Relay(ServiceMetrics, ServiceLog):
    """The worker process's metrics and log: each settled batch and each log event is one JSON
    line to the server, which counts and logs it as its own. Lines are written together at most
    every ``every`` seconds (:data:`_FLUSH_EVERY`: one write, one wake-up of the server, for many
    batches)."""

    def __init__(self, fd: int, every: float = _FLUSH_EVERY) -> None:
        ServiceMetrics.__init__(self)
        ServiceLog.__init__(self)
        self.fd = fd
        self.every = every
        self._lines: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._pipe: asyncio.WriteTransport | None = None

    async def attach(self) -> None:
        """Write through the event loop from now on: a server slow to read (a busy machine)
        never blocks delivery; what it has not read yet waits in the transport's buffer."""
        loop = asyncio.get_running_loop()
        pipe = os.fdopen(self.fd, "wb", buffering=0)
        self._pipe, _ = await loop.connect_write_pipe(asyncio.Protocol, pipe)

    async def drain(self, timeout: float) -> None:
        """Write what is queued and wait (up to ``timeout``) until the server has it all."""
        self.flush()
        deadline = time.monotonic() + timeout
        while self._pipe is not None and self._pipe.get_write_buffer_size():
            if self._pipe.is_closing() or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.01)

    def send(self, line: list[Any]) -> None:
        """Queue one line to the server, written with the others within the flush delay."""
        self._lines.append(orjson.dumps(line))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.every, self.flush)

    def flush(self) -> None:
        """Write the queued lines (a blocking write until :meth:`attach`)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        data = b"\n".join(self._lines) + b"\n"
        self._lines = []
        if self._pipe is not None:
            if not self._pipe.is_closing():  # closing: the server is gone
                self._pipe.write(data)
            return
        with contextlib.suppress(BrokenPipeError):
            while data:
                data = data[os.write(self.fd, data) :]

    def settled(
        self,
        destination: str,
        delivered: int,
        retried: int,
        dead: int,
        filtered: Mapping[str, int],
        latencies: Sequence[float],
    ) -> None:
        self.send(["settled", destination, delivered, retried, dead, filtered, latencies])

    def event(self, name: str, **fields: object) -> None:
        self.send(["log", name, {key: str(value) for key, value in fields.items()}])


def start_child(what: str) -> tuple[int, dict[str, Any], ServiceConfig]:
    """The start of a process of the server's (``what``: "worker process", "ingest
    process"): its stdout kept as the pipe to the server (anything printed by accident, a
    connector's print, goes to stderr instead), its order read from the first line of stdin,
    and the configuration it carries checked against the server's. Exits 0 when the server is
    gone before it said anything, 3 when the configuration's text does not match. Returns
    (the pipe's descriptor, the order, the configuration)."""
    relay_fd = os.dup(1)
    os.dup2(2, 1)
    order = orjson.loads(sys.stdin.buffer.readline() or b"null")
    if not isinstance(order, dict):
        sys.exit(0)
    config = parse_config(order["config"])
    if shape_of(config) != order["shape"]:
        print(f"destkit {what}: the configuration's text does not match", file=sys.stderr)
        sys.exit(3)
    return relay_fd, order, config


def main() -> None:
    """Run the worker process (its stdin and stdout are the server's pipes)."""
    relay_fd, order, config = start_child("worker process")
    data = Path(order["data"])
    lanes: list[int] = order["lanes"]
    lock = lock_lanes(data, lanes)  # waits for a worker process of a killed server to be gone
    try:
        queue = SqliteQueue(data, durability=config.delivery.durability, owner=False, in_loop=True)
        destinations = point_at_sandbox(config.destinations, order["sandbox"])
        settle_collector()
        asyncio.run(_work(destinations, config.delivery, queue, Relay(relay_fd), lanes))
    finally:
        os.close(lock)


async def _work(
    destinations: Any, options: Any, queue: SqliteQueue, relay: Relay, lanes: list[int]
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when its workers stop
    workers = [DestinationWorker(d, queue, options, relay, relay, lanes) for d in destinations]

    def from_server() -> None:
        try:
            got = os.read(0, 4096)
        except BlockingIOError:
            return
        except OSError:
            got = b""
        if not got:  # the server is gone (killed): stop now, settle nothing more
            os._exit(0)
        for worker in workers:
            worker.wake.set()

    os.set_blocking(0, False)
    loop.add_reader(0, from_server)
    await relay.attach()
    for worker in workers:
        worker.start()
    relay.send(["ready"])
    relay.flush()
    await stop.wait()
    loop.remove_reader(0)
    grace = options.shutdown_grace
    await asyncio.gather(*(worker.stop(grace) for worker in workers))
    await queue.close()
    await relay.drain(timeout=5.0)
