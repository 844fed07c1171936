"""One HTTP connection pool for the whole tester session.

``AsyncDelivery`` builds an ``httpx.AsyncClient`` per send; without a transport, each client
builds its own connection pool and TLS context (about 60 ms of CPU on this machine, more than
the loopback request itself) and opens a new connection. The tester hands every delivery this
transport instead: built once, kept open across sends (closing a delivery's client does not
close it), closed when the tester exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["SessionTransport"]


def _transport_class() -> type[httpx.AsyncBaseTransport]:
    import httpx

    class _Session(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self._inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await self._inner.handle_async_request(request)

        async def aclose(self) -> None:
            """A delivery's client closing: the session's pool stays open."""

        async def close_session(self) -> None:
            await self._inner.aclose()

    return _Session


class SessionTransport:
    """Builds the shared transport on first use (httpx is imported only then)."""

    def __init__(self) -> None:
        self._transport: httpx.AsyncBaseTransport | None = None

    def get(self) -> httpx.AsyncBaseTransport:
        """The session's transport (built on first use)."""
        if self._transport is None:
            self._transport = _transport_class()()
        return self._transport

    async def close(self) -> None:
        """Close the pool's connections (the tester is exiting)."""
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close_session()  # type: ignore[attr-defined]
