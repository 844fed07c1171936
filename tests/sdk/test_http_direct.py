"""The direct aiohttp carrier (``http="aiohttp"``, and ``stream()`` under the default ``"auto"``):
the request httpx would build, and the same record, errors and answer, over real loopback HTTP
(the sandbox, a closed port)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from _connectors import NoSettings, SendOne

from sdk import AsyncDelivery, Delivery, Destination, DestinationKind, RetryPolicy
from sdk.delivery._client import make_client
from sdk.testing import Faults, Sandbox
from sdk.transport import DestinationHTTP, Redactor
from sdk.transport._direct import DirectClient

destination: Destination[NoSettings] = Destination(
    name="Direct Test",
    slug="direct_test",
    kind=DestinationKind.EVENT,
    settings=NoSettings,
    actions=[SendOne()],
    retry=RetryPolicy(max_attempts=2, jitter=0.0),
)


def _event(i: int) -> dict[str, Any]:
    return {"type": "track", "event": "Clicked", "userId": f"u-{i}", "messageId": f"m-{i}"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b'{"a":1}', "headers": {"Content-Type": "application/json"}},
        {"content": '{"é":1}', "headers": {}},
        {"json": {"a": "é", "b": [1, 2.5, None]}, "headers": {"X-Key": "k"}},
        # A default set again moves to the connector's place, as httpx merges.
        {"json": {"a": 1}, "headers": {"X-A": "1", "user-agent": "me/1", "Accept": "x/y"}},
        {"json": {"a": 1}, "headers": {"content-type": "application/vnd.api+json"}},
        # Built by httpx, carried by aiohttp: the same again.
        {"content": b"", "headers": {}},
        {"json": [1], "headers": {}, "params": {"q": "a b", "n": "1"}},
        {"data": {"f": "v w"}, "headers": {}},
        {"content": b"x", "headers": {"X-Repeat": "1", "x-repeat": "2"}},
        {"content": b"x", "headers": {"Host": "other.example"}},
    ],
)
def test_the_request_is_the_one_httpx_builds(kwargs: dict[str, Any]) -> None:
    client = make_client(None, 1, "aiohttp")
    assert isinstance(client, DirectClient)
    options = {"json": None, "content": None, "data": None, "params": None, **kwargs}
    for url in ("http://example.com/a/b?x=1", "https://EXAMPLE.com:8443/p%20q/é"):
        sent = client.direct.build(client, "post", url, **options)
        expected = client.build_request("POST", url, **options)
        assert sent.method == expected.method
        assert sent.url == str(expected.url)
        assert sent.headers == expected.headers.multi_items()
        assert sent.content == expected.content


@pytest.mark.parametrize(
    ("headers", "url"),
    [({"X-Key": "caf\u00e9"}, "http://example.com/"), ({}, "http://example.com/a\nb")],
)
async def test_what_httpx_refuses_to_build_is_refused_alike(
    headers: dict[str, str], url: str
) -> None:
    messages = []
    for backend in ("httpx", "aiohttp"):
        async with make_client(None, 1, backend) as client:  # type: ignore[arg-type]
            http = DestinationHTTP(client, base_url=url, redactor=Redactor(), record_bodies=False)
            with pytest.raises(Exception) as caught:
                await http.post(url, content=b"x", headers=headers)
            messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "cannot be sent" in messages[0] and "caf" not in messages[0]


async def test_an_illegal_header_is_recorded_and_refused_without_its_value() -> None:
    with Sandbox() as server:
        outcomes = []
        for backend in ("httpx", "aiohttp"):
            exchanges: list[Any] = []
            async with make_client(None, 1, backend) as client:  # type: ignore[arg-type]
                http = DestinationHTTP(
                    client,
                    base_url=server.url,
                    redactor=Redactor(),
                    on_exchange=exchanges.append,
                    record_bodies=False,
                )
                with pytest.raises(Exception) as caught:
                    await http.post("/x", content=b"x", headers={"X-Key": "a\x00secret"})
            (exchange,) = exchanges
            outcomes.append((str(caught.value), exchange.error.message, exchange.response))
        assert server.requests == []
    assert outcomes[0] == outcomes[1]
    assert "secret" not in outcomes[0][0] and outcomes[0][2] is None


async def test_stream_goes_direct_and_send_through_httpx_by_default() -> None:
    with Sandbox() as server:
        async with AsyncDelivery(destination, {"endpoint": server.url}) as delivery:
            client = delivery._client
            assert isinstance(client, DirectClient) and client.bulk_only
            lifecycle = await delivery.send(_event(0))
            assert client.direct._session is None  # send: httpx carried it
            timings = lifecycle.attempts[0].exchanges[0].timings
            assert timings.connect_ms is not None  # httpx's trace: the record is unchanged
            results = [r async for r in delivery.stream(_event(i) for i in range(1, 41))]
            assert client.direct._session is not None  # stream: aiohttp carried it
        assert lifecycle.delivered
        assert sorted(r.index for r in results) == list(range(40))
        assert all(r.delivered and r.attempts == 1 for r in results)
        assert sorted(r.json["user"] for r in server.requests) == sorted(
            f"u-{i}" for i in range(41)
        )
        assert {r.headers["content-type"] for r in server.requests} == {"application/json"}


@pytest.mark.parametrize("http", ["auto", "aiohttp", "httpx", "httpx-aiohttp"])
def test_retry_after_and_the_record_of_a_failure_are_the_same_on_every_carrier(
    http: str,
) -> None:
    sleeps: list[float] = []
    faults = Faults(sequence=[429, 429, 429, 429], retry_after="7", body="text")
    with Sandbox(faults=faults) as server:
        settings = {"endpoint": server.url}
        with Delivery(destination, settings, http=http, sleep=sleeps.append) as delivery:  # type: ignore[arg-type]
            (result,) = list(delivery.stream([_event(0)]))
    assert sleeps == [7.0]
    assert not result.delivered and result.attempts == 2
    assert result.error is not None and result.error.status == 429
    assert result.lifecycle is not None  # a failure is recorded in full
    attempts = result.lifecycle.to_dict()["attempts"]
    assert [a["retry"]["decision"] for a in attempts] == ["retry", "give up"]
    exchange = attempts[0]["exchanges"][0]
    assert exchange["response"]["status"] == 429
    assert exchange["response"]["headers"]["retry-after"] == "7"
    assert exchange["request"]["body_kind"] == "omitted"
    assert exchange["request"]["headers"]["content-type"] == "application/json"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("http", ["httpx", "aiohttp"])
def test_a_refused_connection_reads_the_same(http: str) -> None:
    from tester_tui.lifecycle_render import error_line

    port = _closed_port()
    settings = {"endpoint": f"http://127.0.0.1:{port}"}
    with Delivery(destination, settings, http=http, sleep=lambda _: None) as delivery:  # type: ignore[arg-type]
        lifecycle = delivery.send(_event(0))
    assert lifecycle.outcome == "failed: retryable exhausted"
    assert lifecycle.error is not None
    assert lifecycle.error.message.startswith("network error: ConnectError: ")
    assert f"connection refused by 127.0.0.1:{port}" in error_line(lifecycle)


async def test_a_dropped_connection_is_a_retryable_network_error() -> None:
    with Sandbox(faults=Faults(drop_connection=True)) as server:
        async with AsyncDelivery(
            destination, {"endpoint": server.url}, http="aiohttp", sleep=_no_sleep
        ) as delivery:
            lifecycle = await delivery.send(_event(0))
    assert lifecycle.outcome == "failed: retryable exhausted"
    assert lifecycle.error is not None and lifecycle.error.retryable
    assert lifecycle.error.message.startswith("network error: ")


async def _no_sleep(seconds: float) -> None:
    return None


async def test_the_answer_has_httpx_s_face() -> None:
    with Sandbox() as server:
        async with make_client(None, 1, "aiohttp") as client:
            http = DestinationHTTP(client, base_url=server.url, redactor=Redactor())
            response = await http.post("/v1/x", json={"a": 1}, headers={"X-T": "1"})
    assert response.status_code == 200 and response.reason_phrase == "OK"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == response.data and response.data["received"]["json"] == {"a": 1}
    assert response.text == response.content.decode()
    raw = response.raw
    assert isinstance(raw, httpx.Response) and raw.json() == response.data
    assert raw.request.method == "POST" and raw.request.url == f"{server.url}/v1/x"
    assert response.request.headers["x-t"] == "1"


@pytest.mark.parametrize("http", ["auto", "aiohttp"])
def test_a_proxy_in_the_environment_leaves_everything_to_httpx(
    monkeypatch: pytest.MonkeyPatch, http: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    client = make_client(None, 1, http)  # type: ignore[arg-type]
    assert not isinstance(client, DirectClient)
    monkeypatch.delenv("HTTPS_PROXY")
    assert isinstance(make_client(None, 1, http), DirectClient)  # type: ignore[arg-type]
