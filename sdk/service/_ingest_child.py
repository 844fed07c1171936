"""An ingest process of ``destkit serve --ingest-processes N``: the tracking API on the server's
port, committing to the same queue, beside the server's own ingest, so that ingest uses more
than one core (one process is bound by its one GIL at about 9 us of CPU a message).

The server (:mod:`sdk.service._children`) binds the port with ``SO_REUSEPORT`` and starts N - 1
of these; each binds the same address with ``SO_REUSEPORT`` too, and the kernel spreads new
connections over the listening sockets (by a hash of each connection's addresses: measured, 8
connections over 2 processes split 4/4 to 7/1 and never 8/0, where one socket inherited by both
gave one process all 8 in 60 tries of 60: asyncio accepts every waiting connection at once).

It talks to the server over two pipes:

- its stdin: first one JSON line (the configuration's text and shape to check, the data
  directory or the Redis URL, the address to bind), then JSON lines: the answer to a
  ``/metrics`` request it forwarded, and (Redis) the server's view of the backlog. End of file
  means the server is gone (killed): the process exits at once, answering nothing more.
- its stdout: JSON lines back (:class:`~sdk.service._child.Relay`): ``["ready"]`` once it
  listens; ``["counts", accepted by source, rejected by reason, enqueued]`` every 10 ms at most
  while requests come (for ``/metrics``, and to wake the workers when it committed messages);
  ``["metrics", id]`` to ask for the server's ``/metrics`` text (after its own counts, so they
  are in it); ``["log", event, fields]``.

SIGTERM stops it as it stops the server: the socket closes, requests being answered finish
(within ``shutdown_grace``), exit 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from sdk.queue._interface import Accepted, Queue
from sdk.queue._open import open_queue
from sdk.queue._sqlite import SqliteQueue
from sdk.service._child import Relay, start_child
from sdk.service._collector import settle_collector
from sdk.service._http import HttpServer, Request, Response
from sdk.service._ingest import MAX_REQUEST_BYTES, Ingest

__all__ = ["main", "shared_socket"]

#: Seconds an ingest process gathers its counts before it sends them (and wakes the workers).
_COUNT_EVERY = 0.01
#: Seconds a forwarded ``/metrics`` request waits for the server's answer.
_METRICS_WAIT = 5.0
_UNAVAILABLE = Response(503, b'{"success": false, "message": "metrics: the server is busy"}')


def shared_socket(host: str, port: int, *, join: bool) -> socket.socket:
    """A listening TCP socket on ``host:port`` that other processes of this user can listen on
    too (``SO_REUSEPORT``). The server's (``join=False``) is bound first without it, so that a
    port in use (by anything, even another ``destkit serve``) is refused as it always was, and
    ``port=0`` picks a free one; its ingest processes then join it (``join=True``)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if join:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if not join:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Counts:
    """What ingest counted since the last report: one ``counts`` line every
    :data:`_COUNT_EVERY` seconds at most while requests come."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.accepted: dict[str, int] = {}
        self.rejected: dict[str, int] = {}
        self.enqueued = False
        self._timer: asyncio.TimerHandle | None = None

    def on_accepted(self, source: str, n: int) -> None:
        self.accepted[source] = self.accepted.get(source, 0) + n
        self._due()

    def on_rejected(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        self._due()

    def on_enqueued(self) -> None:
        self.enqueued = True
        self._due()

    def _due(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(_COUNT_EVERY, self.send)

    def send(self) -> None:
        """Report what was counted now (written at once)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.accepted or self.rejected or self.enqueued:
            self.relay.send(["counts", self.accepted, self.rejected, self.enqueued])
            self.accepted, self.rejected, self.enqueued = {}, {}, False
        self.relay.flush()


class _Backlog(Queue):
    """The queue as ingest sees it in an ingest process on Redis: its enqueues go to the
    queue; its backlog is the newer of the queue's own count (as its last enqueue left it) and
    the server's, which the server sends while it changes (an ingest process that answers 429
    enqueues nothing, and would otherwise never see the backlog go down)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.told: int | None = None

    async def enqueue(self, messages: Sequence[Accepted]) -> None:
        await self.queue.enqueue(messages)
        self.told = None  # the queue's count is the newer now

    def pending(self) -> int:
        return self.queue.pending() if self.told is None else self.told

    async def claim(self, *args: Any) -> Any:
        raise NotImplementedError

    async def settle(self, *args: Any) -> Any:
        raise NotImplementedError

    async def status(self, *args: Any) -> Any:
        raise NotImplementedError

    async def dead_letters(self, *args: Any) -> Any:
        raise NotImplementedError

    async def dead_letter(self, *args: Any) -> Any:
        raise NotImplementedError

    async def replay(self, *args: Any) -> Any:
        raise NotImplementedError

    async def purge(self, *args: Any) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        await self.queue.close()


def main() -> None:
    """Run the ingest process (its stdin and stdout are the server's pipes)."""
    relay_fd, order, config = start_child("ingest process")
    durability = config.delivery.durability
    queue: Queue
    if order["queue"]:
        queue = open_queue(order["queue"], order["data"], durability=durability, owner=False)
    else:
        queue = SqliteQueue(
            Path(order["data"]), durability=durability, owner=False, in_loop=durability != "full"
        )
        queue.serialise_writes()
    settle_collector()
    asyncio.run(_serve(config, queue, Relay(relay_fd), order["host"], order["port"]))


async def _serve(config: Any, queue: Queue, relay: Relay, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when its processes stop
    counts = _Counts(relay)
    backlog = _Backlog(queue) if not isinstance(queue, SqliteQueue) else None
    ingest = Ingest(
        config,
        backlog or queue,
        on_accepted=counts.on_accepted,
        on_rejected=counts.on_rejected,
        on_enqueued=counts.on_enqueued,
        metrics=lambda: (b"", ""),  # answered by the server: see handle()
        health=lambda: not stop.is_set(),
    )
    answers: dict[int, asyncio.Future[Response]] = {}

    async def handle(request: Request) -> Response:
        if request.method == "GET" and request.path.rstrip("/") == "/metrics":
            asked = len(answers) + 1
            while asked in answers:
                asked += 1
            answers[asked] = loop.create_future()
            counts.send()  # this process's counts first: the server applies them in order
            relay.send(["metrics", asked])
            relay.flush()
            try:
                return await asyncio.wait_for(answers[asked], _METRICS_WAIT)
            except TimeoutError:
                return _UNAVAILABLE
            finally:
                del answers[asked]
        return await ingest(request)

    def on_error(request: Request) -> None:
        relay.event("internal_error", method=request.method, path=request.path)

    async def from_server(reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:  # the server is gone (killed): answer nothing more
                os._exit(0)
            said = orjson.loads(line)
            if said[0] == "metrics" and said[1] in answers:
                body, content_type = said[2].encode(), said[3]
                answers[said[1]].set_result(Response(200, body, content_type=content_type))
            elif said[0] == "pending" and backlog is not None:
                backlog.told = int(said[1])

    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    listening = loop.create_task(from_server(reader))
    await relay.attach()
    http = HttpServer(handle, max_body=MAX_REQUEST_BYTES, on_error=on_error)
    await http.start(host, port, sock=shared_socket(host, port, join=True))
    relay.send(["ready"])
    relay.flush()
    await stop.wait()
    await http.stop(config.delivery.shutdown_grace)
    counts.send()
    await queue.close()
    await relay.drain(timeout=5.0)
    listening.cancel()
