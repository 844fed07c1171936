"""Braze connector: exact /users/track requests, batching, Braze's error shapes, the contract."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.braze import destination
from connectors.braze._api import rate_limit_wait
from connectors.braze.contract import NO_DATA, contract
from sdk.testing import ContractTests

KEY = "brz-rest-key-7c1d9e2a"
URL = "https://rest.iad-01.braze.com/users/track"
SETTINGS = {"api_key": KEY}
WHEN = datetime(2026, 11, 3, 9, 30, 15, 250000, tzinfo=UTC)


class TestBrazeContract(ContractTests):
    contract = contract


def _step() -> sdk.JourneyStep:
    return sdk.Space("spa_src").step("First Purchase", "Opened Email", destinations=["Braze"])


def _audience() -> sdk.Audience:
    return sdk.Space("spa_src").audience("Big Spenders", destinations=["Braze"])


def _send(
    events: list[Any], settings: dict[str, Any] | None = None, **kwargs: Any
) -> list[sdk.Lifecycle]:
    with sdk.Delivery(
        destination, settings or SETTINGS, sleep=lambda s: None, **kwargs
    ) as delivery:
        return delivery.send_many(events)


def _body(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


def _created(**counts: int) -> httpx.Response:
    body: dict[str, Any] = {"message": "success"}
    body.update({f"{array}_processed": n for array, n in counts.items()})
    return httpx.Response(201, json=body)


# -- request shapes --------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_identify_for_a_journey_step_sets_a_boolean_attribute(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    step = _step()
    [lifecycle] = _send([step.event("identify", user_id="u1")])
    assert lifecycle.delivered
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert _body(route) == {"attributes": [{"external_id": "u1", step.key: True}]}
    recorded = lifecycle.attempts[0].exchanges[0].request.headers
    assert recorded["authorization"] != f"Bearer {KEY}"
    assert KEY not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_track_audience_entered_for_a_journey_step_is_an_event_with_the_context(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(events=1))
    step = _step()
    event = step.event("track", user_id="u1").model_copy(update={"timestamp": WHEN})
    [lifecycle] = _send([event], {**SETTINGS, "app_id": "app-ios"})
    assert lifecycle.delivered
    assert _body(route) == {
        "events": [
            {
                "external_id": "u1",
                "name": "Audience Entered",
                "time": "2026-11-03T09:30:15.250Z",
                "app_id": "app-ios",
                "properties": {
                    step.key: True,
                    "personas": {
                        "computation_class": "audience",
                        "computation_id": step.audience_id,
                        "computation_key": step.key,
                        "namespace": "spa_src",
                        "space_id": "spa_src",
                    },
                },
            }
        ]
    }


@respx.mock(assert_all_called=True)
def test_the_string_true_of_the_docs_is_sent_as_a_boolean(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    step = _step()
    wire = step.event("identify", user_id="u1").to_wire()
    wire["traits"][step.key] = "true"
    [lifecycle] = _send([wire])
    assert lifecycle.delivered
    assert _body(route)["attributes"][0][step.key] is True


@respx.mock(assert_all_called=True)
def test_audience_exits_are_sent_as_false_and_audience_exited(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1, events=1))
    audience = _audience()
    lifecycles = _send(
        [
            audience.event("identify", user_id="u1", entered=False),
            audience.event("track", user_id="u1", entered=False),
        ]
    )
    assert all(lc.delivered for lc in lifecycles)
    body = _body(route)
    assert body["attributes"] == [{"external_id": "u1", "big_spenders": False}]
    [event] = body["events"]
    assert event["name"] == "Audience Exited"
    assert event["properties"]["big_spenders"] is False


def test_a_journey_step_exit_is_refused_and_never_sent() -> None:
    step = _step()
    entered = step.event("identify", user_id="u1").to_wire()
    entered["traits"][step.key] = False
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        [lifecycle] = _send([entered])
    assert not route.called
    assert lifecycle.error is not None
    assert lifecycle.error.cls == "ListRemovalRefused"
    assert step.key in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_anonymous_users_get_a_user_alias(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1, events=1))
    step = _step()
    lifecycles = _send(
        [
            step.event("identify", anonymous_id="anon-7"),
            step.event("track", anonymous_id="anon-7"),
        ],
        {**SETTINGS, "alias_label": "segment_anonymous_id"},
    )
    assert all(lc.delivered for lc in lifecycles)
    body = _body(route)
    alias = {"alias_name": "anon-7", "alias_label": "segment_anonymous_id"}
    assert body["attributes"] == [
        {step.key: True, "user_alias": alias, "_update_existing_only": False}
    ]
    [event] = body["events"]
    assert event["user_alias"] == alias
    assert "external_id" not in event and "_update_existing_only" not in event


@respx.mock(assert_all_called=True)
def test_default_alias_label_is_anonymous_id(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(events=1))
    _send([{"type": "track", "event": "Signed Up", "anonymousId": "a-1"}])
    alias = _body(route)["events"][0]["user_alias"]
    assert alias == {"alias_name": "a-1", "alias_label": "anonymous_id"}


@respx.mock(assert_all_called=True)
def test_plain_track_and_identify_follow_the_braze_objects(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1, events=1))
    identify = {
        "type": "identify",
        "userId": "u9",
        "traits": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "birthday": "1815-12-10T00:00:00Z",
            "avatar": "https://example.com/ada.png",
            "address": {"city": "London", "country": "GB"},
            "plan": "pro",
        },
    }
    track = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u9",
        "timestamp": "2026-11-03T10:20:45+01:00",
        "properties": {"revenue": 42.5, "currency": "USD"},
    }
    _send([identify, track])
    assert _body(route) == {
        "attributes": [
            {
                "external_id": "u9",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
                "dob": "1815-12-10",
                "image_url": "https://example.com/ada.png",
                "home_city": "London",
                "country": "GB",
                "plan": "pro",
            }
        ],
        "events": [
            {
                "external_id": "u9",
                "name": "Order Completed",
                "time": "2026-11-03T09:20:45.000Z",
                "properties": {"revenue": 42.5, "currency": "USD"},
            }
        ],
    }


@pytest.mark.parametrize(
    ("gender", "letter"),
    [
        ("male", "M"),
        ("Female", "F"),
        (" MAN ", "M"),
        ("woman", "F"),
        ("other", "O"),
        ("non-binary", "O"),
        ("not_applicable", "N"),
        ("Prefer not to say", "P"),
        ("m", "M"),
        ("F", "F"),
        ("p", "P"),
        (None, None),  # null removes the attribute (user attributes object)
    ],
)
@respx.mock(assert_all_called=True)
def test_gender_is_sent_as_brazes_letter(
    gender: str | None, letter: str | None, respx_mock: respx.MockRouter
) -> None:
    # User attributes object: gender is "M", "F", "O" (other), "N" (not applicable),
    # "P" (prefer not to say) or nil (unknown).
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    [lifecycle] = _send([{"type": "identify", "userId": "u1", "traits": {"gender": gender}}])
    assert lifecycle.delivered
    assert _body(route)["attributes"] == [{"gender": letter, "external_id": "u1"}]
    assert "dropped" not in lifecycle.payload
    assert lifecycle.notes == []


@pytest.mark.parametrize("gender", ["unknown", "U", "robot", "", 3])
@respx.mock(assert_all_called=True)
def test_a_gender_braze_does_not_take_is_left_out_and_noted(
    gender: object, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    traits = {"gender": gender, "plan": "pro"}
    [lifecycle] = _send([{"type": "identify", "userId": "u1", "traits": traits}])
    assert lifecycle.delivered
    assert _body(route)["attributes"] == [{"plan": "pro", "external_id": "u1"}]
    assert lifecycle.payload["dropped"] == {
        "gender": "not a gender Braze takes (M, F, O, N, P): left out"
    }
    assert lifecycle.notes == ["trait gender: not a gender Braze takes (M, F, O, N, P): left out"]
    assert lifecycle.to_dict()["notes"] == lifecycle.notes


@pytest.mark.parametrize(
    ("country", "code"),
    [("GB", "GB"), ("us", "US"), (" U.S. ", "US"), ("UK", "GB"), ("fr", "FR"), (None, None)],
)
@respx.mock(assert_all_called=True)
def test_a_two_letter_country_goes_to_brazes_country(
    country: str | None, code: str | None, respx_mock: respx.MockRouter
) -> None:
    # Braze: "Country codes must be passed to Braze in the ISO-3166-1 alpha-2 standard".
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    traits = {"address": {"city": "London", "country": country}}
    [lifecycle] = _send([{"type": "identify", "userId": "u1", "traits": traits}])
    assert lifecycle.delivered
    attributes = _body(route)["attributes"][0]
    if code is None:
        assert "country" not in attributes  # address.country null: nothing to send
    else:
        assert attributes["country"] == code
    assert attributes["home_city"] == "London"


@pytest.mark.parametrize(
    ("traits", "source"),
    [
        ({"address": {"country": "United Kingdom", "city": "London"}}, "address.country"),
        ({"address": {"country": "GBR", "city": "London"}}, "address.country"),
        ({"country": "Deutschland", "address": {"city": "London"}}, "country"),
    ],
)
@respx.mock(assert_all_called=True)
def test_a_country_that_is_not_a_code_stays_out_of_brazes_country(
    traits: dict[str, Any], source: str, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    [lifecycle] = _send([{"type": "identify", "userId": "u1", "traits": traits}])
    assert lifecycle.delivered
    assert _body(route)["attributes"] == [{"home_city": "London", "external_id": "u1"}]
    assert lifecycle.payload["dropped"] == {
        source: "not an ISO-3166-1 alpha-2 country code: left out"
    }
    assert lifecycle.notes == [f"trait {source}: not an ISO-3166-1 alpha-2 country code: left out"]
    assert traits.get("country", traits["address"].get("country")) not in " ".join(lifecycle.notes)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "identify", "userId": "u", "traits": {"$plan": "pro"}}, "traits.$plan"),
        ({"type": "track", "event": "E", "userId": "u", "properties": {"": 1}}, "properties."),
        (
            {"type": "track", "event": "E", "userId": "u", "properties": {"p" * 300: 1}},
            "properties." + "p" * 40,
        ),
    ],
)
def test_names_braze_refuses_are_one_line_errors_without_a_request(
    event: dict[str, Any], field: str
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        [lifecycle] = _send([event])
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidEvent"
    assert lifecycle.error.message.startswith(field)
    assert "\n" not in lifecycle.error.message


# -- instance and endpoint ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("EU-01", "https://rest.fra-01.braze.eu/users/track"),
        ("us-09", "https://rest.us-09.braze.com/users/track"),
        ("https://dashboard-02.braze.eu", "https://rest.fra-02.braze.eu/users/track"),
        ("https://rest.au-01.braze.com/", "https://rest.au-01.braze.com/users/track"),
    ],
)
def test_rest_endpoint_takes_an_instance_or_its_url(value: str, url: str) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(url).mock(return_value=_created(events=1))
        [lifecycle] = _send(
            [{"type": "track", "event": "E", "userId": "u"}],
            {**SETTINGS, "rest_endpoint": value},
        )
    assert lifecycle.delivered and route.called


def test_the_endpoint_setting_overrides_the_instance() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("http://127.0.0.1:8999/users/track").mock(return_value=_created(events=1))
        settings = {**SETTINGS, "rest_endpoint": "EU-01", "endpoint": "http://127.0.0.1:8999"}
        [lifecycle] = _send([{"type": "track", "event": "E", "userId": "u"}], settings)
    assert lifecycle.delivered and route.called


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "api_key"),
        ({"api_key": KEY, "rest_endpoint": "mars-01"}, "rest_endpoint"),
        ({"api_key": KEY, "alias_label": ""}, "alias_label"),
    ],
)
def test_broken_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(destination.settings, settings)
    assert info.value.field == field
    assert "\n" not in str(info.value)


# -- batching --------------------------------------------------------------------------------


def _mixed(count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n in range(count):
        if n % 2:
            events.append({"type": "identify", "userId": f"u{n}", "traits": {"n": n}})
        else:
            events.append({"type": "track", "event": "Tick", "userId": f"u{n}"})
    return events


@respx.mock(assert_all_called=True)
def test_batches_hold_at_most_75_objects_across_arrays(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created())
    lifecycles = _send(_mixed(160))
    assert all(lc.delivered for lc in lifecycles)
    sizes = sorted(
        (len(_body(route, i).get("attributes", [])) + len(_body(route, i).get("events", [])))
        for i in range(len(route.calls))
    )
    assert sizes == [10, 75, 75]
    users = sorted(
        obj["external_id"]
        for i in range(len(route.calls))
        for array in ("attributes", "events")
        for obj in _body(route, i).get(array, [])
    )
    assert users == sorted(f"u{n}" for n in range(160))


# -- Braze's answers -------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_partial_success_fails_exactly_the_events_braze_names(
    respx_mock: respx.MockRouter,
) -> None:
    # Sent in this order: t0 (events[0]), i1 (attributes[0]), t2 (events[1]), i3 (attributes[1]).
    answer = {
        "message": "success",
        "attributes_processed": 1,
        "events_processed": 1,
        "errors": [
            {"type": "'name' is required", "input_array": "events", "index": 1},
            {
                "type": "'external_id' or 'braze_id' or 'user_alias' is required",
                "input_array": "attributes",
                "index": 0,
            },
            {"type": "unattributable", "input_array": "purchases", "index": 0},
        ],
    }
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=answer))
    lifecycles = _send(_mixed(4))
    assert len(route.calls) == 1
    body = _body(route)
    assert [e["external_id"] for e in body["events"]] == ["u0", "u2"]
    assert [a["external_id"] for a in body["attributes"]] == ["u1", "u3"]
    outcomes = [lc.outcome for lc in lifecycles]
    assert outcomes == [
        sdk.Outcome.DELIVERED,
        sdk.Outcome.FAILED_PERMANENT,
        sdk.Outcome.FAILED_PERMANENT,
        sdk.Outcome.DELIVERED,
    ]
    failed_attr, failed_event = lifecycles[1].error, lifecycles[2].error
    assert failed_attr is not None and failed_attr.cls == "PayloadValidationError"
    assert failed_attr.message.startswith("Braze rejected attributes[0]: 'external_id'")
    assert failed_event is not None and failed_event.message == (
        "Braze rejected events[1]: 'name' is required"
    )
    assert all(len(lc.attempts) == 1 for lc in lifecycles)  # never re-sent


@respx.mock(assert_all_called=True)
def test_a_non_fatal_error_about_one_attribute_keeps_the_identify_delivered(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    # Track users, "Successful message with non-fatal errors": "any data not affected by an
    # error in the errors array will still be processed": Braze applied the other attributes.
    answer = {
        "message": "success",
        "attributes_processed": 2,
        "errors": [{"type": "'plan' is not valid", "input_array": "attributes", "index": 1}],
    }
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=answer))
    events = [
        {"type": "identify", "userId": f"u{n}", "traits": {"plan": "pro", "first_name": "Ada"}}
        for n in range(2)
    ]
    with caplog.at_level("WARNING"):
        lifecycles = _send(events)
    assert len(route.calls) == 1
    assert [lc.delivered for lc in lifecycles] == [True, True]
    assert "Braze applied attributes[1] except the attribute plan: 'plan' is not valid" in (
        caplog.text
    )
    response = lifecycles[1].last_response
    assert response is not None and response.body["errors"][0]["type"] == "'plan' is not valid"
    # The lifecycle of the identify Braze named says what it refused; the other has no note.
    assert lifecycles[1].notes == [
        "Braze applied attributes[1] except the attribute plan: 'plan' is not valid"
    ]
    assert lifecycles[0].notes == []


@respx.mock(assert_all_called=True)
def test_a_non_fatal_error_about_one_attribute_of_a_single_identify_is_noted(
    respx_mock: respx.MockRouter,
) -> None:
    # A batch of one goes through perform: the note travels through ctx.note.
    answer = {
        "message": "success",
        "errors": [{"type": "'plan' is not valid", "input_array": "attributes", "index": 0}],
    }
    respx_mock.post(URL).mock(return_value=httpx.Response(201, json=answer))
    [lifecycle] = _send([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}])
    assert lifecycle.delivered
    assert lifecycle.notes == [
        "Braze applied attributes[0] except the attribute plan: 'plan' is not valid"
    ]


@pytest.mark.parametrize(
    "kind",
    [
        "'external_id' or 'braze_id' or 'user_alias' is required",  # the object's identity
        "'country' is not valid",  # names no attribute that was sent
        "invalid attributes object",  # names no attribute at all
    ],
)
@respx.mock(assert_all_called=True)
def test_a_non_fatal_error_about_the_whole_attributes_object_fails_it(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    answer = {
        "message": "success",
        "errors": [{"type": kind, "input_array": "attributes", "index": 0}],
    }
    respx_mock.post(URL).mock(return_value=httpx.Response(201, json=answer))
    [lifecycle] = _send([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}])
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert lifecycle.error is not None
    assert lifecycle.error.message == f"Braze rejected attributes[0]: {kind}"


@respx.mock(assert_all_called=True)
def test_a_single_event_named_in_errors_fails(respx_mock: respx.MockRouter) -> None:
    answer = {
        "message": "success",
        "errors": [{"type": "invalid time", "input_array": "events", "index": 0}],
    }
    respx_mock.post(URL).mock(return_value=httpx.Response(201, json=answer))
    [lifecycle] = _send([{"type": "track", "event": "E", "userId": "u"}])
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert lifecycle.error is not None
    assert lifecycle.error.message == "Braze rejected events[0]: invalid time"


@respx.mock(assert_all_called=True)
def test_queued_during_maintenance_counts_as_delivered(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(return_value=httpx.Response(202, json={"message": "queued"}))
    [lifecycle] = _send([{"type": "track", "event": "E", "userId": "u"}])
    assert lifecycle.delivered


@respx.mock(assert_all_called=True)
def test_a_fatal_400_fails_the_whole_batch_without_retry(respx_mock: respx.MockRouter) -> None:
    answer = {
        "message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' "
        "fields.",
        "errors": [{"type": "Test fatal error", "input_array": "events", "index": 0}],
    }
    respx_mock.post(URL).mock(return_value=httpx.Response(400, json=answer))
    lifecycles = _send(_mixed(3))
    for lifecycle in lifecycles:
        assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
        assert len(lifecycle.attempts) == 1
        assert lifecycle.error is not None
        assert lifecycle.error.cls == "PayloadValidationError"
        assert "Valid data must be provided" in lifecycle.error.message
        assert "Test fatal error" in lifecycle.error.message


@pytest.mark.parametrize(
    ("status", "cls", "words"),
    [
        (401, "InvalidAuthentication", "rest_endpoint"),
        (403, "InvalidAuthentication", "permission"),
        (404, "IntegrationError", "invalid URL"),
    ],
)
def test_credential_and_url_failures(status: int, cls: str, words: str) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(status, json={"message": "nope"}))
        [lifecycle] = _send([{"type": "track", "event": "E", "userId": "u"}])
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert len(lifecycle.attempts) == 1
    assert lifecycle.error is not None and lifecycle.error.cls == cls
    assert words in lifecycle.error.message and "nope" in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_429_waits_until_x_ratelimit_reset(respx_mock: respx.MockRouter) -> None:
    reset = int(time.time()) + 30
    limited = httpx.Response(
        429,
        json={"message": "Rate Limited"},
        headers={
            "X-RateLimit-Limit": "3000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        },
    )
    respx_mock.post(URL).mock(side_effect=[limited, _created(events=1)])
    [lifecycle] = _send([{"type": "track", "event": "E", "userId": "u"}])
    assert lifecycle.delivered
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RateLimited"
    assert 25 <= lifecycle.attempts[1].wait_before_s <= 31


@respx.mock(assert_all_called=True)
def test_429_with_retry_after_and_503_are_retried(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(URL).mock(
        side_effect=[
            httpx.Response(503, text="Service Unavailable"),
            httpx.Response(429, json={"message": "Rate Limited"}, headers={"Retry-After": "7"}),
            _created(events=1),
        ]
    )
    [lifecycle] = _send([{"type": "track", "event": "E", "userId": "u"}])
    assert lifecycle.delivered
    assert [a.error.cls if a.error else None for a in lifecycle.attempts] == [
        "RetryableError",
        "RateLimited",
        None,
    ]
    assert lifecycle.attempts[2].wait_before_s >= 7


def test_rate_limit_wait_prefers_retry_after_then_reset() -> None:
    now = 1_700_000_000.0
    assert rate_limit_wait({"retry-after": "3"}, now=now) == 3.0
    assert rate_limit_wait({"x-ratelimit-retry-after": "4"}, now=now) == 4.0
    assert rate_limit_wait({"x-ratelimit-reset": str(int(now) + 12)}, now=now) == 12.0
    assert rate_limit_wait({"x-ratelimit-reset": str(int(now) - 5)}, now=now) == 0.0
    assert rate_limit_wait({"x-ratelimit-reset": "soon"}, now=now) is None
    assert rate_limit_wait({}, now=now) is None


# -- credentials check -----------------------------------------------------------------------


def test_authentication_check_accepts_the_no_data_answer_and_refuses_401() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(400, json=NO_DATA))
        with sdk.Delivery(destination, SETTINGS) as delivery:
            good = delivery.test_authentication()
        assert json.loads(route.calls.last.request.content) == {}
    assert good.delivered
    with respx.mock(assert_all_called=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(401, json={"message": "Invalid API Key"}))
        with sdk.Delivery(destination, SETTINGS) as delivery:
            bad = delivery.test_authentication()
    assert bad.error is not None and bad.error.cls == "InvalidAuthentication"
    assert KEY not in bad.to_json()


def test_sandbox_receives_users_track_over_loopback() -> None:
    from sdk.testing import Sandbox

    step = _step()
    with Sandbox() as server:
        settings = {**SETTINGS, "endpoint": server.url}
        with sdk.Delivery(destination, settings) as delivery:
            lifecycle = delivery.send(step.event("track", user_id="u1"))
        assert lifecycle.delivered
        received = server.requests[-1]
        assert received.path == "/users/track"
        assert received.headers["authorization"] == f"Bearer {KEY}"
        body = json.loads(received.body)
        assert body["events"][0]["properties"][step.key] is True
