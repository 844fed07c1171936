"""The direct aiohttp path of :meth:`DestinationHTTP.request` (see :mod:`sdk.transport._direct`):
the same request, record, errors and answer as the httpx path, without httpx's send machinery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx

from sdk._errors import RetryableError
from sdk.transport._body import read_capped_direct
from sdk.transport._direct import DirectCarrier
from sdk.transport._http import DestinationHTTP
from sdk.transport._http_carried import begin, header_items
from sdk.transport._response import DirectResponse, Response

__all__ = ["request_direct"]


async def request_direct(
    http: DestinationHTTP,
    carrier: DirectCarrier,
    method: str,
    path: str,
    json: Any,
    content: bytes | str | None,
    data: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    headers: dict[str, str],
    raise_for_status: bool,
) -> Response:
    """:meth:`request` carried by aiohttp (see :mod:`sdk.transport._direct`): the same
    request, record, errors and answer."""
    sent, trace, exchange = await begin(
        http, carrier, method, path, json, content, data, params, headers
    )
    try:
        async with asyncio.timeout(http.total_timeout):
            answer = await carrier.session().request(
                sent.method,
                sent.target.url,
                headers=sent.headers,
                data=sent.content,
                allow_redirects=False,
                timeout=carrier.timeout(http.total_timeout),
            )
            trace.timings.first_byte_ms = (time.perf_counter() - trace.t0) * 1000
            body = None
            try:
                body = await read_capped_direct(answer, http.max_response_bytes)
            finally:
                # A connection whose answer was not read to its end is not reused.
                if body is None or body.truncated:
                    answer.close()
                else:
                    answer.release()
    except aiohttp.ClientError as exc:
        name = network_error_name(exc)
        if name in TIMEOUT_NAMES:
            raise http._fail(exchange, trace, RetryableError(f"timed out: {name}")) from None
        raise http._fail(exchange, trace, http._network_error(name, exc)) from None
    except httpx.DecodingError as exc:
        raise http._fail(exchange, trace, http._network_error("DecodingError", exc)) from None
    except TimeoutError:
        raise http._fail(exchange, trace, http._total_timeout(trace)) from None
    raw_headers = list(answer.raw_headers)
    items = header_items(raw_headers)
    reason = answer.reason or ""
    return http._answer(
        exchange,
        trace,
        body,
        answer.status,
        reason,
        "HTTP/1.1",
        answer.headers,
        items,
        lambda data, kind: DirectResponse(
            answer.status, reason, raw_headers, body.content, sent, data, kind
        ),
        raise_for_status,
    )


#: aiohttp's exceptions by the httpx exception named in the record, most specific first: the
#: record and the tester's wording (``connection refused by HOST:PORT`` for a ConnectError)
#: read the same whichever client carried the request.
_NAMES: tuple[tuple[type[BaseException], str], ...] = (
    (aiohttp.ConnectionTimeoutError, "ConnectTimeout"),
    (aiohttp.SocketTimeoutError, "ReadTimeout"),
    (aiohttp.ServerTimeoutError, "ReadTimeout"),
    (aiohttp.ClientProxyConnectionError, "ProxyError"),
    (aiohttp.ClientHttpProxyError, "ProxyError"),
    (aiohttp.ClientConnectorError, "ConnectError"),
    (aiohttp.ServerDisconnectedError, "RemoteProtocolError"),
    (aiohttp.ClientPayloadError, "ReadError"),
    (aiohttp.NonHttpUrlClientError, "UnsupportedProtocol"),
    (aiohttp.InvalidUrlClientError, "UnsupportedProtocol"),
    (aiohttp.ClientResponseError, "RemoteProtocolError"),
    (aiohttp.ClientOSError, "NetworkError"),
    (aiohttp.ClientConnectionError, "NetworkError"),
)

#: The names above that are timeouts (recorded as ``timed out: <name>``).
TIMEOUT_NAMES = frozenset({"ConnectTimeout", "ReadTimeout"})


def network_error_name(exc: BaseException) -> str:
    """The httpx exception class an aiohttp error corresponds to."""
    for cls, name in _NAMES:
        if isinstance(exc, cls):
            return name
    return "NetworkError"
