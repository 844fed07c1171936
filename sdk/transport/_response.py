"""A destination's answer as a connector sees it (:class:`Response`), and the small pieces of a
recorded exchange both carriers share: decoding a body for the record, cutting it, the refusal
of a request that cannot be sent."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

from sdk._errors import DeliveryError, IntegrationError
from sdk.transport._lifecycle import MAX_RECORDED_BODY
from sdk.transport._redaction import Redactor

if TYPE_CHECKING:
    from sdk.transport._request import OutgoingRequest

__all__ = ["DirectResponse", "Response"]


class Response:
    """A destination's answer: the httpx response plus its parsed body."""

    def __init__(self, raw: httpx.Response, data: Any, kind: str) -> None:
        self._raw = raw
        #: The parsed JSON body, the text, or ``None`` when empty.
        self.data = data
        #: ``json``, ``text``, ``empty`` or ``binary``.
        self.kind = kind

    @property
    def raw(self) -> httpx.Response:
        """The answer as an ``httpx.Response`` (its body already read, within the cap)."""
        return self._raw

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.raw.status_code

    @property
    def reason_phrase(self) -> str:
        """The status line's reason (``OK``, ``Not Found``...)."""
        return self.raw.reason_phrase

    @property
    def headers(self) -> httpx.Headers:
        """The response headers."""
        return self.raw.headers

    @property
    def content(self) -> bytes:
        """The body's (decoded) bytes."""
        return self.raw.content

    @property
    def text(self) -> str:
        """The body as text."""
        return self.raw.text

    @property
    def request(self) -> httpx.Request:
        """The request this answers."""
        return self.raw.request

    def json(self) -> Any:
        """The parsed JSON body; ``None`` if the body was not JSON."""
        return self.data if self.kind == "json" else None


class DirectResponse(Response):
    """An answer carried by aiohttp: the same face, its httpx objects built only when asked."""

    def __init__(
        self,
        status: int,
        reason: str,
        raw_headers: list[tuple[bytes, bytes]],
        content: bytes,
        sent: OutgoingRequest,
        data: Any,
        kind: str,
    ) -> None:
        self._raw: httpx.Response | None = None  # type: ignore[assignment]
        self._status = status
        self._reason = reason
        self._raw_headers = raw_headers
        self._headers: httpx.Headers | None = None
        self._content = content
        self._sent = sent
        self.data = data
        self.kind = kind

    @property
    def raw(self) -> httpx.Response:
        raw = self._raw
        if raw is None:
            sent = self._sent
            request = httpx.Request(sent.method, sent.url, headers=sent.headers)
            request._content = sent.content  # what was sent; already read
            raw = httpx.Response(
                self._status,
                headers=self.headers,
                request=request,
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": self._reason.encode()},
            )
            raw._content = self._content  # what httpx's own read would leave (decoded)
            self._raw = raw
        return raw

    @property
    def status_code(self) -> int:
        return self._status

    @property
    def reason_phrase(self) -> str:
        return self._reason

    @property
    def headers(self) -> httpx.Headers:
        headers = self._headers
        if headers is None:
            headers = self._headers = httpx.Headers(self._raw_headers)
        return headers

    @property
    def content(self) -> bytes:
        return self._content


def decode_body(
    content: bytes, headers: Mapping[str, str], *, encoded: bool = True
) -> tuple[Any, str]:
    """Parse a body for the record. ``encoded=False`` for a response, whose content has
    already been decoded (its ``Content-Encoding`` header stays, but the bytes are plain)."""
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


def unsendable(exc: Exception) -> IntegrationError:
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


def json_text(value: Any) -> str:
    """A value as JSON text for an excerpt."""
    return json.dumps(value, ensure_ascii=False, default=str)


def cap(body: Any) -> Any:
    """A recorded body cut at :data:`MAX_RECORDED_BODY` characters, with a note."""
    if isinstance(body, str) and len(body) > MAX_RECORDED_BODY:
        return body[:MAX_RECORDED_BODY] + f"... [cut: {len(body)} characters in all]"
    return body


def redacted(error: DeliveryError, redactor: Redactor) -> DeliveryError:
    """``error`` with any secret in its message masked."""
    masked = redactor.text(error.message)
    if masked != error.message:
        error.message = masked
        error.args = (masked,)
    return error
