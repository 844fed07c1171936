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
import gzip
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

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
    MAX_RECORDED_BODY,
    ErrorInfo,
    Exchange,
    RecordedRequest,
    RecordedResponse,
    Timings,
)
from sdk.transport._ratelimit import Limiter
from sdk.transport._redaction import Redactor, quiet_http_loggers
from sdk.transport._retry import classify_status

__all__ = ["DestinationHTTP", "Response", "make_timeout"]

quiet_http_loggers()


def make_timeout(total: float) -> httpx.Timeout:
    """Explicit connect, read, write and pool timeouts within a total of ``total`` seconds.

    These bound each phase only; :class:`DestinationHTTP` enforces the total itself.
    """
    return httpx.Timeout(total, connect=min(total, 5.0), pool=min(total, 5.0))


class Response:
    """A destination's answer: the httpx response plus its parsed body."""

    def __init__(self, raw: httpx.Response, data: Any, kind: str) -> None:
        self.raw = raw
        #: The parsed JSON body, the text, or ``None`` when empty.
        self.data = data
        #: ``json``, ``text``, ``empty`` or ``binary``.
        self.kind = kind

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.raw.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers."""
        return self.raw.headers

    def json(self) -> Any:
        """The parsed JSON body; ``None`` if the body was not JSON."""
        return self.data if self.kind == "json" else None


def _decode_body(
    content: bytes, headers: Mapping[str, str], *, encoded: bool = True
) -> tuple[Any, str]:
    """Parse a body for the record. ``encoded=False`` for a response, whose content httpx has
    already decoded (its ``Content-Encoding`` header stays, but the bytes are plain)."""
    if not content:
        return None, "empty"
    if encoded and headers.get("content-encoding", "").lower() == "gzip":
        try:
            content = gzip.decompress(content)
        except OSError:
            return f"<{len(content)} bytes of undecodable gzip>", "binary"
    content_type = headers.get("content-type", "").lower()
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(content.decode(errors="replace"), keep_blank_values=True)), "form"
    try:
        text = content.decode()
    except UnicodeDecodeError:
        return f"<{len(content)} bytes of binary data>", "binary"
    stripped = text.strip()
    if stripped[:1] in ("{", "[") or "json" in content_type:
        try:
            return json.loads(stripped), "json"
        except json.JSONDecodeError:
            pass
    return text, "text"


class _Trace:
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
        self._timeout = make_timeout(timeout)
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

    def url(self, path: str) -> str:
        """An absolute URL: ``path`` as is when absolute, else joined to the base URL."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _record_request(self, request: httpx.Request) -> RecordedRequest:
        if self.record_bodies:
            body, kind = _decode_body(request.content, request.headers)
        else:
            body, kind = f"<{len(request.content)} bytes, not recorded>", "omitted"
        return RecordedRequest(
            method=request.method,
            url=self.redactor.url(str(request.url)),
            headers=self.redactor.headers(request.headers.multi_items()),
            body=_cap(self.redactor.value(body)),
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
        merged = {**self._default_headers, **(headers or {})}
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
            raise _unsendable(exc) from None
        if self._rate_limiter is not None:
            waited = await self._rate_limiter.acquire()
            if self.on_rate_limit_wait is not None:
                self.on_rate_limit_wait(waited)
        trace = _Trace()
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
            error: DeliveryError = RetryableError(
                f"timed out: no complete answer within the total timeout of "
                f"{self.total_timeout:g}s (the server was still sending)"
                if trace.timings.first_byte_ms is not None
                else f"timed out: no answer within the total timeout of {self.total_timeout:g}s"
            )
            self._close(exchange, trace, error)
            raise error from None
        except httpx.TimeoutException as exc:
            error = RetryableError(f"timed out: {type(exc).__name__}")
            self._close(exchange, trace, error)
            raise error from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if isinstance(exc, httpx.LocalProtocolError) and "llegal header" in str(exc):
                # A NUL or CR in a header value: the request can never be sent, so this is
                # permanent, and the client's message, which quotes the value, is not shown.
                error = _unsendable(exc)
                self._close(exchange, trace, error)
                raise error from None
            # DecodingError: the body could not be decoded (a broken gzip stream), most
            # likely a truncated transfer; recorded like a network error, not a crash.
            detail = self.redactor.text(" ".join(str(exc).split())) or type(exc).__name__
            error = RetryableError(f"network error: {type(exc).__name__}: {detail}")
            self._close(exchange, trace, error)
            raise error from None
        if body.truncated:
            error = self._too_large(raw)
            exchange.response = self._recorded_response(raw, body, None, "text")
            self._close(exchange, trace, error)
            raise error
        data_, kind = _decode_body(body.content, raw.headers, encoded=False)
        redacted_body = self.redactor.value(data_)
        exchange.response = self._recorded_response(raw, body, redacted_body, kind)
        response = Response(raw, data_, kind)
        # Classified from the redacted body: the error message quotes it, and a vendor's
        # error may echo credential-named fields whose values are not registered secrets.
        problem = classify_status(
            raw.status_code,
            raw.reason_phrase,
            body=redacted_body,
            headers=raw.headers,
            redactor=self.redactor,
        )
        if problem is not None:
            problem = _redacted(problem, self.redactor)
        self._close(exchange, trace, problem if raise_for_status else None)
        if raise_for_status and problem is not None:
            raise problem
        return response

    def _recorded_response(
        self, raw: httpx.Response, body: CappedBody, redacted: Any, kind: str
    ) -> RecordedResponse:
        """The response as recorded: a body over :data:`RECORDED_EXCERPT_BYTES` (or cut by the
        cap) becomes a marked excerpt of its redacted text."""
        recorded: Any = redacted
        if body.truncated:
            # Redact before cutting; the last bytes read go first, as a secret cut in two by
            # the cap would not be recognised.
            text = body.content[:-256].decode("utf-8", errors="replace")
            recorded = excerpt(self.redactor.text(text), self.max_response_bytes, more=True)
        elif len(body.content) > RECORDED_EXCERPT_BYTES and kind in ("json", "text", "form"):
            text = redacted if isinstance(redacted, str) else _json_text(redacted)
            recorded, kind = excerpt(text, len(body.content)), "text"
        return RecordedResponse(
            status=raw.status_code,
            reason=raw.reason_phrase,
            http_version=raw.http_version,
            headers=self.redactor.headers(raw.headers.multi_items()),
            body=_cap(recorded),
            body_kind=kind,
        )

    def _too_large(self, raw: httpx.Response) -> DeliveryError:
        status = f"HTTP {raw.status_code} {raw.reason_phrase}".strip()
        return IntegrationError(
            f"{status}: response body larger than max_response_bytes="
            f"{self.max_response_bytes:,} bytes; reading stopped there, so what the destination "
            "did is unknown",
            status=raw.status_code,
        )

    def _close(self, exchange: Exchange, trace: _Trace, error: DeliveryError | None) -> None:
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


def _unsendable(exc: Exception) -> IntegrationError:
    """A request the HTTP client refuses to send: a permanent error that never quotes the value
    (it is often a credential with a stray control character)."""
    if isinstance(exc, httpx.InvalidURL):
        what = "the URL holds a character a URL cannot carry (a control character or a space)"
    elif isinstance(exc, UnicodeEncodeError):
        what = "a header value holds a non-ASCII character"
    else:
        what = "a header holds a character HTTP does not allow (NUL, CR, LF or another control)"
    return IntegrationError(
        f"the request cannot be sent: {what} ({type(exc).__name__}); check the settings that "
        "go into the URL and headers (credentials included); nothing was sent"
    )


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _cap(body: Any) -> Any:
    if isinstance(body, str) and len(body) > MAX_RECORDED_BODY:
        return body[:MAX_RECORDED_BODY] + f"... [cut: {len(body)} characters in all]"
    return body


def _redacted(error: DeliveryError, redactor: Redactor) -> DeliveryError:
    masked = redactor.text(error.message)
    if masked != error.message:
        error.message = masked
        error.args = (masked,)
    return error
