"""Reading a destination's answer within a byte cap, and the bounded excerpt a record keeps.

A per-attempt timeout bounds time, not bytes: an endless body on a fast link fills gigabytes
within the timeout. So a response is streamed, and reading stops once more than
``max_response_bytes`` decoded bytes have arrived (decoded: a small gzip answer inflating to
gigabytes is stopped the same way). Only what was read is kept, and the record shows a bounded
excerpt of it, marked as cut.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "RECORDED_EXCERPT_BYTES",
    "CappedBody",
    "Inflater",
    "excerpt",
    "read_capped",
    "read_capped_direct",
]

#: The most decoded bytes one attempt reads of a response body: 4 MiB, far above any vendor
#: answer destkit expects (they are a few KB), far below what could hurt the process.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: A body larger than this is recorded as an excerpt of this many bytes, marked as cut.
RECORDED_EXCERPT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class CappedBody:
    """What was read of a body: its bytes (at most the cap) and whether reading stopped early."""

    content: bytes
    #: Decoded bytes received, counting the chunk that passed the cap.
    received: int
    truncated: bool


async def read_capped(response: httpx.Response, max_bytes: int) -> CappedBody:
    """Read a streamed response's decoded body, stopping once it passes ``max_bytes``.

    A gzip or deflate body is inflated here, never more than the room left under the cap at a
    time (the HTTP client's own decoder inflates a whole received chunk at once: a 64 KB chunk
    of a gzip bomb is 64 MB). Any other encoding is left to the client's decoder.

    The response is left read (``response.content`` is what was kept), so code that reads
    ``.content``, ``.text`` or ``.json()`` afterwards sees the capped body; the caller closes it.
    """
    if max_bytes < 1:
        raise ValueError("max_bytes: must be at least 1")
    codings = _codings(response.headers.get("content-encoding", ""))
    if response.is_stream_consumed:
        # Read already (an in-memory response from a test transport): its decoded content.
        chunks = response.aiter_bytes()
    elif not codings:
        chunks = response.aiter_raw()
    elif len(codings) == 1 and codings[0] in _WBITS:
        chunks = _inflated(response.aiter_raw(), codings[0], max_bytes)
    else:
        chunks = response.aiter_bytes()
    body = await _collect(chunks, max_bytes)
    # What httpx's own aread() does once the stream is consumed; reading stopped early here.
    response._content = body.content
    return body


async def read_capped_direct(response: aiohttp.ClientResponse, max_bytes: int) -> CappedBody:
    """:func:`read_capped` for an answer carried by aiohttp (read with its decompression off):
    the same cap, the same capped inflation of gzip and deflate; any other coding is decoded by
    httpx's decoder, as the httpx carrier does."""
    codings = _codings(response.headers.get("content-encoding", ""))
    if not codings:
        content = response.content
        buffer = bytearray()
        received = 0
        while chunk := await content.readany():
            received += len(chunk)
            room = max_bytes - len(buffer)
            if len(chunk) > room:
                buffer += chunk[:room]
                return CappedBody(bytes(buffer), received, True)
            buffer += chunk
        return CappedBody(bytes(buffer), received, False)
    raw = _aiohttp_chunks(response)
    if len(codings) == 1 and codings[0] in _WBITS:
        return await _collect(_inflated(raw, codings[0], max_bytes), max_bytes)
    decoding = httpx.Response(200, headers=list(response.raw_headers), stream=_Stream(raw))
    return await _collect(decoding.aiter_bytes(), max_bytes)


def _codings(header: str) -> list[str]:
    return [
        c.strip().lower() for c in header.split(",") if c.strip().lower() not in ("", "identity")
    ]


async def _collect(chunks: AsyncIterator[bytes], max_bytes: int) -> CappedBody:
    buffer = bytearray()
    received = 0
    truncated = False
    async for chunk in chunks:
        received += len(chunk)
        room = max_bytes - len(buffer)
        if len(chunk) > room:
            buffer += chunk[:room]
            truncated = True
            break
        buffer += chunk
    return CappedBody(bytes(buffer), received, truncated)


async def _aiohttp_chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    content = response.content
    while chunk := await content.readany():
        yield chunk


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk


#: zlib's window bits per coding: gzip's header and trailer; deflate as HTTP means it (zlib).
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class Inflater:
    """Incremental gzip or deflate decoding, bounded per feed: what :func:`read_capped` and the
    lean HTTP/1.1 carrier share.

    Several gzip members follow each other; a ``deflate`` body without its zlib header (which
    some servers send) is read as raw deflate. A broken stream raises ``zlib.error``.
    """

    __slots__ = ("_coding", "_first", "_z")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._z = zlib.decompressobj(_WBITS[coding])
        self._first = True

    def feed(self, data: bytes, limit: int) -> bytes:
        """``data`` inflated, stopping once more than ``limit`` bytes came out (at most
        ``limit + 1`` bytes are returned: the caller's cap is passed, the rest never built)."""
        parts: list[bytes] = []
        produced = 0
        while data:
            try:
                out = self._z.decompress(data, limit + 1 - produced)
            except zlib.error:
                if not (self._first and self._coding == "deflate"):
                    raise
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._z.decompress(data, limit + 1 - produced)
            self._first = False
            if out:
                parts.append(out)
                produced += len(out)
                if produced > limit:
                    break
            data = self._z.unconsumed_tail
            if not data and self._z.eof and self._z.unused_data:
                data = self._z.unused_data  # the next gzip member
                self._z = zlib.decompressobj(_WBITS[self._coding])
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def flush(self) -> bytes:
        """What the decoder still holds at the end of the body."""
        return self._z.flush()


async def _inflated(raw: AsyncIterator[bytes], coding: str, max_bytes: int) -> AsyncIterator[bytes]:
    """Inflate ``raw`` chunk by chunk, each step at most ``max_bytes + 1`` bytes of output
    (see :class:`Inflater`). A broken stream is an ``httpx.DecodingError``, as with the
    client's own decoder."""
    inflater = Inflater(coding)
    try:
        async for data in raw:
            out = inflater.feed(data, max_bytes)
            if out:
                yield out
        tail = inflater.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise httpx.DecodingError(f"{coding} body cannot be decoded: {exc}") from None


def excerpt(
    text: str, total_bytes: int, *, limit: int = RECORDED_EXCERPT_BYTES, more: bool = False
) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, with a marker saying how much was cut:
    ``…[cut: 25,000,000 bytes, 65,536 kept]``.

    ``total_bytes`` is the size of the whole body; ``more`` says it is only a lower bound (the
    body was not read to its end): ``…[cut: more than 4,194,304 bytes, 65,536 kept]``.
    """
    kept = text.encode("utf-8", errors="replace")[:limit].decode("utf-8", errors="ignore")
    kept_bytes = len(kept.encode("utf-8"))
    total = f"more than {total_bytes:,}" if more else f"{total_bytes:,}"
    return f"{kept}…[cut: {total} bytes, {kept_bytes:,} kept]"
