"""The pooled HTTP client one delivery object sends through. Connectors always see httpx's API
(``ctx.http``); what carries the requests underneath is the delivery's ``http`` choice:

- ``"auto"`` (the default): bulk delivery (``stream``, whose attempts record no lifecycle as
  they go) is carried by the lean HTTP/1.1 carrier (:mod:`sdk.transport._h1_pool`); ``send``,
  ``send_many`` and ``test_authentication`` (``destkit send``, the tester, the contract kit)
  go through httpx, whose trace fills the lifecycle's connect and first-byte timings and which
  respx mocks in tests.
- ``"httpx"``: httpx's own transport (httpcore) for everything.
- ``"direct"``: the lean HTTP/1.1 carrier (``asyncio.Protocol`` and the ``httptools`` parser,
  a keep-alive pool) for everything; the lifecycle's connect/TLS/request-sent timings are then
  left empty, and respx does not see its requests.
- ``"aiohttp"``: aiohttp directly (:mod:`sdk.transport._direct`) for everything (``destkit
  serve``'s workers, ``destkit sync``); the lifecycle's connect/TLS/request-sent timings are
  then left empty, and respx does not see its requests.
- ``"httpx-aiohttp"``: the ``httpx-aiohttp`` transport under httpx's client (kept for
  comparison: ``benchmarks/bench_peers.py``).

With a proxy set in the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``), which
httpx honours and the direct carrier does not speak to, httpx carries everything.

Measured one event per request on a loopback sink (``benchmarks/bench_peers.py``), the lean
carrier is the fastest, then aiohttp directly; both are several times faster than either httpx
carrier. A ``transport`` (a mock, respx's, a
test's) always means httpx with that transport.
"""

from __future__ import annotations

import os
from typing import Literal

import httpx

__all__ = ["HTTPBackend", "make_client"]

HTTPBackend = Literal["auto", "httpx", "direct", "aiohttp", "httpx-aiohttp"]
_BACKENDS = ("auto", "httpx", "direct", "aiohttp", "httpx-aiohttp")


def make_client(
    transport: httpx.AsyncBaseTransport | None,
    concurrency: int,
    backend: HTTPBackend = "auto",
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` pooling twice ``concurrency`` connections, never following
    redirects; ``transport`` (a mock, respx, a test's) replaces the network when given."""
    if backend not in _BACKENDS:
        raise ValueError(f"http: {backend!r} must be one of {', '.join(map(repr, _BACKENDS))}")
    max_connections = max(concurrency, 1) * 2
    limits = httpx.Limits(max_connections=max_connections)
    if transport is None and backend in _DIRECT and not _environment_proxies():
        from sdk.transport._direct import DirectClient

        return DirectClient(
            max_connections=max_connections,
            bulk_only=backend == "auto",
            carrier=_DIRECT[backend],
        )
    if transport is None and backend == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits)
    return httpx.AsyncClient(transport=transport, limits=limits, follow_redirects=False)


#: The backends carried beside httpx, and by which direct carrier.
_DIRECT = {"auto": "h1", "direct": "h1", "aiohttp": "aiohttp"}


def _environment_proxies() -> bool:
    """Whether the environment names a proxy, as httpx reads it (``trust_env``)."""
    return any(key.lower() in _PROXY_VARIABLES and value for key, value in os.environ.items())


_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})
