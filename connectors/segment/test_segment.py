"""Segment connector: exact /v1/batch requests, limits, regions, and the contract suite."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


OK = {"success": True}


def _sent(route: respx.Route, call: int = -1) -> list[dict[str, Any]]:
    batch: list[dict[str, Any]] = json.loads(route.calls[call].request.content)["batch"]
    return batch


@respx.mock(assert_all_called=True)
def test_forwards_the_message_with_basic_auth(respx_mock: respx.MockRouter) -> None:
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
    expected_message = event.to_wire()
    del expected_message["integrations"]  # {"All": false, "Segment": true}: reset, see below
    assert body["batch"] == [expected_message]
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


# -- what is forwarded: integrations reset, upstream writeKey dropped ------------------------


@respx.mock(assert_all_called=True)
def test_a_journey_event_reaches_the_receiving_workspaces_destinations(
    respx_mock: respx.MockRouter,
) -> None:
    # Forwarded as {"All": false, "Segment": true}, no destination of the receiving workspace
    # would get it (Segment HTTP API, "Selecting Destinations"): the object is reset.
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    event = _journey_event()
    assert event.integrations == {"All": False, "Segment": True}
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        assert delivery.send(event).delivered
    [message] = _sent(route)
    assert "integrations" not in message
    assert sdk.route(message.get("integrations"), "Braze").delivered
    assert message["context"]["personas"] == event.context["personas"]


@respx.mock(assert_all_called=True)
def test_entries_naming_other_destinations_are_kept(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    event = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "messageId": "m-1",
        "integrations": {"All": False, "Segment": True, "Mixpanel": False, "Braze": {"x": 1}},
    }
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        assert delivery.send(event).delivered
    [message] = _sent(route)
    assert message["integrations"] == {"Mixpanel": False, "Braze": {"x": 1}}
    assert not sdk.route(message["integrations"], "Mixpanel").delivered
    assert sdk.route(message["integrations"], "Amplitude").delivered


@respx.mock(assert_all_called=True)
def test_the_upstream_write_key_is_never_forwarded(respx_mock: respx.MockRouter) -> None:
    # The HTTP API takes a writeKey in the body as an alternative to Basic auth: a message
    # copied from an upstream source may carry that source's key.
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    upstream = "upstream-write-key-DmBXIN4J"
    event = {
        "type": "identify",
        "userId": "019mr8mf4r",
        "messageId": "m-2",
        "traits": {"email": "pgibbons@example.com"},
        "writeKey": upstream,
    }
    with sdk.Delivery(destination, {"write_key": KEY, "strip_integrations": True}) as d:
        assert d.send(event).delivered
    request = route.calls.last.request
    assert upstream not in request.content.decode()
    [message] = _sent(route)
    assert "writeKey" not in message
    assert message["traits"] == {"email": "pgibbons@example.com"}


# -- Engage events ---------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_journey_identify_is_forwarded_with_its_key_trait(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    step = sdk.Space("spa_src").step("First Purchase", "Opened Email", destinations=["Segment"])
    event = step.event("identify", user_id="u1")
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    [message] = _sent(route)
    assert message["type"] == "identify"
    assert message["userId"] == "u1"
    assert message["traits"] == {step.key: True}
    assert message["messageId"] == event.message_id
    assert message["context"]["personas"]["computation_key"] == step.key
    assert "integrations" not in message


@respx.mock(assert_all_called=True)
def test_an_audience_exit_is_forwarded(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    audience = sdk.Space("spa_src").audience("Big Spenders", destinations=["Segment"])
    event = audience.event("track", user_id="u1", entered=False)
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        assert delivery.send(event).delivered
    [message] = _sent(route)
    assert message["event"] == "Audience Exited"
    assert message["properties"] == {"big_spenders": False}
    assert message["context"]["personas"]["computation_key"] == "big_spenders"


@pytest.mark.parametrize("call", ["track", "identify"])
def test_a_journey_step_exit_is_refused_and_never_sent(call: str) -> None:
    step = sdk.Space("spa_src").step("First Purchase", "Opened Email", destinations=["Segment"])
    wire = step.event(call, user_id="u1").to_wire()  # type: ignore[arg-type]
    if call == "track":
        wire["event"] = "Audience Exited"
        wire["properties"][step.key] = False
    else:
        wire["traits"][step.key] = False
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://api.segment.io/v1/batch")
        with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
            lifecycle = delivery.send(wire)
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"


# -- Segment's answers -----------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_429_waits_for_retry_after_then_delivers(respx_mock: respx.MockRouter) -> None:
    # HTTP API, "Rate limits": a rejected request's answer carries Retry-After and
    # X-RateLimit-Reset, the seconds after which it may be retried.
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7", "X-RateLimit-Reset": "7"}),
            httpx.Response(200, json=OK),
        ]
    )
    waits: list[float] = []
    with sdk.Delivery(destination, {"write_key": KEY}, sleep=waits.append) as delivery:
        lifecycle = delivery.send(_journey_event())
    assert lifecycle.delivered
    assert route.call_count == 2
    assert _sent(route, 0) == _sent(route, 1)  # the same messages, the same messageIds
    first = lifecycle.attempts[0]
    assert first.error is not None and first.error.cls == "RateLimited"
    assert first.retry is not None and first.retry.decision == "retry"
    assert "Retry-After" in first.retry.reason
    assert waits == [7.0]


@pytest.mark.parametrize(
    "body",
    [
        "Bad Request",  # over 32 KB a message / 500 KB a batch
        "Invalid JSON",
    ],
)
@respx.mock(assert_all_called=True)
def test_segments_400_answers_fail_permanently(body: str, respx_mock: respx.MockRouter) -> None:
    # HTTP API, "Errors": 200 for every request except large payloads and JSON errors (400).
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(400, text=body)
    )
    with sdk.Delivery(destination, {"write_key": KEY}, sleep=lambda s: None) as delivery:
        lifecycle = delivery.send(_journey_event())
    assert route.call_count == 1
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert lifecycle.error is not None
    assert lifecycle.error.cls == "PayloadValidationError"
    assert lifecycle.error.message == f"HTTP 400 Bad Request: {body}"


@respx.mock(assert_all_called=True)
def test_a_5xx_is_retried_and_the_batch_resent_unchanged(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        side_effect=[httpx.Response(503, text="Service Unavailable"), httpx.Response(200, json=OK)]
    )
    with sdk.Delivery(destination, {"write_key": KEY}, sleep=lambda s: None) as delivery:
        lifecycle = delivery.send(_journey_event())
    assert lifecycle.delivered
    assert route.call_count == 2
    assert _sent(route, 0)[0]["messageId"] == _sent(route, 1)[0]["messageId"]


@respx.mock(assert_all_called=True)
def test_a_200_is_a_delivery(respx_mock: respx.MockRouter) -> None:
    # Segment answers 200 to every accepted request (even one it later drops: see its
    # Debugger); there is nothing per event to read.
    respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        lifecycle = delivery.send(_journey_event())
    assert lifecycle.delivered
    assert lifecycle.last_response is not None and lifecycle.last_response.status == 200


def _old_forward(message: dict[str, Any], strip: bool = False) -> dict[str, Any]:
    """What the forwarded document was before it was written straight to JSON: the wire
    document without writeKey, integrations reset and (when kept) set again last."""
    wire = sdk.parse_message(message).to_wire()
    wire.pop("writeKey", None)
    integrations = wire.pop("integrations", None)
    if not strip and isinstance(integrations, dict):
        kept = {k: v for k, v in integrations.items() if k not in ("All", "Segment")}
        if kept:
            wire["integrations"] = kept
    return wire


@pytest.mark.parametrize(
    ("extra", "strip"),
    [
        ({}, False),
        ({"writeKey": "upstream", "integrations": {"All": False, "Segment": True}}, False),
        ({"integrations": {"All": False, "Mixpanel": False, "Amp": {"k": [1, 2.5]}}}, False),
        ({"integrations": {"Mixpanel": False}, "writeKey": "w", "custom": None}, True),
        ({"properties": {"name": "Zoë 🎉", "n": 10**30, "f": 1e16}}, False),
        ({"context": {"integrations": {}}, "properties": {"integrations": {}}}, False),
        ({"properties": {"s": ',"integrations":{}', "integrations": 1}}, False),
        ({"context": {"integrations": {}}, "writeKey": "upstream"}, False),
    ],
)
def test_the_forwarded_json_is_the_forwarded_document(extra: dict[str, Any], strip: bool) -> None:
    message = {"type": "track", "event": "E", "userId": "u", "timestamp": "2026-01-01T00:00:00Z"}
    message.update(extra)
    settings = destination.settings.model_validate({"write_key": KEY, "strip_integrations": strip})
    action = destination.actions[0]
    parsed = sdk.parse_message(message)
    payload = action.map(parsed, settings)
    # what the runtime calls, with the bytes it wrote for the size check: the same payload
    assert action.map_wire(parsed, sdk.message_to_json(parsed), settings) == payload
    document = json.loads(payload)
    expected = _old_forward(message, strip)
    expected["messageId"] = document["messageId"]  # drawn when absent
    assert document == expected
    assert list(document) == list(expected)  # the same key order too
    assert action.payload_record(payload) == document
    assert action.payload_size(payload) == len(payload)
    assert b"upstream" not in payload and b'"w"' not in payload


@respx.mock(assert_all_called=True)
def test_the_batch_body_is_the_counted_bytes_joined(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.segment.io/v1/batch").mock(
        return_value=httpx.Response(200, json=OK)
    )
    events = [
        {"type": "track", "event": "É", "userId": f"ü{i}", "properties": {"x": "y" * i}}
        for i in range(30)
    ]
    action = destination.actions[0]
    settings = destination.settings.model_validate({"write_key": KEY})
    with sdk.Delivery(destination, {"write_key": KEY}) as delivery:
        lifecycles = delivery.send_many(events)
    assert all(lifecycle.delivered for lifecycle in lifecycles)
    content = route.calls.last.request.content
    body = json.loads(content)
    assert [m["userId"] for m in body["batch"]] == [e["userId"] for e in events]
    sizes = [action.payload_size(action.map(sdk.parse_message(m), settings)) for m in body["batch"]]
    # "[" + each payload + "," or "]": exactly what the batch limit counted, plus the envelope
    envelope = len(b'{"batch":') + len(b',"sentAt":""}') + len(body["sentAt"])
    assert len(content) == 1 + sum(size + 1 for size in sizes) + envelope
    assert "É".encode() in content  # UTF-8, as counted (not escaped)
    assert lifecycles[0].payload == body["batch"][0]


_words = st.sampled_from(
    ["integrations", '"integrations":', ',"integrations":{}', "writeKey", "All", "Segment", "é"]
)
_keys = st.one_of(_words, st.text(max_size=4))
#: The message's own fields (an unknown field has none of these names).
_KNOWN = frozenset(sdk.Track.model_fields) | {
    field.alias for field in sdk.Track.model_fields.values() if field.alias
}
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), _keys)
_json = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    context=st.dictionaries(_keys, _json, max_size=3),
    properties=st.dictionaries(_keys, _json, max_size=3),
    extra=st.dictionaries(_keys.filter(lambda key: key not in _KNOWN), _json, max_size=2),
    integrations=st.one_of(st.none(), st.dictionaries(_keys, st.booleans(), max_size=2)),
    strip=st.booleans(),
)
def test_map_wire_is_map_for_any_message(
    context: dict[str, Any],
    properties: dict[str, Any],
    extra: dict[str, Any],
    integrations: dict[str, Any] | None,
    strip: bool,
) -> None:
    # map_wire cuts the empty integrations object out of the runtime's bytes when it can find
    # it for sure, and writes the message again otherwise: either way, what map writes
    message = {**extra, "type": "track", "event": "E", "userId": "u", "messageId": "m"}
    message.update(context=context, properties=properties, timestamp="2026-01-01T00:00:00Z")
    if integrations is not None:
        message["integrations"] = integrations
    settings = destination.settings.model_validate({"write_key": KEY, "strip_integrations": strip})
    action = destination.actions[0]
    parsed = sdk.parse_message(message)
    payload = action.map(parsed, settings)
    assert action.map_wire(parsed, sdk.message_to_json(parsed), settings) == payload
    assert json.loads(payload) == _old_forward(message, strip)
