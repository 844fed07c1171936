"""A small HTTP/1.1 server on asyncio: ``asyncio.Protocol`` with the ``httptools`` parser (the
C parser uvicorn uses), keep-alive, requests on one connection answered in order.

It is only what ingest needs: request bodies are bounded (a larger one is answered 413 and the
connection closed, before the rest is read), headers are bounded in number and size, and a
handler returns ``(status, headers, body)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import httptools

__all__ = ["Handler", "HttpServer", "Request", "Response"]

#: Header lines and bytes per request.
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 * 1024
#: Requests a connection may have waiting (pipelined) before the server stops reading it.
MAX_PIPELINED = 4
#: Seconds a connection may send nothing (idle between requests, or stalled inside one) before
#: it is closed; a request being handled is never cut.
IDLE_TIMEOUT = 60.0
#: Open connections; one more is closed at once (a client retries, the server stays bounded).
MAX_CONNECTIONS = 1024


@dataclass(slots=True)
class Request:
    """One request: method, path (no query), lower-case headers and the body."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(slots=True)
class Response:
    """One response."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response]]


@functools.lru_cache(maxsize=64)
def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _encode(response: Response, keep_alive: bool) -> bytes:
    head = [
        f"HTTP/1.1 {response.status} {_reason(response.status)}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
    ]
    if not keep_alive:
        head.append("Connection: close")
    head.extend(f"{name}: {value}" for name, value in response.headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body


class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.current: Request | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.header_bytes = 0
        self.header_name = ""
        self.inbox: asyncio.Queue[tuple[Request, bool] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.refused: Response | None = None
        self.paused = False
        self.busy = False
        self.last_data = 0.0
        self.idle_check: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if len(self.server.connections) >= MAX_CONNECTIONS:
            transport.abort()
            return
        self.server.connections.add(self)
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(self._answer())
        self.last_data = loop.time()
        self.idle_check = loop.call_later(IDLE_TIMEOUT, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.inbox.put_nowait(None)
        self.transport = None
        if self.idle_check is not None:
            self.idle_check.cancel()

    def _check_idle(self) -> None:
        if self.transport is None:
            return
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self.last_data
        if quiet >= IDLE_TIMEOUT and not self.busy:
            self.transport.close()
            return
        self.idle_check = loop.call_later(max(IDLE_TIMEOUT - quiet, 1.0), self._check_idle)

    def data_received(self, data: bytes) -> None:
        self.last_data = asyncio.get_running_loop().time()
        if self.refused is not None:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(Response(400, b'{"success": false, "message": "upgrade refused"}'))
        except httptools.HttpParserError:
            if self.refused is None:
                self._refuse(Response(400, b'{"success": false, "message": "bad HTTP request"}'))

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.current = Request("", "")
        self.chunks = []
        self.size = 0
        self.header_bytes = 0

    def on_url(self, url: bytes) -> None:
        assert self.current is not None
        self.current.path += url.decode("latin-1")
        self.header_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.current is not None
        self.header_bytes += len(name) + len(value)
        headers = self.current.headers
        if len(headers) >= MAX_HEADERS or self.header_bytes > MAX_HEADER_BYTES:
            self._refuse(Response(431, b'{"success": false, "message": "headers too large"}'))
            raise httptools.HttpParserError("headers too large")
        headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        assert self.current is not None
        self.current.method = self.parser.get_method().decode("latin-1")
        self.current.path = self.current.path.split("?", 1)[0]
        length = self.current.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.server.max_body:
            self._too_large()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.server.max_body:
            self._too_large()
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.current is None or self.refused is not None:
            return
        self.current.body = b"".join(self.chunks)
        self.inbox.put_nowait((self.current, self.parser.should_keep_alive()))
        self.current = None
        if self.inbox.qsize() >= MAX_PIPELINED and self.transport is not None:
            self.paused = True  # memory stays bounded: read on once the backlog is answered
            self.transport.pause_reading()

    # -- answering ----------------------------------------------------------------------

    def _too_large(self) -> None:
        limit = self.server.max_body
        text = f'{{"success": false, "message": "body: over the limit of {limit} bytes"}}'
        self._refuse(Response(413, text.encode()))
        raise httptools.HttpParserError("body too large")

    def _refuse(self, response: Response) -> None:
        """Answer once more (after the requests already in the inbox), then close."""
        self.refused = response
        self.inbox.put_nowait((Request("", ""), False))

    async def _answer(self) -> None:
        while True:
            item = await self.inbox.get()
            if item is None or self.transport is None:
                return
            if self.paused and self.inbox.qsize() < MAX_PIPELINED // 2:
                self.paused = False
                self.transport.resume_reading()
            request, keep_alive = item
            if self.refused is not None and not request.method:
                response = self.refused
            else:
                self.server.in_flight += 1
                self.busy = True
                try:
                    response = await self.server.handler(request)
                except Exception:  # a bug must not take the server down: 500, logged
                    self.server.on_error(request)
                    response = Response(500, b'{"success": false, "message": "internal error"}')
                finally:
                    self.server.in_flight -= 1
                    self.busy = False
                    self.last_data = asyncio.get_running_loop().time()
            keep_alive = keep_alive and not self.server.closing
            if self.transport is None:
                return
            self.transport.write(_encode(response, keep_alive))
            if not keep_alive:
                self.transport.close()
                return


class HttpServer:
    """Serves ``handler`` on ``host:port`` (``port=0``: any free port)."""

    def __init__(
        self,
        handler: Handler,
        *,
        max_body: int,
        on_error: Callable[[Request], None] = lambda request: None,
    ) -> None:
        self.handler = handler
        self.max_body = max_body
        self.on_error = on_error
        self.connections: set[_Connection] = set()
        self.in_flight = 0
        self.closing = False
        self._server: asyncio.Server | None = None

    async def start(
        self, host: str, port: int, *, sock: socket.socket | None = None
    ) -> tuple[str, int]:
        """Listen (on ``sock``, bound already, if given); returns the bound host and port."""
        loop = asyncio.get_running_loop()
        if sock is not None:  # several ingest processes: bound with SO_REUSEPORT by the caller
            self._server = await loop.create_server(
                lambda: _Connection(self), sock=sock, backlog=1024
            )
        else:
            self._server = await loop.create_server(
                lambda: _Connection(self), host, port, reuse_address=True, backlog=1024
            )
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    async def stop(self, grace: float) -> None:
        """Stop accepting; let requests being handled finish (up to ``grace`` seconds);
        close every connection."""
        self.closing = True
        if self._server is not None:
            self._server.close()
        deadline = asyncio.get_running_loop().time() + grace
        while self.in_flight and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
            if connection.task is not None:
                connection.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connection.task
