"""What both direct carriers' paths of :meth:`DestinationHTTP.request` share (the lean HTTP/1.1
one, :mod:`sdk.transport._http_h1`, and aiohttp's, :mod:`sdk.transport._http_direct`): the
request built as httpx would build it, the rate limit waited for, the exchange's record begun;
and the answer's headers read as httpx reads them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from sdk.transport._http import DestinationHTTP, Trace
from sdk.transport._lifecycle import Exchange
from sdk.transport._request import OutgoingRequest, RequestBuilder
from sdk.transport._response import unsendable

__all__ = ["begin", "header_items"]


async def begin(
    http: DestinationHTTP,
    carrier: RequestBuilder,
    method: str,
    path: str,
    json: Any,
    content: bytes | str | None,
    data: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    headers: dict[str, str],
) -> tuple[OutgoingRequest, Trace, Exchange]:
    """The request to send, its trace (started now) and its exchange (the masked request
    recorded). Raises the lifecycle's failure for a request that cannot be sent (a non-ASCII
    or illegal header, an invalid URL), as the httpx path does."""
    try:
        sent = carrier.build(
            http._client,
            method,
            http.url(path),
            json=json,
            content=content,
            data=data,
            params=params,
            headers=headers,
        )
    except (UnicodeEncodeError, httpx.InvalidURL) as exc:
        raise unsendable(exc) from None
    if http._rate_limiter is not None:
        await http._wait_for_rate_limit()
    trace = Trace()
    masked = carrier.masked_request(http.redactor, sent)
    exchange = Exchange(
        request=http._recorded_request(sent.method, sent.url, sent.headers, sent.content, masked)
    )
    shape = sent.shape
    if shape is None or not shape.checked:
        illegal = carrier.unsendable(sent.headers)
        if illegal is not None:
            raise http._fail(exchange, trace, unsendable(illegal))
    return sent, trace, exchange


def header_items(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """``(lower-case name, value)`` as httpx's ``Headers.multi_items()`` gives them."""
    pairs = list(raw)
    try:
        return [(name.decode("ascii").lower(), value.decode("ascii")) for name, value in pairs]
    except UnicodeDecodeError:
        return httpx.Headers(pairs).multi_items()
