"""What the sandbox records of each request it receives: :class:`RecordedRequest`."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

from sdk.transport._redaction import MASK, is_secret_name

__all__ = ["BodyTooLarge", "RecordedRequest"]

#: The default cap on a request body, as received and once inflated: 8 MiB, above any vendor's
#: request limit (Mixpanel 2 MB, Amplitude 1 MB, Segment 500 KB).
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


class BodyTooLarge(ValueError):
    """A request body over the sandbox's cap, as sent or once inflated."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received (control requests excepted)."""

    method: str
    path: str
    """The path, without the query string, exactly as sent."""
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names lower-cased; repeated headers joined with ``", "``."""
    body: bytes
    """The body as received (still gzip-compressed if it was sent so)."""
    json: Any
    """The parsed body (decompressed first when ``Content-Encoding`` is gzip/deflate), or None."""
    received_at: float
    """When it arrived (``time.time()``)."""
    request_id: str = ""
    """The id the sandbox answered with (``request_id`` in its JSON answer)."""
    status: int | None = None
    """The status it was answered with; None when the connection was dropped."""
    fault: str | None = None
    """The fault that decided the answer (``"injected 503 (sequence 1/3)"``), if any."""

    @property
    def content(self) -> bytes:
        """The body, decompressed when ``Content-Encoding`` says gzip or deflate."""
        try:
            return _decode_content(self.body, self.headers.get("content-encoding", ""))
        except BodyTooLarge:  # only under a sandbox whose cap is above the default
            return _decode_content(self.body, self.headers.get("content-encoding", ""), 1 << 62)

    @property
    def text(self) -> str:
        """The decompressed body as text (UTF-8, undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def to_dict(self, *, redact: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; ``redact`` masks credential-named headers and query parameters."""
        content = self.content
        try:
            body, encoding = content.decode("utf-8"), "text"
        except UnicodeDecodeError:
            body, encoding = base64.b64encode(content).decode("ascii"), "base64"
        headers = dict(self.headers)
        query = {k: list(v) for k, v in self.query.items()}
        if redact:
            headers = {k: MASK if is_secret_name(k) else v for k, v in headers.items()}
            query = {k: [MASK] * len(v) if is_secret_name(k) else v for k, v in query.items()}
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": query,
            "headers": headers,
            "body": body,
            "body_encoding": encoding,
            "body_bytes": len(self.body),
            "json": self.json,
            "received_at": self.received_at,
            "status": self.status,
            "fault": self.fault,
        }


def _decode_content(
    body: bytes, content_encoding: str, limit: int = DEFAULT_MAX_BODY_BYTES
) -> bytes:
    """Undo ``Content-Encoding`` gzip/deflate (innermost last); leave anything else as is.

    Inflating stops once the output passes ``limit`` bytes (:class:`BodyTooLarge`): a small
    gzip bomb never becomes gigabytes.
    """
    data = body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                data = _inflate(data, zlib.MAX_WBITS | 16, limit)
            elif coding == "deflate":
                data = _inflate(data, zlib.MAX_WBITS, limit)
            elif coding != "identity":
                return body
        except zlib.error:
            return body
    return data


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Decompress every member of ``data`` (gzip may hold several), at most ``limit`` bytes."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits)
        out += inflater.decompress(rest, limit + 1 - len(out))
        if len(out) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge(f"the inflated body is larger than {limit:,} bytes")
        if not inflater.eof:
            raise zlib.error("truncated stream")
        rest = inflater.unused_data
    return bytes(out)


def _parse_json(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
