"""The lean HTTP/1.1 carrier (``http="direct"``, and bulk delivery under ``"auto"``): the
request :class:`~sdk.transport._direct.RequestBuilder` builds, carried on a small keep-alive pool
of :class:`~sdk.transport._h1.H1Connection` instead of an aiohttp session.

Per origin, idle connections are kept in a stack and reused last-in first-out (the warmest
first); one found closed is dropped. At most ``max_connections`` connections are open at once;
a request beyond that waits for one to come back. TLS uses one verifying context, created on
the first ``https`` request (certifi's roots, as httpx trusts them).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from sdk.transport._h1 import H1Answer, H1Connection, H1Error, Stale
from sdk.transport._request import RequestBuilder, Target

if TYPE_CHECKING:
    from sdk.transport._http import DestinationHTTP
    from sdk.transport._response import Response

__all__ = ["H1Carrier", "H1Pool"]


class H1Pool:
    """Keep-alive connections per origin, bounded in number; belongs to one event loop."""

    def __init__(self, max_connections: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.max_connections = max(max_connections, 1)
        self._idle: dict[tuple[str, str, int], list[H1Connection]] = {}
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ssl = ssl_context
        self.closed = False
        #: Connections opened so far (a test can see that keep-alive reused them).
        self.connects = 0

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The verifying TLS context, created once, on the first ``https`` request."""
        context = self._ssl
        if context is None:
            context = self._ssl = httpx.create_ssl_context()
        return context

    async def send(
        self, target: Target, data: bytes, head_only: bool, max_bytes: int, total: float
    ) -> H1Answer:
        """Send ``data`` (a whole request) to ``target``'s origin and read its answer within
        ``total`` seconds. Raises :class:`H1Error`, or ``H1Timeout`` once the deadline passed."""
        loop = self.loop
        deadline = loop.time() + total
        connection = self._idle_connection(target.origin)
        if connection is None:
            connection = await self._acquire(target.origin, deadline)
        timer = loop.call_at(deadline, connection.time_out)
        try:
            try:
                answer = await connection.exchange(data, max_bytes, head_only, loop)
            except Stale:
                # The server closed this idle keep-alive connection as the request went out,
                # and not one byte of an answer came. Sending it again on a new connection is
                # what at-least-once delivery allows: had the server acted on the first copy,
                # a duplicate is the worst outcome (receivers deduplicate by the event's id),
                # while giving up would fail a request that most likely never arrived. Once.
                timer.cancel()
                self._drop(connection)
                connection = await self._connect(target.origin, deadline)
                timer = loop.call_at(deadline, connection.time_out)
                try:
                    answer = await connection.exchange(data, max_bytes, head_only, loop)
                except Stale:
                    raise H1Error(
                        "RemoteProtocolError", "Server disconnected without sending a response."
                    ) from None
        except BaseException:
            timer.cancel()
            connection.abort()
            self._drop(connection)
            raise
        timer.cancel()
        self._release(connection)
        return answer

    # -- connections ----------------------------------------------------------------------

    def _idle_connection(self, origin: tuple[str, str, int]) -> H1Connection | None:
        """The most recently used idle connection to ``origin`` still open, if any."""
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable:
                return connection
            self._drop(connection)
        return None

    async def _acquire(self, origin: tuple[str, str, int], deadline: float) -> H1Connection:
        while True:
            connection = self._idle_connection(origin)
            if connection is not None:
                return connection
            if self._open < self.max_connections:
                return await self._connect(origin, deadline)
            if not self._close_an_idle():
                await self._wait(deadline)

    async def _connect(self, origin: tuple[str, str, int], deadline: float) -> H1Connection:
        """A new connection, counted as open (the caller checked there is room for it, or
        it replaces one just dropped)."""
        self._open += 1
        try:
            return await self._connected(origin, deadline)
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    async def _connected(self, origin: tuple[str, str, int], deadline: float) -> H1Connection:
        scheme, host, port = origin
        if self.closed:
            raise H1Error("ConnectError", "the client has been closed")
        loop = self.loop
        limit = min(5.0, deadline - loop.time())
        context = self.ssl_context if scheme == "https" else None
        try:
            async with asyncio.timeout(max(limit, 0.0)):
                _, connection = await loop.create_connection(
                    lambda: H1Connection(origin), host, port, ssl=context
                )
        except TimeoutError:
            raise H1Error("ConnectTimeout", f"no connection to {host}:{port} in time") from None
        except ssl.SSLError as exc:
            raise H1Error("ConnectError", f"TLS with {host}:{port} failed: {exc}") from None
        except socket.gaierror as exc:
            raise H1Error("ConnectError", f"cannot resolve {host}: {exc.strerror}") from None
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise H1Error("ConnectError", f"cannot connect to {host}:{port}: {reason}") from None
        if scheme == "http":
            sock = connection.transport.get_extra_info("socket") if connection.transport else None
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1
        return connection

    def _release(self, connection: H1Connection) -> None:
        if connection.reusable and not self.closed:
            self._idle.setdefault(connection.origin, []).append(connection)
            self._wake()
        else:
            connection.close()
            self._drop(connection)

    def _drop(self, connection: H1Connection) -> None:
        """Forget a connection that will not be used again (counted once)."""
        if not connection.dropped:
            connection.dropped = True
            connection.abort()
            self._open -= 1
            self._wake()

    def _close_an_idle(self) -> bool:
        """At the bound with every connection busy elsewhere or idle for another origin: close
        an idle one of another origin to make room. False when none is idle."""
        for connections in self._idle.values():
            if connections:
                self._drop(connections.pop(0))
                return True
        return False

    async def _wait(self, deadline: float) -> None:
        waiter = self.loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(max(min(5.0, deadline - self.loop.time()), 0.0)):
                await waiter
        except TimeoutError:
            raise H1Error("PoolTimeout", "no connection free in time") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Close every idle connection; the busy ones close when their answer is in."""
        self.closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


#: :func:`sdk.transport._http_h1.request_h1`, imported on first use (it imports this module).
_request_h1: Callable[..., Coroutine[Any, Any, Response]] | None = None


def _load_request_h1() -> Callable[..., Coroutine[Any, Any, Response]]:
    global _request_h1
    from sdk.transport._http_h1 import request_h1

    _request_h1 = request_h1
    return request_h1


class H1Carrier(RequestBuilder):
    """The request builder of the direct carriers on an :class:`H1Pool` (created in the
    running loop on first use, as the aiohttp carrier's session is)."""

    def __init__(self, max_connections: int, default_headers: httpx.Headers) -> None:
        super().__init__(max_connections, default_headers)
        #: The pool, once a request made it (the aiohttp carrier's name for its session).
        self._session: H1Pool | None = None
        self._ssl: ssl.SSLContext | None = None

    def pool(self) -> H1Pool:
        """The pool of the running loop (a new one if the loop changed or it was closed)."""
        pool = self._session
        if pool is None or pool.closed or pool.loop is not asyncio.get_running_loop():
            if pool is not None:
                self._ssl = pool._ssl  # one TLS context per carrier, whichever loop
                if not pool.loop.is_closed():
                    pool.close()
            pool = self._session = H1Pool(self.max_connections, self._ssl)
        return pool

    def carry(
        self,
        http: DestinationHTTP,
        method: str,
        path: str,
        json: Any,
        content: bytes | str | None,
        data: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
        raise_for_status: bool,
    ) -> Coroutine[Any, Any, Response]:
        request = _request_h1
        if request is None:
            request = _load_request_h1()
        return request(
            http, self, method, path, json, content, data, params, headers, raise_for_status
        )

    async def aclose(self) -> None:
        """Close the pool's connections."""
        if self._session is not None:
            self._session.close()
            self._session = None
