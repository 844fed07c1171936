"""Amplitude connector: exact /2/httpapi requests, Engage events, batching, every documented
error shape (400 per-event fields, silenced devices, 413, 429 throttling and daily quotas),
and the contract suite."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.amplitude import destination
from connectors.amplitude.contract import contract
from sdk.testing import ContractTests

KEY = "amp-test-key-3b9d41f0"
US = "https://api2.amplitude.com/2/httpapi"
EU = "https://api.eu.amplitude.com/2/httpapi"
OK = {"code": 200, "events_ingested": 1, "payload_size_bytes": 50, "server_upload_time": 1}


class TestAmplitudeContract(ContractTests):
    contract = contract


def _body(request: httpx.Request) -> dict[str, Any]:
    body = json.loads(request.content)
    assert isinstance(body, dict)
    return body


def _events(n: int, prefix: str = "user") -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "event": "Order Completed",
            "userId": f"{prefix}-{i:04d}",
            "messageId": f"msg-{i}",
            "properties": {"n": i},
        }
        for i in range(n)
    ]


def _order_completed() -> sdk.Track:
    return sdk.Track(
        event="Order Completed",
        user_id="user-20391",
        anonymous_id="anon-7f3c2a",
        message_id="order-88231-completed",
        timestamp=datetime(2026, 11, 3, 12, 0, tzinfo=UTC),
        properties={"revenue": 42.5, "currency": "USD", "product_id": "sku-1"},
        context={
            "ip": "136.24.0.114",
            "app": {"version": "2.1.3"},
            "os": {"name": "iOS", "version": "17.1"},
            "device": {
                "manufacturer": "Apple",
                "model": "iPhone15,2",
                "type": "ios",
                "advertisingId": "AEBE52E7-03EE-455A-B3C4-E57283966239",
            },
            "network": {"carrier": "Verizon"},
            "locale": "en-US",
            "location": {
                "country": "United States",
                "city": "San Francisco",
                "latitude": 37.77,
                "longitude": -122.39,
            },
            "library": {"name": "analytics-python", "version": "2.3.0"},
        },
    )


# -- request shapes -----------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_track_is_one_amplitude_event_with_documented_keys(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycle = delivery.send(_order_completed())
    assert lifecycle.delivered
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers  # the key travels in the body only
    assert _body(request) == {
        "api_key": KEY,
        "events": [
            {
                "user_id": "user-20391",
                "device_id": "anon-7f3c2a",
                "time": 1793707200000,
                "insert_id": "order-88231-completed",
                "platform": "iOS",
                "ip": "136.24.0.114",
                "app_version": "2.1.3",
                "os_name": "iOS",
                "os_version": "17.1",
                "device_manufacturer": "Apple",
                "device_model": "iPhone15,2",
                "carrier": "Verizon",
                "country": "United States",
                "city": "San Francisco",
                "location_lat": 37.77,
                "location_lng": -122.39,
                "language": "en-US",
                "idfa": "AEBE52E7-03EE-455A-B3C4-E57283966239",
                "revenue": 42.5,
                "productId": "sku-1",
                "event_type": "Order Completed",
                "event_properties": {"revenue": 42.5, "currency": "USD", "product_id": "sku-1"},
            }
        ],
    }
    # The api key in the body is masked in the lifecycle, wherever it could show.
    recorded = lifecycle.attempts[0].exchanges[0].request
    assert isinstance(recorded.body, dict)
    assert recorded.body["api_key"] == sdk.MASK
    assert KEY not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_identify_sets_traits_with_an_identify_event(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event = {
        "type": "identify",
        "userId": "user-20391",
        "messageId": "identify-1",
        "timestamp": "2026-11-03T12:00:00Z",
        "traits": {"plan": "pro", "email": "ada@example.com"},
    }
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    assert lifecycle.action == "identify_user"
    assert _body(route.calls.last.request)["events"] == [
        {
            "user_id": "user-20391",
            "time": 1793707200000,
            "insert_id": "identify-1",
            "event_type": "$identify",
            "user_properties": {"$set": {"plan": "pro", "email": "ada@example.com"}},
        }
    ]


@respx.mock(assert_all_called=True)
def test_audience_entered_and_exited_carry_the_key_and_personas(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    audience = sdk.Space("spa_x").audience("Big Spenders", destinations=["Amplitude"])
    entered = audience.event("track", user_id="user-20391")
    exited = audience.event("track", user_id="user-20391", entered=False)
    with sdk.Delivery(destination, {"api_key": KEY}, batching=False) as delivery:
        assert delivery.send(entered).delivered
        assert delivery.send(exited).delivered
    first, second = (_body(call.request)["events"][0] for call in route.calls)
    personas = {
        "computation_class": "audience",
        "computation_id": audience.id,
        "computation_key": "big_spenders",
        "namespace": "spa_x",
        "space_id": "spa_x",
    }
    assert first["event_type"] == "Audience Entered"
    assert first["event_properties"] == {"big_spenders": True, "personas": personas}
    assert second["event_type"] == "Audience Exited"
    assert second["event_properties"] == {"big_spenders": False, "personas": personas}


@respx.mock(assert_all_called=True)
def test_journey_step_key_is_a_boolean_user_property(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    step = sdk.Space("spa_x").step("First Purchase", "Opened Email", destinations=["Amplitude"])
    identify = step.event("identify", user_id="user-20391").to_wire()
    identify["traits"][step.key] = "true"  # the seeds' string form is accepted, sent as bool
    track = step.event("track", user_id="user-20391")
    with sdk.Delivery(destination, {"api_key": KEY}, batching=False) as delivery:
        assert delivery.send(identify).delivered
        assert delivery.send(track).delivered
    sent = [_body(call.request)["events"][0] for call in route.calls]
    by_type = {event["event_type"]: event for event in sent}
    assert by_type["$identify"]["user_properties"] == {"$set": {step.key: True}}
    assert by_type["Audience Entered"]["event_properties"][step.key] is True
    assert by_type["Audience Entered"]["event_properties"]["personas"]["computation_key"] == (
        step.key
    )


def test_a_journey_exit_is_refused_and_never_sent() -> None:
    step = sdk.Space("spa_x").step("First Purchase", "Opened Email", destinations=["Amplitude"])
    entered = step.event("track", user_id="user-20391").to_wire()
    exit_track = {**entered, "event": "Audience Exited", "properties": {step.key: False}}
    exit_identify = {**entered, "type": "identify", "traits": {step.key: False}}
    del exit_identify["event"], exit_identify["properties"]
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(US)
        with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
            lifecycles = [delivery.send(exit_track), delivery.send(exit_identify)]
    assert not route.called
    for lifecycle in lifecycles:
        assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"
        assert step.key in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_eu_region_and_min_id_length_option(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(EU).mock(return_value=httpx.Response(200, json=OK))
    event = {"type": "track", "event": "Signed Up", "userId": "u42", "messageId": "m1"}
    settings = {"api_key": KEY, "region": "eu", "min_id_length": 3}
    with sdk.Delivery(destination, settings) as delivery:
        assert delivery.send(event).delivered
    body = _body(route.calls.last.request)
    assert body["options"] == {"min_id_length": 3}
    assert body["events"][0]["user_id"] == "u42"


# -- batching -----------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_batches_hold_at_most_2000_events(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(_events(4500))
    assert all(lc.delivered for lc in lifecycles)
    sizes = sorted((len(_body(c.request)["events"]) for c in route.calls), reverse=True)
    assert sizes == [2000, 2000, 500]
    assert all(len(c.request.content) < 1_000_000 for c in route.calls)
    sent = {e["insert_id"] for c in route.calls for e in _body(c.request)["events"]}
    assert sent == {f"msg-{i}" for i in range(4500)}


@respx.mock(assert_all_called=True)
def test_events_per_request_setting_and_the_1_mb_limit(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    with sdk.Delivery(destination, {"api_key": KEY, "events_per_request": 10}) as delivery:
        assert all(lc.delivered for lc in delivery.send_many(_events(25)))
    assert sorted(len(_body(c.request)["events"]) for c in route.calls) == [5, 10, 10]
    route.calls.reset()
    big = _events(120)
    for event in big:
        event["properties"] = {"blob": "é" * 10_000}  # 20 KB of UTF-8 each
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        assert all(lc.delivered for lc in delivery.send_many(big))
    assert len(route.calls) >= 3
    assert all(len(c.request.content) < 1_000_000 for c in route.calls)


# -- errors -------------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_400_fails_exactly_the_named_events_and_resends_the_others(
    respx_mock: respx.MockRouter,
) -> None:
    rejected = {
        "code": 400,
        "error": "Invalid field values on some events",
        "events_with_invalid_fields": {"time": [1]},
        "events_with_missing_fields": {"event_type": [3]},
    }
    route = respx_mock.post(US).mock(
        side_effect=[httpx.Response(400, json=rejected), httpx.Response(200, json=OK)]
    )
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(_events(5))
    assert len(route.calls) == 2
    resent = [e["insert_id"] for e in _body(route.calls[1].request)["events"]]
    assert resent == ["msg-0", "msg-2", "msg-4"]
    assert [lc.delivered for lc in lifecycles] == [True, False, True, False, True]
    bad_time, bad_type = lifecycles[1].error, lifecycles[3].error
    assert bad_time is not None and bad_type is not None
    assert bad_time.cls == bad_type.cls == "PayloadValidationError"
    assert bad_time.message.startswith("time: ")
    assert bad_type.message.startswith("event_type: ")
    assert lifecycles[1].outcome is sdk.Outcome.FAILED_PERMANENT
    # The good events were delivered in the same attempt, without waiting.
    assert len(lifecycles[0].attempts) == 1
    assert len(lifecycles[0].attempts[0].exchanges) == 2


@respx.mock(assert_all_called=True)
def test_400_invalid_id_lengths_fail_only_the_named_events(respx_mock: respx.MockRouter) -> None:
    # The answer Amplitude gives for an id under min_id_length (its SDKs parse this field
    # like events_with_invalid_fields): only the named events fail, the others are resent.
    rejected = {
        "code": 400,
        "error": "Invalid id length for user_id or device_id",
        "events_with_invalid_id_lengths": {"user_id": [1], "device_id": [3]},
    }
    route = respx_mock.post(US).mock(
        side_effect=[httpx.Response(400, json=rejected), httpx.Response(200, json=OK)]
    )
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(_events(5))
    assert [lc.delivered for lc in lifecycles] == [True, False, True, False, True]
    resent = [e["insert_id"] for e in _body(route.calls[1].request)["events"]]
    assert resent == ["msg-0", "msg-2", "msg-4"]
    user, device = lifecycles[1].error, lifecycles[3].error
    assert user is not None and device is not None
    assert user.cls == device.cls == "PayloadValidationError"
    assert user.message == (
        "user_id: has a length Amplitude rejects (HTTP 400 events_with_invalid_id_lengths)"
    )
    assert device.message.startswith("device_id: has a length Amplitude rejects")
    assert lifecycles[1].outcome is sdk.Outcome.FAILED_PERMANENT


@respx.mock(assert_all_called=True)
def test_400_every_per_event_field_in_one_answer(respx_mock: respx.MockRouter) -> None:
    rejected = {
        "code": 400,
        "error": "Request rejected",
        "events_with_invalid_fields": {"time": [0]},
        "events_with_missing_fields": {"event_type": [1]},
        "events_with_invalid_id_lengths": {"user_id": [2]},
        "silenced_devices": ["silenced-device-9"],
        "silenced_events": [3],
    }
    events = _events(6)
    events[4]["anonymousId"] = "silenced-device-9"  # named only among silenced_devices
    route = respx_mock.post(US).mock(
        side_effect=[httpx.Response(400, json=rejected), httpx.Response(200, json=OK)]
    )
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(events)
    assert [lc.delivered for lc in lifecycles] == [False, False, False, False, False, True]
    assert [e["insert_id"] for e in _body(route.calls[1].request)["events"]] == ["msg-5"]
    messages = [lc.error.message.split(":")[0] for lc in lifecycles[:5] if lc.error]
    assert messages == ["time", "event_type", "user_id", "device_id", "device_id"]


@respx.mock(assert_all_called=True)
def test_400_with_only_the_first_bad_index_converges(respx_mock: respx.MockRouter) -> None:
    # The docs say each field lists the index of the *first* event with the problem: a later
    # bad event is named only when the request is sent again without the first.
    route = respx_mock.post(US).mock(
        side_effect=[
            httpx.Response(400, json={"code": 400, "events_with_invalid_fields": {"time": [0]}}),
            httpx.Response(400, json={"code": 400, "events_with_invalid_fields": {"time": [1]}}),
            httpx.Response(200, json=OK),
        ]
    )
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(_events(4))
    assert [lc.delivered for lc in lifecycles] == [False, True, False, True]
    assert [len(_body(c.request)["events"]) for c in route.calls] == [4, 3, 2]


@respx.mock(assert_all_called=True)
def test_400_silenced_and_throttled_devices(respx_mock: respx.MockRouter) -> None:
    silenced = {
        "code": 400,
        "eps_threshold": 100,
        "error": "Events silenced for device_id",
        "exceeded_daily_quota_devices": {},
        "silenced_devices": ["silenced_device_id_1"],
        "silenced_events": [0],
        "throttled_devices": {"throttled_device_id_2": 100},
        "throttled_events": [1],
    }
    route = respx_mock.post(US).mock(
        side_effect=[
            httpx.Response(400, json=silenced),
            httpx.Response(200, json=OK),
            httpx.Response(200, json=OK),
        ]
    )
    sleeps: list[float] = []
    with sdk.Delivery(destination, {"api_key": KEY}, sleep=sleeps.append) as delivery:
        lifecycles = delivery.send_many(_events(3))
    assert lifecycles[0].error is not None and lifecycles[0].error.cls == "IntegrationError"
    assert lifecycles[0].error.message.startswith("device_id: silenced")
    assert lifecycles[1].delivered and lifecycles[2].delivered
    assert lifecycles[1].attempts[1].wait_before_s == 30.0
    assert sleeps == [30.0]
    assert [len(_body(c.request)["events"]) for c in route.calls] == [3, 1, 1]


@respx.mock(assert_all_called=True)
def test_429_pauses_throttled_users_and_drops_daily_quota_ones(
    respx_mock: respx.MockRouter,
) -> None:
    throttled = {
        "code": 429,
        "error": "Too many requests for some devices and users",
        "eps_threshold": 30,
        "throttled_devices": {},
        "throttled_users": {"user-0001": 32},
        "exceeded_daily_quota_users": {"user-0002": 500200},
        "exceeded_daily_quota_devices": {},
        "throttled_events": [1],
    }
    route = respx_mock.post(US).mock(
        side_effect=[
            httpx.Response(429, json=throttled),
            httpx.Response(200, json=OK),  # user-0000 and user-0003, sent again at once
            httpx.Response(200, json=OK),  # user-0001 after its 30 s pause
        ]
    )
    sleeps: list[float] = []
    with sdk.Delivery(destination, {"api_key": KEY}, sleep=sleeps.append) as delivery:
        lifecycles = delivery.send_many(_events(4))
    assert [lc.delivered for lc in lifecycles] == [True, True, False, True]
    quota = lifecycles[2].error
    assert quota is not None and quota.cls == "IntegrationError" and not quota.retryable
    assert quota.message.startswith("user_id: over Amplitude's daily event quota")
    assert sleeps == [30.0]
    immediate = [e["user_id"] for e in _body(route.calls[1].request)["events"]]
    assert immediate == ["user-0000", "user-0003"]
    assert [e["user_id"] for e in _body(route.calls[2].request)["events"]] == ["user-0001"]


@pytest.mark.parametrize(("headers", "wait"), [({}, 30.0), ({"Retry-After": "12"}, 12.0)])
def test_429_without_event_details_waits_30_s_or_retry_after(
    headers: dict[str, str], wait: float
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(US).mock(
            side_effect=[
                httpx.Response(429, headers=headers, json={"code": 429, "error": "slow down"}),
                httpx.Response(200, json=OK),
            ]
        )
        with sdk.Delivery(destination, {"api_key": KEY}, sleep=lambda s: None) as delivery:
            lifecycle = delivery.send(_events(1)[0])
    assert lifecycle.delivered
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RateLimited"
    assert lifecycle.attempts[1].wait_before_s == wait


@respx.mock(assert_all_called=True)
def test_413_splits_the_batch_in_halves(respx_mock: respx.MockRouter) -> None:
    too_large = httpx.Response(413, json={"code": 413, "error": "Payload too large"})
    route = respx_mock.post(US).mock(
        side_effect=[too_large, httpx.Response(200, json=OK), httpx.Response(200, json=OK)]
    )
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(_events(4))
    assert all(lc.delivered for lc in lifecycles)
    assert [len(_body(c.request)["events"]) for c in route.calls] == [4, 2, 2]
    assert lifecycles[0].attempts[0].retry is not None
    assert lifecycles[0].attempts[0].retry.decision == "split"


@respx.mock(assert_all_called=True)
def test_413_for_a_single_event_is_payload_too_large(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(US).mock(
        return_value=httpx.Response(413, json={"code": 413, "error": "Payload too large"})
    )
    with sdk.Delivery(destination, {"api_key": KEY}, sleep=lambda s: None) as delivery:
        lifecycle = delivery.send(_events(1)[0])
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert len(lifecycle.attempts) == 1
    attempt_error = lifecycle.attempts[0].error
    assert attempt_error is not None and attempt_error.cls == "PayloadTooLarge"
    assert lifecycle.error is not None
    assert lifecycle.error.message.startswith("event: is ")
    assert "413" in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_invalid_api_key_is_an_authentication_failure(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(US).mock(
        return_value=httpx.Response(400, json={"code": 400, "error": "Invalid API key"})
    )
    with sdk.Delivery(destination, {"api_key": KEY}, sleep=lambda s: None) as delivery:
        lifecycles = delivery.send_many(_events(3))
    for lifecycle in lifecycles:
        assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"
        assert len(lifecycle.attempts) == 1
        assert KEY not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_missing_request_field_fails_the_whole_request(respx_mock: respx.MockRouter) -> None:
    body = {
        "code": 400,
        "error": "Request missing required field",
        "missing_field": "api_key",
        "events_with_missing_fields": {"event_type": [0]},
    }
    respx_mock.post(US).mock(return_value=httpx.Response(400, json=body))
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(_events(2))
    for lifecycle in lifecycles:
        assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
        assert "(api_key)" in lifecycle.error.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(status: int) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(US).mock(
            side_effect=[httpx.Response(status), httpx.Response(200, json=OK)]
        )
        with sdk.Delivery(destination, {"api_key": KEY}, sleep=lambda s: None) as delivery:
            lifecycle = delivery.send(_events(1)[0])
    assert lifecycle.delivered
    assert len(route.calls) == 2
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RetryableError"


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"type": "track", "event": "X", "userId": "u1"},
            "userId, anonymousId: Amplitude needs one of them (userId is shorter than 5 "
            "characters; anonymousId is missing; set min_id_length to allow shorter ids)",
        ),
        (
            {"type": "track", "event": "X", "userId": "u1", "anonymousId": "a1"},
            "userId, anonymousId: Amplitude needs one of them (userId is shorter than 5 "
            "characters; anonymousId is shorter than 5 characters;",
        ),
        (
            {"type": "track", "event": "X", "anonymousId": "null"},
            "userId, anonymousId: Amplitude needs one of them (userId is missing; anonymousId "
            "is a placeholder Amplitude rejects (e.g. null);",
        ),
        (
            {"type": "track", "event": "[Amplitude] Revenue", "userId": "user-20391"},
            "event: is an event name Amplitude reserves",
        ),
        (
            {"type": "track", "event": "$identify", "userId": "user-20391"},
            "event: is an event name Amplitude reserves",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_field(event: dict[str, Any], message: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(US)
        with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
            lifecycle = delivery.send(event)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidEvent"
    assert lifecycle.error.message.startswith(message)
    assert "\n" not in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_a_short_anonymous_id_is_left_out_when_the_user_id_is_valid(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event = {"type": "track", "event": "X", "userId": "user-20391", "anonymousId": "a1"}
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        assert delivery.send(event).delivered
    sent = _body(route.calls.last.request)["events"][0]
    assert sent["user_id"] == "user-20391"
    assert "device_id" not in sent


@pytest.mark.parametrize("call", ["track", "identify"])
@respx.mock(assert_all_called=True)
def test_a_short_user_id_is_left_out_when_the_anonymous_id_is_valid(
    call: str, respx_mock: respx.MockRouter
) -> None:
    # Amplitude: "If an event contains a device ID or user ID that's too short, the ID value is
    # removed from the event"; sent as is, Amplitude refuses the whole request instead (400
    # events_with_invalid_id_lengths {"user_id": [0]}).
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event: dict[str, Any] = {"type": call, "userId": "u42", "anonymousId": "anon-7f3c2a"}
    if call == "track":
        event["event"] = "Order Completed"
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    sent = _body(route.calls.last.request)["events"][0]
    assert sent["device_id"] == "anon-7f3c2a"
    assert "user_id" not in sent
    assert "dropped" not in sent
    # The lifecycle says what was left out (without the id itself).
    assert lifecycle.payload["dropped"] == {
        "user_id": "userId is shorter than 5 characters: left out"
    }
    assert "u42" not in json.dumps(lifecycle.payload)
    # ... and so do its notes, which the TUI and `destkit send` show.
    assert lifecycle.notes == ["userId is shorter than 5 characters: left out"]
    assert lifecycle.to_dict()["notes"] == lifecycle.notes
    assert "u42" not in json.dumps(lifecycle.notes)


@respx.mock(assert_all_called=True)
def test_a_placeholder_device_id_in_a_batch_is_noted_on_its_event_only(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    events = [
        {"type": "track", "event": "A", "userId": "user-0001", "anonymousId": "null"},
        {"type": "track", "event": "B", "userId": "user-0002", "anonymousId": "anon-7f3c2a"},
    ]
    with sdk.Delivery(destination, {"api_key": KEY}) as delivery:
        lifecycles = delivery.send_many(events)
    assert [lc.delivered for lc in lifecycles] == [True, True]
    assert len(route.calls) == 1
    assert "device_id" not in _body(route.calls.last.request)["events"][0]
    assert lifecycles[0].notes == [
        "anonymousId is a placeholder Amplitude rejects (e.g. null): left out"
    ]
    assert lifecycles[1].notes == []


@respx.mock(assert_all_called=True)
def test_min_id_length_keeps_a_short_user_id(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event = {"type": "track", "event": "X", "userId": "u42", "anonymousId": "anon-7f3c2a"}
    with sdk.Delivery(destination, {"api_key": KEY, "min_id_length": 3}) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    assert _body(route.calls.last.request)["events"][0]["user_id"] == "u42"
    assert "dropped" not in lifecycle.payload
    assert lifecycle.notes == []


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "api_key"),
        ({"api_key": KEY, "region": "apac"}, "region"),
        ({"api_key": KEY, "min_id_length": 0}, "min_id_length"),
        ({"api_key": KEY, "events_per_request": 2001}, "events_per_request"),
    ],
)
def test_broken_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(destination.settings, settings)
    assert info.value.field == field
    assert KEY not in str(info.value)


def test_registered_and_listed() -> None:
    assert sdk.get_destination("amplitude") is destination
    assert sdk.get_destination("Amplitude") is destination


def test_sandbox_receives_the_request_over_loopback() -> None:
    from sdk.testing import Sandbox

    with Sandbox() as server:
        settings = {"api_key": KEY, "endpoint": server.url}
        with sdk.Delivery(destination, settings) as delivery:
            lifecycle = delivery.send(_order_completed())
        assert lifecycle.delivered
        received = server.requests[-1]
        assert received.path == "/2/httpapi"
        body = json.loads(received.body)
        assert body["api_key"] == KEY
        assert body["events"][0]["insert_id"] == "order-88231-completed"
    assert KEY not in lifecycle.to_json()
