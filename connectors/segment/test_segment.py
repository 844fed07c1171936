"""Segment connector: exact /v1/batch requests, limits, regions, and the contract suite."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import respx

import sdk
from connectors.segment import destination
from connectors.segment.contract import contract
from sdk.testing import ContractTests

KEY = "seg-write-key-5f1e2d"


class TestSegmentContract(ContractTests):
    contract = contract


def _journey_event(user: str = "u1") -> sdk.Track:
    step = sdk.Space("spa_src").step("First Purchase", "Opened Email", destinations=["Segment"])
    event = step.event("track", user_id=user)
    assert isinstance(event, sdk.Track)
    return event


@respx.mock(assert_all_called=True)
def test_forwards_the_message_unchanged_with_basic_auth(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json={"success": True})
    )
    event = _journey_event()
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    request = route.calls.last.request
    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert request.headers["authorization"] == expected
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body["batch"] == [event.to_wire()]
    assert body["sentAt"].endswith("Z")
    assert lifecycle.attempts[0].exchanges[0].request.headers["authorization"] == "Basic [REDACTED]"


@respx.mock(assert_all_called=True)
def test_eu_region_and_stripped_integrations(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://events.eu1.segmentapis.com/v1/batch").mock(
        return_value=httpx.Response(200, json={"success": True})
    )
    settings = {"write_key": KEY, "region": "eu", "strip_integrations": True}
    with sdk.Delivery(destination, settings) as delivery:
        assert delivery.send(_journey_event()).delivered
    message = json.loads(route.calls.last.request.content)["batch"][0]
    assert "integrations" not in message
    assert message["context"]["personas"]["space_id"] == "spa_src"


@respx.mock(assert_all_called=True)
def test_batches_stay_under_500_kb(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json={"success": True})
    )
    big = "x" * 20_000  # each message about 20 KB, under the 32 KB message limit
    events = [
        {
            "type": "track",
            "event": "Big",
            "userId": f"u{n}",
            "messageId": f"m{n}",
            "properties": {"blob": big},
        }
        for n in range(60)
    ]
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        lifecycles = delivery.send_many(events)
    assert all(lc.delivered for lc in lifecycles)
    sizes = [len(call.request.content) for call in route.calls]
    assert all(size <= sdk.MAX_BATCH_BYTES for size in sizes)
    assert len(route.calls) >= 3
    sent = [m["messageId"] for c in route.calls for m in json.loads(c.request.content)["batch"]]
    assert sorted(sent) == sorted(f"m{n}" for n in range(60))


@respx.mock(assert_all_called=True)
def test_a_400_for_an_oversize_batch_is_not_retried(respx_mock: respx.MockRouter) -> None:
    respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(400, text="Bad Request")
    )
    with sdk.Delivery(destination, {"write_key": KEY}, sleep=lambda s: None) as delivery:
        lifecycle = delivery.send(_journey_event())
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert len(lifecycle.attempts) == 1
    assert lifecycle.error is not None and "400" in lifecycle.error.message


def test_a_message_over_32_kb_is_refused_before_sending() -> None:
    event = {"type": "track", "event": "Huge", "userId": "u", "properties": {"b": "x" * 40_000}}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://api.segment.io/v1/batch")
        with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
            lifecycle = delivery.send(event)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadTooLarge"


def test_write_key_is_required() -> None:
    with pytest.raises(sdk.InvalidSettings, match=r"^write_key: is required$"):
        sdk.load_settings(destination.settings, {})
