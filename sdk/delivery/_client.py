"""The pooled HTTP client one delivery object sends through. Connectors always see httpx's API
(``ctx.http``); what carries the requests underneath is the delivery's ``http`` choice:

- ``"httpx"`` (the default): httpx's own transport (httpcore). Its trace extension fills the
  lifecycle's timings, and respx mocks it in tests.
- ``"aiohttp"``: the ``httpx-aiohttp`` transport, aiohttp's connection pool and HTTP parser
  under the same httpx client. Measured (``benchmarks/bench_peers.py``), it is several times
  faster for one-event-per-request delivery on a loopback sink; the lifecycle's
  connect/first-byte timings are then left empty (httpcore's trace events do not exist there)
  and respx does not see its requests. Bulk delivery (``destkit sync``, services) picks it.
"""

from __future__ import annotations

from typing import Literal

import httpx

__all__ = ["HTTPBackend", "make_client"]

HTTPBackend = Literal["httpx", "aiohttp"]


def make_client(
    transport: httpx.AsyncBaseTransport | None,
    concurrency: int,
    backend: HTTPBackend = "httpx",
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` pooling twice ``concurrency`` connections, never following
    redirects; ``transport`` (a mock, respx, a test's) replaces the network when given."""
    limits = httpx.Limits(max_connections=max(concurrency, 1) * 2)
    if transport is None and backend == "aiohttp":
        from httpx_aiohttp import AiohttpTransport  # a runtime dependency, loaded when chosen

        transport = AiohttpTransport(limits=limits)
    elif backend not in ("httpx", "aiohttp"):
        raise ValueError(f"http: {backend!r} must be 'httpx' or 'aiohttp'")
    return httpx.AsyncClient(transport=transport, limits=limits, follow_redirects=False)
