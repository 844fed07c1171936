"""The lean HTTP/1.1 path of :meth:`DestinationHTTP.request` (see :mod:`sdk.transport._h1_pool`):
the request httpx would build, the same record, errors and answer, carried on ``httptools``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from sdk._errors import RetryableError
from sdk.transport._body import _codings, _collect
from sdk.transport._h1 import H1Answer, H1Error, H1Timeout
from sdk.transport._h1_pool import H1Carrier
from sdk.transport._http import DestinationHTTP
from sdk.transport._http_carried import begin, header_items
from sdk.transport._request import OutgoingRequest
from sdk.transport._response import DirectResponse, Response

__all__ = ["request_h1"]

#: Errors recorded as ``timed out: <name>`` (as httpx's own timeouts are).
_TIMEOUTS = frozenset({"ConnectTimeout", "PoolTimeout"})


async def request_h1(
    http: DestinationHTTP,
    carrier: H1Carrier,
    method: str,
    path: str,
    json: Any,
    content: bytes | str | None,
    data: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    headers: dict[str, str],
    raise_for_status: bool,
) -> Response:
    """:meth:`DestinationHTTP.request` on the lean carrier: the same request, record, errors
    and answer as the httpx path."""
    sent, trace, exchange = await begin(
        http, carrier, method, path, json, content, data, params, headers
    )
    target = sent.target
    if target.origin[0] not in ("http", "https"):
        error = H1Error(
            "UnsupportedProtocol", f"Request URL has an unsupported protocol {target.origin[0]}://"
        )
        raise http._fail(exchange, trace, http._network_error(error.name, error))
    wire = _wire(sent)
    try:
        answer = await carrier.pool().send(
            target, wire, sent.method == "HEAD", http.max_response_bytes, http.total_timeout
        )
        if answer.first_byte:
            trace.timings.first_byte_ms = (answer.first_byte - trace.t0) * 1000
        body = answer.body
        items = header_items(answer.headers)
        lookup = dict(items)
        if len(lookup) < len(items):  # a name twice: its values joined, as httpx reads them
            lookup = {}
            for name, value in items:
                lookup[name] = f"{lookup[name]}, {value}" if name in lookup else value
        if not body.truncated and "content-encoding" in lookup:
            body = await _decoded(answer, lookup["content-encoding"], http.max_response_bytes)
    except H1Timeout as exc:
        if exc.first_byte:
            trace.timings.first_byte_ms = (exc.first_byte - trace.t0) * 1000
        raise http._fail(exchange, trace, http._total_timeout(trace)) from None
    except H1Error as exc:
        if exc.name in _TIMEOUTS:
            raise http._fail(exchange, trace, RetryableError(f"timed out: {exc.name}")) from None
        raise http._fail(exchange, trace, http._network_error(exc.name, exc)) from None
    except httpx.DecodingError as exc:
        raise http._fail(exchange, trace, http._network_error("DecodingError", exc)) from None
    status, reason, raw = answer.status, answer.reason, answer.headers
    return http._answer(
        exchange,
        trace,
        body,
        status,
        reason,
        "HTTP/1.1",
        lookup,
        items,
        lambda data, kind: DirectResponse(status, reason, raw, body.content, sent, data, kind),
        raise_for_status,
    )


def _wire(sent: OutgoingRequest) -> bytes:
    """The request as HTTP/1.1 bytes; the lines its shape shares with others built once."""
    shape = sent.shape
    if shape is None:
        head = f"{sent.method} {sent.target.path} HTTP/1.1\r\n" + "".join(
            [f"{name}: {value}\r\n" for name, value in sent.headers]
        )
        return (head + "\r\n").encode("latin-1") + sent.content
    wire = shape.wire
    if wire is None:
        first = f"{shape.method} {shape.target.path} HTTP/1.1\r\n"
        before = "".join([f"{name}: {value}\r\n" for name, value in shape.before])
        after = "".join([f"{name}: {value}\r\n" for name, value in shape.after]) + "\r\n"
        wire = shape.wire = ((first + before).encode("latin-1"), after.encode("latin-1"))
    body = sent.content
    return b"%scontent-length: %d\r\n%s%s" % (wire[0], len(body), wire[1], body)


async def _decoded(answer: H1Answer, coding: str, max_bytes: int) -> Any:
    """A body in a coding other than gzip or deflate (which the connection inflated as it
    came), decoded by httpx's decoder within the cap, as the httpx carrier does."""
    codings = _codings(coding)
    if not codings or (len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate")):
        return answer.body
    raw = answer.body.content
    decoding = httpx.Response(200, headers=answer.headers, stream=httpx.ByteStream(raw))
    return await _collect(decoding.aiter_bytes(), max_bytes)
