"""HTTP for connectors: one pooled httpx client, explicit timeouts, every call recorded.

A connector calls ``ctx.http.request(...)`` (or ``.post``/``.get``/...). The SDK waits for the
rate limit, sends through httpx with its ``trace`` extension for timings, records the redacted
request and response in the current attempt, and by default turns a non-2xx answer into the
taxonomy's error (see :func:`sdk.transport.classify_status`), so connectors only handle what is
special about their API.

``timeout`` is a total per request: httpx's per-phase timeouts (connect, read, write, pool)
restart with every byte, so a server trickling its answer could hold a request far longer; a
deadline around sending and reading the whole body enforces the total.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import httpx

from sdk._errors import DeliveryError, IntegrationError, RetryableError
from sdk.transport._body import (
    DEFAULT_MAX_RESPONSE_BYTES,
    RECORDED_EXCERPT_BYTES,
    CappedBody,
    excerpt,
    read_capped,
)
from sdk.transport._lifecycle import (
    ErrorInfo,
    Exchange,
    RecordedRequest,
    RecordedResponse,
    Timings,
)
from sdk.transport._ratelimit import Limiter
from sdk.transport._redaction import Redactor, quiet_http_loggers
from sdk.transport._response import (
    Response,
    cap,
    decode_body,
    json_text,
    redacted,
    unsendable,
)
from sdk.transport._retry import classify_status

if TYPE_CHECKING:
    from sdk.transport._request import RequestBuilder

__all__ = ["DestinationHTTP", "Response", "Trace", "make_timeout"]

quiet_http_loggers()


def make_timeout(total: float) -> httpx.Timeout:
    """Explicit connect, read, write and pool timeouts within a total of ``total`` seconds.

    These bound each phase only; :class:`DestinationHTTP` enforces the total itself.
    """
    return httpx.Timeout(total, connect=min(total, 5.0), pool=min(total, 5.0))


@functools.lru_cache(maxsize=64)
def _timeout(total: float) -> httpx.Timeout:
    return make_timeout(total)  # one per total: a delivery builds this face for every attempt


class Trace:
    """Collects httpx/httpcore trace events into :class:`Timings`."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.timings = Timings()
        self._starts: dict[str, float] = {}

    def __call__(self, name: str, info: Mapping[str, Any]) -> None:
        now = (time.perf_counter() - self.t0) * 1000
        if name.endswith(".started"):
            self._starts[name[: -len(".started")]] = now
            if name.endswith("receive_response_headers.started"):
                self.timings.request_sent_ms = now
        elif name.endswith(".complete"):
            step = name[: -len(".complete")]
            started = self._starts.get(step, now)
            if step.endswith("connect_tcp") or step.endswith("connect_unix_socket"):
                self.timings.connect_ms = now - started
            elif step.endswith("start_tls"):
                self.timings.tls_ms = now - started
            elif step.endswith("receive_response_headers"):
                self.timings.first_byte_ms = now

    async def async_call(self, name: str, info: Mapping[str, Any]) -> None:
        self(name, info)


