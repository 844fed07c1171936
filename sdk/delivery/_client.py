"""The pooled HTTP client one delivery object sends through (connectors see it as ``ctx.http``,
an httpx API)."""

from __future__ import annotations

import httpx

__all__ = ["make_client"]


def make_client(transport: httpx.AsyncBaseTransport | None, concurrency: int) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` pooling twice ``concurrency`` connections, never following
    redirects; ``transport`` (a mock, respx, a test's) replaces the network when given."""
    return httpx.AsyncClient(
        transport=transport,
        limits=httpx.Limits(max_connections=max(concurrency, 1) * 2),
        follow_redirects=False,
    )
