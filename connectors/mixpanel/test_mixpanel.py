"""Mixpanel connector: exact /import and /engage requests, the three ways to authenticate,
residency, batching, strict-mode partial failures, /engage's 200-with-status-0 answers, and the
contract suite."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.mixpanel import destination, insert_id
from connectors.mixpanel.contract import contract
from sdk.testing import ContractTests

TOKEN = "mp-token-0f3e9a7c1b"
SA_USER = "destkit.test.sa"
SA_SECRET = "mp-sa-secret-51c2d8e4"
API_SECRET = "mp-api-secret-9d72aa10"
PROJECT = "2195193"
SETTINGS: dict[str, Any] = {
    "project_token": TOKEN,
    "service_account_username": SA_USER,
    "service_account_secret": SA_SECRET,
    "project_id": PROJECT,
}
IMPORT = f"https://api.mixpanel.com/import?strict=1&project_id={PROJECT}"
ENGAGE = "https://api.mixpanel.com/engage?verbose=1"
IMPORTED = {"code": 200, "num_records_imported": 1, "status": "OK"}
ENGAGED = {"status": 1, "error": None}


class TestMixpanelContract(ContractTests):
    contract = contract


def _basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _body(request: httpx.Request) -> list[dict[str, Any]]:
    body = json.loads(request.content)
    assert isinstance(body, list)
    return body


def _events(n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "event": "Signup",
            "userId": f"user-{i:04d}",
            "messageId": f"msg-{i}",
            "properties": {"n": i},
        }
        for i in range(n)
    ]


def _identifies(n: int) -> list[dict[str, Any]]:
    return [
        {"type": "identify", "userId": f"user-{i:04d}", "traits": {"plan": "pro", "n": i}}
        for i in range(n)
    ]


def _secrets_masked(lifecycle: sdk.Lifecycle) -> None:
    text = lifecycle.to_json()
    for secret in (TOKEN, SA_SECRET, API_SECRET):
        assert secret not in text


# -- request shapes -----------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_track_is_imported_in_strict_mode_with_a_service_account(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    event = sdk.Track(
        event="Signup",
        user_id="91304156-cafc-4673-a237-623d1129c801",
        anonymous_id="anon-7f3c2a",
        message_id="29fc2962-6d9c-455d-95ad-95b84f09b9e4",
        timestamp=datetime(2021, 4, 18, 3, 27, 57, tzinfo=UTC),
        properties={"Referred by": "Friend", "URL": "mixpanel.com/signup"},
        context={"ip": "136.24.0.114"},
    )
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    assert lifecycle.action == "import_event"
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.params["strict"] == "1"
    assert request.url.params["project_id"] == PROJECT
    assert request.headers["authorization"] == _basic(SA_USER, SA_SECRET)
    assert request.headers["content-type"] == "application/json"
    assert _body(request) == [
        {
            "event": "Signup",
            "properties": {
                "Referred by": "Friend",
                "URL": "mixpanel.com/signup",
                "time": 1618716477000,
                "distinct_id": "91304156-cafc-4673-a237-623d1129c801",
                "$insert_id": "29fc2962-6d9c-455d-95ad-95b84f09b9e4",
                "$user_id": "91304156-cafc-4673-a237-623d1129c801",
                "$device_id": "anon-7f3c2a",
                "ip": "136.24.0.114",
            },
        }
    ]
    recorded = lifecycle.attempts[0].exchanges[0].request
    assert recorded.headers["authorization"] == "Basic [REDACTED]"
    _secrets_masked(lifecycle)


@pytest.mark.parametrize(
    ("settings", "authorization"),
    [
        ({"auth_method": "api_secret", "api_secret": API_SECRET}, _basic(API_SECRET)),
        ({"auth_method": "project_token"}, _basic(TOKEN)),
    ],
)
def test_api_secret_and_project_token_authentication(
    settings: dict[str, Any], authorization: str
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://api.mixpanel.com/import").mock(
            return_value=httpx.Response(200, json=IMPORTED)
        )
        with sdk.Delivery(destination, {"project_token": TOKEN, **settings}) as delivery:
            lifecycle = delivery.send(_events(1)[0])
    assert lifecycle.delivered
    request = route.calls.last.request
    assert request.headers["authorization"] == authorization
    assert dict(request.url.params) == {"strict": "1"}  # no project_id without a service account
    _secrets_masked(lifecycle)


@respx.mock(assert_all_called=True)
def test_identify_sets_profile_properties_with_reserved_names(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, json=ENGAGED))
    event = {
        "type": "identify",
        "userId": "13793",
        "context": {"ip": "136.24.0.114"},
        "traits": {
            "email": "ada@example.com",
            "firstName": "Ada",
            "last_name": "Lovelace",
            "phone": "+14155550100",
            "plan": "pro",
        },
    }
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    assert lifecycle.action == "set_profile"
    request = route.calls.last.request
    assert "authorization" not in request.headers  # /engage is authenticated by $token
    assert request.headers["content-type"] == "application/json"
    assert _body(request) == [
        {
            "$token": TOKEN,
            "$distinct_id": "13793",
            "$set": {
                "plan": "pro",
                "$email": "ada@example.com",
                "$phone": "+14155550100",
                "$first_name": "Ada",
                "$last_name": "Lovelace",
                "$name": "Ada Lovelace",  # from first and last name
            },
            "$ip": "136.24.0.114",
        }
    ]
    recorded = lifecycle.attempts[0].exchanges[0].request.body
    assert isinstance(recorded, list) and recorded[0]["$token"] == sdk.MASK
    _secrets_masked(lifecycle)


@respx.mock(assert_all_called=True)
def test_audience_entered_and_exited_carry_the_key_and_personas(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    audience = sdk.Space("spa_x").audience("Big Spenders", destinations=["Mixpanel"])
    entered = audience.event("track", anonymous_id="anon-7f3c2a")
    exited = audience.event("track", anonymous_id="anon-7f3c2a", entered=False)
    with sdk.Delivery(destination, SETTINGS, batching=False) as delivery:
        assert delivery.send(entered).delivered
        assert delivery.send(exited).delivered
    first, second = (_body(call.request)[0] for call in route.calls)
    assert first["event"] == "Audience Entered"
    assert first["properties"]["big_spenders"] is True
    assert first["properties"]["distinct_id"] == "anon-7f3c2a"  # no userId: the anonymousId
    assert "$user_id" not in first["properties"]
    assert first["properties"]["personas"] == {
        "computation_class": "audience",
        "computation_id": audience.id,
        "computation_key": "big_spenders",
        "namespace": "spa_x",
        "space_id": "spa_x",
    }
    assert second["event"] == "Audience Exited"
    assert second["properties"]["big_spenders"] is False


@respx.mock(assert_all_called=True)
def test_journey_step_key_reaches_events_and_profiles(respx_mock: respx.MockRouter) -> None:
    imports = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    engage = respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, json=ENGAGED))
    step = sdk.Space("spa_x").step("First Purchase", "Opened Email", destinations=["Mixpanel"])
    identify = step.event("identify", user_id="user-20391").to_wire()
    identify["traits"][step.key] = "true"  # the seeds' string form, sent as a boolean
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycles = delivery.send_many([step.event("track", user_id="user-20391"), identify])
    assert all(lc.delivered for lc in lifecycles)
    assert _body(imports.calls.last.request)[0]["properties"][step.key] is True
    assert _body(engage.calls.last.request)[0]["$set"] == {step.key: True}


def test_a_journey_exit_is_refused_and_never_sent() -> None:
    step = sdk.Space("spa_x").step("First Purchase", "Opened Email", destinations=["Mixpanel"])
    entered = step.event("track", user_id="user-20391").to_wire()
    exit_track = {**entered, "event": "Audience Exited", "properties": {step.key: False}}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with sdk.Delivery(destination, SETTINGS) as delivery:
            lifecycle = delivery.send(exit_track)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"


@pytest.mark.parametrize(
    ("region", "host"), [("eu", "api-eu.mixpanel.com"), ("in", "api-in.mixpanel.com")]
)
def test_data_residency_hosts(region: str, host: str) -> None:
    with respx.mock(assert_all_called=True) as mock:
        imports = mock.post(f"https://{host}/import").mock(
            return_value=httpx.Response(200, json=IMPORTED)
        )
        engage = mock.post(f"https://{host}/engage").mock(
            return_value=httpx.Response(200, json=ENGAGED)
        )
        with sdk.Delivery(destination, {**SETTINGS, "region": region}) as delivery:
            lifecycles = delivery.send_many([_events(1)[0], _identifies(1)[0]])
    assert all(lc.delivered for lc in lifecycles)
    assert imports.called and engage.called


def test_insert_ids_follow_mixpanels_charset_and_length() -> None:
    assert insert_id("29fc2962-6d9c-455d-95ad-95b84f09b9e4") == (
        "29fc2962-6d9c-455d-95ad-95b84f09b9e4"
    )
    long_id = "destkit-4f1c3c8e-61d5-4a43-9d6b-2a8f0c1b7e55"  # 44 characters
    hashed = insert_id(long_id)
    assert len(hashed) == 36 and hashed.isalnum() and hashed == insert_id(long_id)
    assert insert_id("order#1") != "order#1" and len(insert_id("order#1")) == 36
    assert insert_id("null") != "null"
    assert insert_id(long_id) != insert_id(long_id + "x")


# -- batching -----------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_import_batches_hold_at_most_2000_events(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycles = delivery.send_many(_events(4500))
    assert all(lc.delivered for lc in lifecycles)
    assert sorted((len(_body(c.request)) for c in route.calls), reverse=True) == [2000, 2000, 500]
    sent = {e["properties"]["$insert_id"] for c in route.calls for e in _body(c.request)}
    assert sent == {f"msg-{i}" for i in range(4500)}


@respx.mock(assert_all_called=True)
def test_engage_batches_hold_at_most_2000_updates(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, json=ENGAGED))
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycles = delivery.send_many(_identifies(2001))
    assert all(lc.delivered for lc in lifecycles)
    assert sorted(len(_body(c.request)) for c in route.calls) == [1, 2000]


@respx.mock(assert_all_called=True)
def test_requests_stay_under_2_mb(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    events = _events(200)
    for event in events:
        event["properties"] = {"blob": "ü" * 12_000}  # 24 KB of UTF-8 each
    with sdk.Delivery(destination, SETTINGS) as delivery:
        assert all(lc.delivered for lc in delivery.send_many(events))
    assert len(route.calls) >= 3
    assert all(len(c.request.content) <= 2 * 1024 * 1024 for c in route.calls)


# -- errors -------------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_strict_400_fails_exactly_the_failed_records(respx_mock: respx.MockRouter) -> None:
    answer = {
        "code": 400,
        "error": "some data points in the request failed validation",
        "failed_records": [
            {
                "index": 0,
                "$insert_id": "msg-0",
                "field": "properties.time",
                "message": "'properties.time' is invalid: must be specified as seconds since epoch",
            },
            {  # no index: found by its insert id
                "insert_id": "msg-3",
                "field": "properties.utm_source",
                "message": "properties.utm_source is invalid: string should be valid utf8",
            },
        ],
        "num_records_imported": 3,
        "status": "Bad Request",
    }
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(400, json=answer))
    with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
        lifecycles = delivery.send_many(_events(5))
    assert len(route.calls) == 1  # Mixpanel ingested the valid ones: nothing is sent again
    assert [lc.delivered for lc in lifecycles] == [False, True, True, False, True]
    time_error, utf8_error = lifecycles[0].error, lifecycles[3].error
    assert time_error is not None and utf8_error is not None
    assert time_error.cls == utf8_error.cls == "PayloadValidationError"
    assert time_error.message.startswith("properties.time: ")
    assert utf8_error.message.startswith("properties.utm_source: ")
    assert lifecycles[0].outcome is sdk.Outcome.FAILED_PERMANENT


@respx.mock(assert_all_called=True)
def test_400_without_failed_records_fails_the_batch_once(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(IMPORT).mock(
        return_value=httpx.Response(
            400, json={"code": 400, "error": "invalid JSON", "status": "Bad Request"}
        )
    )
    with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
        lifecycles = delivery.send_many(_events(3))
    assert len(route.calls) == 1
    for lifecycle in lifecycles:
        assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
        assert "invalid JSON" in lifecycle.error.message


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_are_invalid_authentication(status: int) -> None:
    answer = {"code": status, "error": "Invalid credentials", "status": "Unauthorized"}
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(IMPORT).mock(return_value=httpx.Response(status, json=answer))
        with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
            lifecycle = delivery.send(_events(1)[0])
    assert len(route.calls) == 1
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"
    _secrets_masked(lifecycle)


@respx.mock(assert_all_called=True)
def test_413_splits_the_batch_and_a_lone_event_is_payload_too_large(
    respx_mock: respx.MockRouter,
) -> None:
    too_large = {
        "code": 413,
        "error": "request exceeds max limit of 2097152 bytes",
        "status": "Request Entity Too Large",
    }
    route = respx_mock.post(IMPORT).mock(
        side_effect=[
            httpx.Response(413, json=too_large),
            httpx.Response(200, json=IMPORTED),
            httpx.Response(413, json=too_large),
        ]
    )
    with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
        lifecycles = delivery.send_many(_events(2))
    assert [len(_body(c.request)) for c in route.calls] == [2, 1, 1]
    delivered = [lc for lc in lifecycles if lc.delivered]
    failed = [lc for lc in lifecycles if not lc.delivered]
    assert len(delivered) == 1 and len(failed) == 1
    attempt_error = failed[0].attempts[-1].error
    assert attempt_error is not None and attempt_error.cls == "PayloadTooLarge"
    assert failed[0].outcome is sdk.Outcome.FAILED_PERMANENT


@pytest.mark.parametrize(("headers", "minimum"), [({"Retry-After": "9"}, 9.0), ({}, 2.0)])
def test_429_is_rate_limited_and_backs_off(headers: dict[str, str], minimum: float) -> None:
    limited = {
        "code": 429,
        "error": "Project exceeded rate limits. Please retry the request with exponential backoff.",
        "status": "Too Many Requests",
    }
    with respx.mock(assert_all_called=True) as mock:
        mock.post(IMPORT).mock(
            side_effect=[
                httpx.Response(429, json=limited, headers=headers),
                httpx.Response(200, json=IMPORTED),
            ]
        )
        with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
            lifecycle = delivery.send(_events(1)[0])
    assert lifecycle.delivered
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RateLimited"
    assert lifecycle.attempts[1].wait_before_s >= minimum


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(status: int) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(IMPORT).mock(
            side_effect=[httpx.Response(status), httpx.Response(200, json=IMPORTED)]
        )
        with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
            lifecycle = delivery.send(_events(1)[0])
    assert lifecycle.delivered
    assert len(route.calls) == 2


@respx.mock(assert_all_called=True)
def test_engage_status_0_is_bisected_to_the_refused_update(respx_mock: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        updates = _body(request)
        if any(u["$distinct_id"] == "user-0002" for u in updates):
            return httpx.Response(200, json={"status": 0, "error": "$set: invalid property"})
        return httpx.Response(200, json=ENGAGED)

    route = respx_mock.post(ENGAGE).mock(side_effect=answer)
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycles = delivery.send_many(_identifies(4))
    assert [lc.delivered for lc in lifecycles] == [True, True, False, True]
    error = lifecycles[2].error
    assert error is not None and error.cls == "PayloadValidationError"
    assert error.message.startswith("$set: Mixpanel refused the profile update")
    assert "invalid property" in error.message
    # [0..3] refused -> [0, 1] ok, [2, 3] refused -> [2] refused, [3] ok
    assert [len(_body(c.request)) for c in route.calls] == [4, 2, 2, 1, 1]


@respx.mock(assert_all_called=True)
def test_engage_plain_0_answer_fails_the_update(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, text="0"))
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycle = delivery.send(_identifies(1)[0])
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"


@respx.mock(assert_all_called=True)
def test_engage_429_is_retried(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(ENGAGE).mock(
        side_effect=[httpx.Response(429), httpx.Response(200, json=ENGAGED)]
    )
    with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
        lifecycle = delivery.send(_identifies(1)[0])
    assert lifecycle.delivered and len(route.calls) == 2


# -- bad input and settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "track", "event": "X", "userId": "null"}, "userId: is a placeholder value"),
        ({"type": "identify", "anonymousId": "anonymous", "traits": {"a": 1}}, "anonymousId: "),
        (
            {"type": "track", "event": "X", "userId": "u1", "timestamp": "1970-06-01T00:00:00Z"},
            "timestamp: must be on or after 1971-01-01",
        ),
        (
            {
                "type": "track",
                "event": "X",
                "userId": "u1",
                "properties": {f"p{i}": i for i in range(260)},
            },
            "properties: has ",
        ),
        ({"type": "identify", "userId": "u1", "traits": {}}, "traits: is empty"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(event: dict[str, Any], message: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with sdk.Delivery(destination, SETTINGS) as delivery:
            lifecycle = delivery.send(event)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidEvent"
    assert lifecycle.error.message.startswith(message)
    assert "\n" not in lifecycle.error.message


def test_an_event_more_than_an_hour_in_the_future_is_refused_before_sending() -> None:
    # Mixpanel, "400 Bad Request": /import rejects events "more than one hour in the future".
    when = datetime.now(UTC) + timedelta(hours=1, minutes=5)
    event = {"type": "track", "event": "X", "userId": "u1", "timestamp": when.isoformat()}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with sdk.Delivery(destination, SETTINGS) as delivery:
            lifecycle = delivery.send(event)
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidEvent"
    assert lifecycle.error.message == (
        "timestamp: must be no more than one hour in the future for Mixpanel"
    )


@pytest.mark.parametrize("offset", [timedelta(minutes=50), timedelta(0), timedelta(days=-400)])
@respx.mock(assert_all_called=True)
def test_an_event_within_the_hour_ahead_or_in_the_past_is_imported(
    offset: timedelta, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    when = (datetime.now(UTC) + offset).replace(microsecond=0)
    event = {"type": "track", "event": "X", "userId": "u1", "timestamp": when.isoformat()}
    with sdk.Delivery(destination, SETTINGS) as delivery:
        assert delivery.send(event).delivered
    sent = json.loads(route.calls.last.request.content)[0]["properties"]
    assert sent["time"] == int(when.timestamp() * 1000)


def test_a_timestamp_without_an_offset_is_read_as_utc() -> None:
    too_late = (datetime.now(UTC) + timedelta(hours=2)).replace(tzinfo=None)
    with sdk.Delivery(destination, SETTINGS) as delivery:
        early = delivery.send(
            {"type": "track", "event": "X", "userId": "u1", "timestamp": "1970-06-01T00:00:00"}
        )
        late = delivery.send(
            {"type": "track", "event": "X", "userId": "u1", "timestamp": too_late.isoformat()}
        )
    assert early.error is not None
    assert early.error.message == "timestamp: must be on or after 1971-01-01 for Mixpanel"
    assert late.error is not None
    assert late.error.message == (
        "timestamp: must be no more than one hour in the future for Mixpanel"
    )


@pytest.mark.parametrize(
    ("settings", "field", "rule"),
    [
        ({}, "project_token", "is required"),
        (
            {"project_token": TOKEN},
            "service_account_username",
            "is required when auth_method is service_account",
        ),
        (
            {**SETTINGS, "service_account_secret": ""},
            "service_account_secret",
            "is required when auth_method is service_account",
        ),
        ({**SETTINGS, "project_id": "my-project"}, "project_id", ""),
        (
            {"project_token": TOKEN, "auth_method": "api_secret"},
            "api_secret",
            "is required when auth_method is api_secret",
        ),
        ({**SETTINGS, "region": "apac"}, "region", ""),
        ({**SETTINGS, "auth_method": "oauth"}, "auth_method", ""),
    ],
)
def test_broken_settings_name_the_field(settings: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(destination.settings, settings)
    assert info.value.field == field
    assert info.value.rule.startswith(rule)
    for secret in (TOKEN, SA_SECRET):
        assert secret not in str(info.value)


def test_a_numeric_project_id_from_a_settings_file_is_accepted() -> None:
    settings = sdk.load_settings(destination.settings, {**SETTINGS, "project_id": 2195193})
    assert settings.project_id == "2195193"


def test_registered_and_listed() -> None:
    assert sdk.get_destination("mixpanel") is destination
    assert sdk.get_destination("Mixpanel") is destination


def test_sandbox_receives_both_calls_over_loopback() -> None:
    from sdk.testing import Sandbox

    with Sandbox() as server:
        with sdk.Delivery(destination, {**SETTINGS, "endpoint": server.url}) as delivery:
            lifecycles = delivery.send_many([_events(1)[0], _identifies(1)[0]])
        assert all(lc.delivered for lc in lifecycles)
        received = {request.path: request for request in server.requests}
    assert sorted(received) == ["/engage", "/import"]
    assert received["/import"].query == {"strict": ["1"], "project_id": [PROJECT]}
    assert received["/import"].headers["authorization"] == _basic(SA_USER, SA_SECRET)
    assert received["/engage"].query == {"verbose": ["1"]}
    assert json.loads(received["/engage"].body)[0]["$token"] == TOKEN
    for lifecycle in lifecycles:
        _secrets_masked(lifecycle)
