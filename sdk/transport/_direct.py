"""The direct aiohttp carrier (what ``http="aiohttp"`` sends through) and the httpx client a
delivery holds with a direct carrier beside it (:class:`DirectClient`). Connectors still call
``ctx.http`` with httpx's arguments and get the same :class:`~sdk.transport.Response`;
underneath, the request :mod:`sdk.transport._request` builds (what httpx would have built) goes
straight to an aiohttp session, or to the lean HTTP/1.1 carrier (:mod:`sdk.transport._h1_pool`).
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from sdk.transport._request import (
    OutgoingRequest,
    RequestBuilder,
    Target,
    unsendable_header,
)

if TYPE_CHECKING:  # aiohttp is imported when the first request is carried (import time)
    import aiohttp

    from sdk.transport._http import DestinationHTTP
    from sdk.transport._response import Response

__all__ = [
    "DirectCarrier",
    "DirectClient",
    "OutgoingRequest",
    "Target",
    "unsendable_header",
]


class DirectCarrier(RequestBuilder):
    """One aiohttp session (created in the running loop on first use), pooling
    ``max_connections`` connections, never following redirects, keeping no cookies."""

    def __init__(self, max_connections: int, default_headers: httpx.Headers) -> None:
        super().__init__(max_connections, default_headers)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use (it belongs to the running event loop)."""
        session = self._session
        if session is None or session.closed:
            import aiohttp

            # httpx's own TLS context (certifi's roots, SSL_CERT_FILE...): the same certificates
            # are trusted whichever client carries a request.
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, ssl=httpx.create_ssl_context()
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
            self._session = session
        return session

    def timeout(self, total: float) -> aiohttp.ClientTimeout:
        """The connect and pool timeouts of :func:`sdk.transport.make_timeout`, in aiohttp's
        terms. Its read timeout (``total`` per read) is not set: the caller's deadline of
        ``total`` seconds around the whole exchange, started earlier, always ends first."""
        found = self._timeouts.get(total)
        if found is None:
            import aiohttp

            phase = min(total, 5.0)
            found = aiohttp.ClientTimeout(total=None, connect=phase, sock_connect=phase)
            self._timeouts[total] = found
        return found

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
        from sdk.transport._http_direct import request_direct

        return request_direct(
            http, self, method, path, json, content, data, params, headers, raise_for_status
        )

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class _LazyTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, built on its first request: building it loads the TLS roots
    (tens of milliseconds), which a delivery whose requests all go direct never needs."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._transport: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transport
        if transport is None:
            transport = self._transport = httpx.AsyncHTTPTransport(limits=self._limits)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


class DirectClient(httpx.AsyncClient):
    """The httpx client of a delivery, carrying a direct carrier beside it: the lean HTTP/1.1
    one (``carrier="h1"``, :mod:`sdk.transport._h1_pool`) or aiohttp (``"aiohttp"``).

    ``bulk_only``: the carrier takes only the requests of attempts that record no lifecycle as
    they go (bulk delivery: ``stream``); the others (``send``, ``send_many``, the tester, the
    contract kit) go through httpx, whose trace fills the record's connect and first-byte
    timings and which respx can mock.
    """

    direct: RequestBuilder

    def __init__(self, *, max_connections: int, bulk_only: bool, carrier: str = "h1") -> None:
        limits = httpx.Limits(max_connections=max_connections)
        super().__init__(transport=_LazyTransport(limits), follow_redirects=False)
        if carrier == "h1":
            from sdk.transport._h1_pool import H1Carrier

            self.direct = H1Carrier(max_connections, self.headers)
        else:
            self.direct = DirectCarrier(max_connections, self.headers)
        self.bulk_only = bulk_only

    async def aclose(self) -> None:
        """Close both pools."""
        try:
            await self.direct.aclose()
        finally:
            await super().aclose()
