"""The ingest benchmark's load generator (``bench_serve._post_all``): every request sent once,
over N keep-alive connections with one request in flight on each, responses counted ok or
failed by their status line (real loopback HTTP against the service's own HTTP server)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sdk.service._http import HttpServer, Request, Response

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_serve.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_serve_under_test", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


async def _server(handler: object) -> tuple[HttpServer, int]:
    server = HttpServer(handler, max_body=1024 * 1024)  # type: ignore[arg-type]
    _, port = await server.start("127.0.0.1", 0)
    return server, port


@pytest.mark.parametrize("clients", [1, 3, 8])
async def test_every_request_once_one_in_flight_a_connection(clients: int):
    seen: list[bytes] = []
    in_flight: dict[int, int] = {}
    most = 0

    async def handle(request: Request) -> Response:
        nonlocal most
        key = id(asyncio.current_task())  # one answering task a connection
        in_flight[key] = in_flight.get(key, 0) + 1
        most = max(most, in_flight[key])
        seen.append(request.body)
        await asyncio.sleep(0)
        in_flight[key] -= 1
        number = int(request.body.split(b":")[1].rstrip(b"}"))
        if number % 5 == 0:  # every fifth is refused, a long answer split over packets
            return Response(400, b'{"success": false, "message": "' + b"x" * 70_000 + b'"}')
        return Response(200, b'{"success": true}')

    server, port = await _server(handle)
    try:
        bodies = [b'{"n":%d}' % n for n in range(200)]
        requests = [bench._request("/v1/batch", body) for body in bodies]
        ok, failed = await asyncio.wait_for(bench._post_all(port, requests, clients), 30)
    finally:
        await server.stop(1.0)
    assert (ok, failed) == (160, 40)
    assert sorted(seen) == sorted(bodies)  # each once
    assert most == 1
    assert len(requests) == 200  # the caller's list is left as it was


async def test_a_connection_closed_mid_request_is_an_error():
    async def handle(request: Request) -> Response:
        raise asyncio.CancelledError  # the answering task dies: the request is never answered

    server, port = await _server(handle)
    try:
        requests = [bench._request("/v1/batch", b"{}") for _ in range(3)]
        task = asyncio.ensure_future(bench._post_all(port, requests, 1))
        await asyncio.sleep(0.2)
        for connection in list(server.connections):
            assert connection.transport is not None
            connection.transport.close()
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(task, 5)
    finally:
        await server.stop(1.0)
