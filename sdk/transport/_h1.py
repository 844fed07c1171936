"""One HTTP/1.1 client connection on ``asyncio.Protocol`` and the ``httptools`` C parser: the
wire under the lean carrier (:mod:`sdk.transport._h1_pool`).

A connection carries one exchange at a time: the request goes out in one ``transport.write``,
and the answer is parsed as it arrives, straight into a capped buffer (gzip and deflate inflated
on the way, never past the cap), so that awaiting an answer is awaiting one future. httptools
frames the body (``Content-Length``, chunked, no body for 1xx/204/304); this module adds what
its parser leaves to the caller: the answer to a ``HEAD``, a body read until the server closes,
and whether the connection may be used again.
"""

from __future__ import annotations

import asyncio
import time
import zlib

import httptools

from sdk.transport._body import _WBITS, CappedBody, Inflater

__all__ = ["H1Answer", "H1Connection", "H1Error", "H1Timeout", "Stale"]


class H1Error(Exception):
    """A failed exchange, named as httpx names it (``ConnectError``, ``ReadError``,
    ``RemoteProtocolError``...), so the record reads the same whichever client carried it."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name


class Stale(Exception):
    """A reused connection ended (EOF or reset) before any byte of the answer: the server had
    closed it while it was idle. The pool retries such a request once on a new connection."""


class H1Timeout(Exception):
    """The request's total deadline passed; ``first_byte``: when the answer's headers came
    (``time.perf_counter()``), 0.0 if they had not."""

    def __init__(self, first_byte: float) -> None:
        super().__init__("timed out")
        self.first_byte = first_byte


class H1Answer:
    """A complete answer: status line, raw headers, the (decoded, capped) body."""

    __slots__ = ("body", "first_byte", "headers", "reason", "status")

    def __init__(
        self,
        status: int,
        reason: str,
        headers: list[tuple[bytes, bytes]],
        body: CappedBody,
        first_byte: float,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        #: ``time.perf_counter()`` when the answer's headers were complete.
        self.first_byte = first_byte


_EMPTY = CappedBody(b"", 0, False)

#: Bytes of an answer's status reason and header lines (names and values) read at most; past
#: it the answer is refused, as httpx's HTTP/1.1 engine (h11) refuses a head past its limit.
MAX_HEAD_BYTES = 64 * 1024


class H1Connection(asyncio.Protocol):
    """One keep-alive connection to one origin."""

    def __init__(self, origin: tuple[str, str, int]) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        #: Requests carried so far (a reused connection is one that carried some).
        self.used = 0
        #: The connection is gone (closed by either side) or must not be used again.
        self.closed = False
        #: The pool no longer counts it (set once, by the pool).
        self.dropped = False
        self._parser: httptools.HttpResponseParser | None = None
        self._waiter: asyncio.Future[H1Answer] | None = None
        self._reset_answer(0, False)

    def _reset_answer(self, max_bytes: int, head_only: bool) -> None:
        self._max = max_bytes
        self._head_only = head_only
        self._received_any = False
        self._status = 0
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_bytes = 0
        self._first_byte = 0.0
        self._buffer = bytearray()
        self._decoded = 0
        self._inflater: Inflater | None = None
        self._coding = ""
        self._until_close = False
        self._truncated = False
        self._informational = False
        self._keep_alive = False

    # -- the exchange -----------------------------------------------------------------------

    def exchange(
        self, data: bytes, max_bytes: int, head_only: bool, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[H1Answer]:
        """Send ``data`` (a whole request) and return the future of its answer."""
        transport = self.transport
        if transport is None or self.closed or transport.is_closing():
            raise Stale()
        if self._parser is None:
            self._parser = httptools.HttpResponseParser(self)
        self._reset_answer(max_bytes, head_only)
        self.used += 1
        waiter = self._waiter = loop.create_future()
        transport.write(data)
        return waiter

    def time_out(self) -> None:
        """The deadline passed: fail the exchange in progress and drop the connection."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(H1Timeout(self._first_byte))
        self.abort()

    def abort(self) -> None:
        """Close now (the rest of an answer is not read)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        """Close once what was written has gone."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    @property
    def reusable(self) -> bool:
        """The last answer was read to its end and both sides keep the connection open."""
        return self._keep_alive and not self.closed

    def _finish(self) -> None:
        waiter = self._waiter
        self._waiter = None
        if waiter is None or waiter.done():
            return
        if self._truncated:
            body = CappedBody(bytes(self._buffer), self._decoded, True)
        elif self._buffer:
            body = CappedBody(bytes(self._buffer), self._decoded, False)
        else:
            body = _EMPTY
        waiter.set_result(
            H1Answer(
                self._status,
                self._reason.decode("latin-1"),
                self._headers,
                body,
                self._first_byte,
            )
        )

    def _fail(self, error: BaseException) -> None:
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.abort()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if self._waiter is None or parser is None:
            # Bytes while idle (nothing was asked): the connection cannot be trusted again.
            self.abort()
            return
        self._received_any = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(H1Error("RemoteProtocolError", "the server switched protocols"))
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, H1Error):
                self._fail(cause)
            else:
                detail = " ".join(str(exc).split()) or "malformed answer"
                self._fail(H1Error("RemoteProtocolError", detail))
            return
        if self._waiter is None and not self._keep_alive:
            self.close()  # answered (or cut at the cap) on a connection that is not reused

    def eof_received(self) -> bool | None:
        return None  # close our side too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._until_close and self._first_byte and not self._informational:
            self._flush_inflater()
            if self._waiter is not None:
                self._finish()
            return
        if not self._received_any and self.used > 1:
            self._fail(Stale())
        elif isinstance(exc, ConnectionResetError | BrokenPipeError):
            self._fail(H1Error("ReadError", " ".join(str(exc).split()) or "connection reset"))
        elif self._first_byte:
            self._fail(
                H1Error(
                    "RemoteProtocolError",
                    "peer closed connection without sending complete message body",
                )
            )
        else:
            self._fail(
                H1Error("RemoteProtocolError", "Server disconnected without sending a response.")
            )

    # -- httptools callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None:
            # A second answer after the one asked for (within the same bytes): nothing of it
            # is read, and the connection is not used again.
            self._keep_alive = False

    def on_status(self, status: bytes) -> None:
        if self._waiter is not None:
            self._count_head(len(status))
            self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._waiter is not None:
            self._count_head(len(name) + len(value))
            self._headers.append((name, value))

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            raise H1Error(
                "RemoteProtocolError", f"answer's status and headers over {MAX_HEAD_BYTES} bytes"
            )

    def on_headers_complete(self) -> None:
        parser = self._parser
        if self._waiter is None or parser is None:
            return
        status = self._status = parser.get_status_code()
        if 100 <= status < 200:
            self._informational = True  # 100 Continue and the like: the answer follows
            return
        self._first_byte = time.perf_counter()
        if self._head_only:
            # httptools cannot be told a HEAD's answer has no body: the answer ends here, and
            # the next request gets a new parser.
            self._keep_alive = parser.should_keep_alive()
            self._parser = None
            self._finish()
            return
        length = chunked = False
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = True
            elif lowered == b"transfer-encoding":
                chunked = True
            elif lowered == b"content-encoding":
                self._coding = value.decode("latin-1").strip().lower()
        self._until_close = not (length or chunked) and status not in (204, 304)
        if self._coding in ("", "identity"):
            self._coding = ""
        elif self._coding in _WBITS:
            self._inflater = Inflater(self._coding)

    def on_body(self, body: bytes) -> None:
        if self._waiter is None or self._truncated:
            return
        if self._inflater is not None:
            try:
                body = self._inflater.feed(body, self._max - len(self._buffer))
            except zlib.error as exc:
                raise H1Error(
                    "DecodingError", f"{self._coding} body cannot be decoded: {exc}"
                ) from None
        self._take(body)

    def _take(self, body: bytes) -> None:
        self._decoded += len(body)
        buffer = self._buffer
        room = self._max - len(buffer)
        if len(body) > room:
            buffer += body[:room]
            self._truncated = True
            self._keep_alive = False
            self._finish()  # the rest is never read: the connection closes
        else:
            buffer += body

    def _flush_inflater(self) -> None:
        if self._inflater is not None and not self._truncated:
            try:
                tail = self._inflater.flush()
            except zlib.error as exc:
                self._fail(
                    H1Error("DecodingError", f"{self._coding} body cannot be decoded: {exc}")
                )
                return
            if tail:
                self._take(tail)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            self._reason = b""
            self._headers = []
            self._head_bytes = 0
            return
        if self._waiter is None:
            return
        parser = self._parser
        self._keep_alive = parser is not None and parser.should_keep_alive() and not self._truncated
        self._flush_inflater()
        if self._waiter is not None:
            self._finish()
