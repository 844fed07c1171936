"""Reading a destination's answer within a byte cap, and the bounded excerpt a record keeps.

A per-attempt timeout bounds time, not bytes: an endless body on a fast link fills gigabytes
within the timeout. So a response is streamed, and reading stops once more than
``max_response_bytes`` decoded bytes have arrived (decoded: a small gzip answer inflating to
gigabytes is stopped the same way). Only what was read is kept, and the record shows a bounded
excerpt of it, marked as cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "RECORDED_EXCERPT_BYTES",
    "CappedBody",
    "excerpt",
    "read_capped",
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

    The response is left read (``response.content`` is what was kept), so code that reads
    ``.content``, ``.text`` or ``.json()`` afterwards sees the capped body; the caller closes it.
    """
    if max_bytes < 1:
        raise ValueError("max_bytes: must be at least 1")
    buffer = bytearray()
    received = 0
    truncated = False
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        room = max_bytes - len(buffer)
        if len(chunk) > room:
            buffer += chunk[:room]
            truncated = True
            break
        buffer += chunk
    content = bytes(buffer)
    # What httpx's own aread() does once the stream is consumed; reading stopped early here.
    response._content = content
    return CappedBody(content, received, truncated)


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