class DestinationHTTP:
    """The HTTP face a connector sees; records every exchange into ``on_exchange``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        redactor: Redactor,
        default_headers: Mapping[str, str] | None = None,
        rate_limiter: Limiter | None = None,
        timeout: float = 10.0,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_rate_limit_wait: Callable[[float], None] | None = None,
        record_bodies: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._client = client
        self.base_url = base_url.rstrip("/")
        self.redactor = redactor
        self._default_headers = dict(default_headers or {})
        self._rate_limiter = rate_limiter
        #: Total seconds allowed for one request, from sending it to reading its whole body.
        self.total_timeout = timeout
        self._timeout = _timeout(timeout)
        self.on_exchange = on_exchange
        #: Called with the seconds each request waited for the rate limiter.
        self.on_rate_limit_wait = on_rate_limit_wait
        #: Whether request bodies are recorded (bulk delivery without lifecycles: not).
        self.record_bodies = record_bodies
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes: must be at least 1")
        #: The most decoded bytes one attempt reads of a response body; past it the attempt
        #: fails (permanently: what the destination did is unknown) and reading stops.
        self.max_response_bytes = max_response_bytes
        # The direct carrier, when the client has one and this attempt may use it.
        carrier = cast("RequestBuilder | None", getattr(client, "direct", None))
        if carrier is not None and getattr(client, "bulk_only", False) and record_bodies:
            carrier = None
        self._direct = carrier

    def url(self, path: str) -> str:
        """An absolute URL: ``path`` as is when absolute, else joined to the base URL."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _record_request(self, request: httpx.Request) -> RecordedRequest:
        return self._recorded_request(
            request.method, str(request.url), request.headers.multi_items(), request.content
        )

    def _recorded_request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        content: bytes,
        masked: tuple[dict[str, str], str] | None = None,
    ) -> RecordedRequest:
        if self.record_bodies:
            body, kind = decode_body(content, dict(headers))
            body = cap(self.redactor.value(body))
        else:  # a size note: nothing in it to redact or cut
            body, kind = f"<{len(content)} bytes, not recorded>", "omitted"
        return RecordedRequest(
            method=method,
            url=self._masked_url(url) if masked is None else masked[1],
            headers=self._masked_headers(headers) if masked is None else masked[0],
            body=body,
            body_kind=kind,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_for_status: bool = True,
    ) -> Response:
        """Send one request; raise the taxonomy's error for a non-2xx answer unless told not to.

        Network errors and timeouts always raise :class:`RetryableError`; so does an answer
        not complete within the total timeout.
        """
        merged = {**self._default_headers, **headers} if headers else self._default_headers
        if self._direct is not None:
            return await self._direct.carry(
                self,
                method,
                path,
                json,
                content,
                data,
                params,
                merged,
                raise_for_status,
            )
        try:
            request = self._client.build_request(
                method,
                self.url(path),
                json=json,
                content=content,
                data=data,
                params=params,
                headers=merged,
                timeout=self._timeout,
            )
        except (UnicodeEncodeError, httpx.InvalidURL) as exc:
            raise unsendable(exc) from None
        await self._wait_for_rate_limit()
        trace = Trace()
        request.extensions["trace"] = trace.async_call
        exchange = Exchange(request=self._record_request(request))
        try:
            # The deadline covers sending and reading the (capped) body.
            async with asyncio.timeout(self.total_timeout):
                raw = await self._client.send(request, stream=True)
                try:
                    body = await read_capped(raw, self.max_response_bytes)
                finally:
                    await raw.aclose()
        except TimeoutError:
            raise self._fail(exchange, trace, self._total_timeout(trace)) from None
        except httpx.TimeoutException as exc:
            timed_out = RetryableError(f"timed out: {type(exc).__name__}")
            raise self._fail(exchange, trace, timed_out) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if isinstance(exc, httpx.LocalProtocolError) and "llegal header" in str(exc):
                # A NUL or CR in a header value: the request can never be sent, so this is
                # permanent, and the client's message, which quotes the value, is not shown.
                raise self._fail(exchange, trace, unsendable(exc)) from None
            # DecodingError: the body could not be decoded (a broken gzip stream), most
            # likely a truncated transfer; recorded like a network error, not a crash.
            error = self._network_error(type(exc).__name__, exc)
            raise self._fail(exchange, trace, error) from None
        return self._answer(
            exchange,
            trace,
            body,
            raw.status_code,
            raw.reason_phrase,
            raw.http_version,
            raw.headers,
            raw.headers.multi_items(),
            lambda data, kind: Response(raw, data, kind),
            raise_for_status,
        )

    def _masked_headers(self, headers: list[tuple[str, str]]) -> dict[str, str]:
        if self._direct is not None:
            return self._direct.masked_headers(self.redactor, headers)
        return self.redactor.headers(headers)

    def _masked_url(self, url: str) -> str:
        if self._direct is not None:
            return self._direct.masked_url(self.redactor, url)
        return self.redactor.url(url)

    async def _wait_for_rate_limit(self) -> None:
        if self._rate_limiter is not None:
            waited = await self._rate_limiter.acquire()
            if self.on_rate_limit_wait is not None:
                self.on_rate_limit_wait(waited)

    def _total_timeout(self, trace: Trace) -> DeliveryError:
        return RetryableError(
            f"timed out: no complete answer within the total timeout of "
            f"{self.total_timeout:g}s (the server was still sending)"
            if trace.timings.first_byte_ms is not None
            else f"timed out: no answer within the total timeout of {self.total_timeout:g}s"
        )

    def _network_error(self, name: str, exc: Exception) -> DeliveryError:
        detail = self.redactor.text(" ".join(str(exc).split())) or name
        return RetryableError(f"network error: {name}: {detail}")

    def _fail(self, exchange: Exchange, trace: Trace, error: DeliveryError) -> DeliveryError:
        """Close ``exchange`` with ``error`` and return it, to be raised."""
        self._close(exchange, trace, error)
        return error

    def _answer(
        self,
        exchange: Exchange,
        trace: Trace,
        body: CappedBody,
        status: int,
        reason: str,
        http_version: str,
        headers: Mapping[str, str],
        header_items: list[tuple[str, str]],
        response_of: Callable[[Any, str], Response],
        raise_for_status: bool,
    ) -> Response:
        """Record the answer and classify it: the response, or its error raised."""
        if body.truncated:
            error = self._too_large(status, reason)
            exchange.response = self._recorded_response(
                status, reason, http_version, header_items, body, None, "text"
            )
            raise self._fail(exchange, trace, error)
        data_, kind = decode_body(body.content, headers, encoded=False)
        redacted_body = self.redactor.value(data_)
        exchange.response = self._recorded_response(
            status, reason, http_version, header_items, body, redacted_body, kind
        )
        response = response_of(data_, kind)
        # Classified from the redacted body: the error message quotes it, and a vendor's
        # error may echo credential-named fields whose values are not registered secrets.
        problem = classify_status(
            status, reason, body=redacted_body, headers=headers, redactor=self.redactor
        )
        if problem is not None:
            problem = redacted(problem, self.redactor)
        self._close(exchange, trace, problem if raise_for_status else None)
        if raise_for_status and problem is not None:
            raise problem
        return response

    def _recorded_response(
        self,
        status: int,
        reason: str,
        http_version: str,
        header_items: list[tuple[str, str]],
        body: CappedBody,
        redacted_body: Any,
        kind: str,
    ) -> RecordedResponse:
        """The response as recorded: a body over :data:`RECORDED_EXCERPT_BYTES` (or cut by the
        cap) becomes a marked excerpt of its redacted text."""
        recorded: Any = redacted_body
        if body.truncated:
            # Redact before cutting; the last bytes read go first, as a secret cut in two by
            # the cap would not be recognised.
            text = body.content[:-256].decode("utf-8", errors="replace")
            recorded = excerpt(self.redactor.text(text), self.max_response_bytes, more=True)
        elif len(body.content) > RECORDED_EXCERPT_BYTES and kind in ("json", "text", "form"):
            text = redacted_body if isinstance(redacted_body, str) else json_text(redacted_body)
            recorded, kind = excerpt(text, len(body.content)), "text"
        return RecordedResponse(
            status=status,
            reason=reason,
            http_version=http_version,
            headers=self._masked_headers(header_items),
            body=cap(recorded),
            body_kind=kind,
        )

    def _too_large(self, status: int, reason: str) -> DeliveryError:
        line = f"HTTP {status} {reason}".strip()
        return IntegrationError(
            f"{line}: response body larger than max_response_bytes="
            f"{self.max_response_bytes:,} bytes; reading stopped there, so what the destination "
            "did is unknown",
            status=status,
        )

    def _close(self, exchange: Exchange, trace: Trace, error: DeliveryError | None) -> None:
        trace.timings.total_ms = (time.perf_counter() - trace.t0) * 1000
        exchange.timings = trace.timings
        if error is not None:
            exchange.error = ErrorInfo.of(error)
        if self.on_exchange is not None:
            self.on_exchange(exchange)

    async def get(self, path: str, **kwargs: Any) -> Response:
        """``GET``; see :meth:`request`."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Response:
        """``POST``; see :meth:`request`."""
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Response:
        """``PUT``; see :meth:`request`."""
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Response:
        """``DELETE``; see :meth:`request`."""
        return await self.request("DELETE", path, **kwargs)
