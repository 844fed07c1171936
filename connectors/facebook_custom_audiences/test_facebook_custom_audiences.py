"""Facebook Custom Audiences connector: exact users-edge requests, Meta's normalising rules,
batching to 10,000, invalid entries, Graph API errors, and the contract suite."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.facebook_custom_audiences import destination
from connectors.facebook_custom_audiences.contract import contract
from sdk.testing import ContractTests

NAME = "Facebook Custom Audiences"
TOKEN = "EAAGm0PX4ZCpsBATestToken0042"
APP_SECRET = "test-app-secret-9c1d"
AUDIENCE = "23850000000000001"
USERS_URL = f"https://graph.facebook.com/v25.0/{AUDIENCE}/users"
SETTINGS: dict[str, Any] = {"access_token": TOKEN, "audience_id": AUDIENCE}
OK = {"audience_id": AUDIENCE, "session_id": "1", "num_received": 1, "num_invalid_entries": 0}


class TestFacebookCustomAudiencesContract(ContractTests):
    contract = contract


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _audience(name: str = "Big Spenders") -> sdk.Audience:
    return sdk.Space("spa_x").audience(name, destinations=[NAME])


def _step() -> sdk.JourneyStep:
    return sdk.Space("spa_x").step("First Purchase", "Opened Email", destinations=[NAME])


ADA: dict[str, object] = {
    "email": "  Ada@Example.COM ",
    "phone": "+1 (415) 555-0100",
    "first_name": "Ada",
}


def _body(route: respx.Route, call: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[call].request.content)
    return body


def _send(
    events: Any, settings: dict[str, Any] | None = None, **kwargs: Any
) -> list[sdk.Lifecycle]:
    with sdk.Delivery(
        destination, settings or SETTINGS, sleep=lambda s: None, **kwargs
    ) as delivery:
        return delivery.send_many(events if isinstance(events, list) else [events])


# -- the requests ------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_audience_entered_posts_hashed_rows(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    body = _body(route)
    assert body["payload"] == {
        "schema": ["EMAIL", "PHONE", "FN", "EXTERN_ID"],
        "data": [[sha("ada@example.com"), sha("14155550100"), sha("ada"), "u1"]],
    }
    assert body["access_token"] == TOKEN
    session = body["session"]
    assert session["batch_seq"] == 1 and session["last_batch_flag"] is True
    assert session["estimated_num_total"] == 1
    assert 0 < session["session_id"] < 2**63
    # the token went in the body, never the URL, and is masked in the record
    assert TOKEN not in str(request.url)
    recorded = lifecycle.attempts[0].exchanges[0].request
    assert recorded.body["access_token"] == sdk.MASK
    assert TOKEN not in lifecycle.to_json()
    assert lifecycle.payload["operation"] == "add" and lifecycle.payload["key"] == "big_spenders"


@respx.mock(assert_all_called=True)
def test_audience_exited_deletes_on_the_same_edge(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.delete(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    exited = _audience().event("track", user_id="u1", entered=False, extra=ADA)
    (lifecycle,) = _send(exited)
    assert lifecycle.delivered
    assert route.calls.last.request.method == "DELETE"
    assert _body(route)["payload"]["data"] == [
        [sha("ada@example.com"), sha("14155550100"), sha("ada"), "u1"]
    ]


@respx.mock(assert_all_called=True)
def test_identify_traits_add_and_remove(respx_mock: respx.MockRouter) -> None:
    added = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    removed = respx_mock.delete(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    audience = _audience()
    entered = audience.event("identify", user_id="u1", extra={"email": "a@example.com"})
    left = audience.event("identify", user_id="u2", entered=False, extra={"email": "b@x.io"})
    lifecycles = _send([entered.to_wire(), left.to_wire()])
    assert all(lc.delivered for lc in lifecycles)
    assert _body(added)["payload"]["data"] == [[sha("a@example.com"), "u1"]]
    assert _body(removed)["payload"]["data"] == [[sha("b@x.io"), "u2"]]


@respx.mock(assert_all_called=True)
def test_journey_step_entry_is_added(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    step = _step()
    for call in ("track", "identify"):
        (lifecycle,) = _send(step.event(call, user_id="u1", extra={"email": "a@example.com"}))
        assert lifecycle.delivered
        assert lifecycle.payload["key"] == step.key and step.key.startswith("j_o_")
    assert len(route.calls) == 2


def test_journey_step_exit_is_refused_and_never_sent() -> None:
    step = _step()
    entered = step.event("track", user_id="u1", extra={"email": "a@example.com"})
    assert isinstance(entered, sdk.Track)
    exited = entered.model_copy(
        update={"event": "Audience Exited", "properties": {**entered.properties, step.key: False}}
    )
    with respx.mock(assert_all_called=False) as mock:
        post, delete = mock.post(USERS_URL), mock.delete(USERS_URL)
        (lifecycle,) = _send(exited)
    assert not post.called and not delete.called
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT


@respx.mock(assert_all_called=True)
def test_audience_map_routes_keys_to_their_audiences(respx_mock: respx.MockRouter) -> None:
    first = respx_mock.post("https://graph.facebook.com/v25.0/111/users").mock(
        return_value=httpx.Response(200, json=OK)
    )
    second = respx_mock.post("https://graph.facebook.com/v25.0/222/users").mock(
        return_value=httpx.Response(200, json=OK)
    )
    step = _step()
    settings = {"access_token": TOKEN, "audience_map": {"big_spenders": "111", step.key: "222"}}
    events = [
        _audience().event("track", user_id="u1", extra={"email": "a@example.com"}),
        step.event("track", user_id="u2", extra={"email": "b@example.com"}),
    ]
    assert all(lc.delivered for lc in _send(events, settings))
    assert _body(first)["payload"]["data"] == [[sha("a@example.com"), "u1"]]
    assert _body(second)["payload"]["data"] == [[sha("b@example.com"), "u2"]]


def test_an_unmapped_key_is_refused_naming_the_field() -> None:
    settings = {"access_token": TOKEN, "audience_map": {"someone_else": "111"}}
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA), settings)
    assert not route.called
    assert lifecycle.error is not None
    assert lifecycle.error.message == (
        "context.personas.computation_key: 'big_spenders' has no audience_map entry and no "
        "audience_id is set"
    )


# -- batching ----------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_batches_hold_at_most_10000_users(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    base = _audience().event("track", user_id="u", extra={"email": "x@example.com"}).to_wire()
    events = [
        {
            **base,
            "userId": f"u{n}",
            "messageId": f"m{n}",
            "properties": {**base["properties"], "email": f"user{n}@example.com"},
        }
        for n in range(10_001)
    ]
    lifecycles = _send(events)
    assert all(lc.delivered for lc in lifecycles)
    sizes = [len(_body(route, n)["payload"]["data"]) for n in range(len(route.calls))]
    assert sorted(sizes) == [1, 10_000]
    sent = {row[1] for n in range(len(route.calls)) for row in _body(route, n)["payload"]["data"]}
    assert sent == {f"u{n}" for n in range(10_001)}
    # Two batches are two upload sessions, each complete in its one request.
    sessions = [_body(route, n)["session"] for n in range(len(route.calls))]
    assert len({session["session_id"] for session in sessions}) == 2
    assert all(s["batch_seq"] == 1 and s["last_batch_flag"] is True for s in sessions)


@respx.mock(assert_all_called=True)
def test_adds_and_removals_never_share_a_request(respx_mock: respx.MockRouter) -> None:
    added = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    removed = respx_mock.delete(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    audience = _audience()
    events = [
        audience.event("track", user_id=f"u{n}", entered=n % 3 != 0, extra={"email": f"{n}@x.io"})
        for n in range(9)
    ]
    assert all(lc.delivered for lc in _send(events))
    assert len(added.calls) == 1 and len(removed.calls) == 1
    assert [row[1] for row in _body(added)["payload"]["data"]] == [
        "u1",
        "u2",
        "u4",
        "u5",
        "u7",
        "u8",
    ]
    assert [row[1] for row in _body(removed)["payload"]["data"]] == ["u0", "u3", "u6"]


@respx.mock(assert_all_called=True)
def test_multi_key_rows_leave_missing_values_empty(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    audience = _audience()
    events = [
        audience.event("track", user_id="u1", extra={"email": "a@example.com"}),
        audience.event("track", user_id="u2", extra={"phone": "+33 6 12 34 56 78"}),
    ]
    settings = {**SETTINGS, "match_keys": ["EMAIL", "PHONE"]}
    assert all(lc.delivered for lc in _send(events, settings))
    assert _body(route)["payload"] == {
        "schema": ["EMAIL", "PHONE"],
        "data": [[sha("a@example.com"), ""], ["", sha("33612345678")]],
    }


# -- normalising -------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_every_key_is_normalised_as_meta_asks(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    traits: dict[str, object] = {
        "email": "Mary.Ann@Example.com",
        "phone": "020 7946 0958",
        "first_name": "Mary-Ann",
        "last_name": "O'Neil",
        "gender": "Female",
        "birthday": "1984-07-02",
        "address": {
            "city": "New York",
            "state": "New York",
            "postal_code": "SW1A 1AA",
            "country": "UK",
        },
    }
    event = _audience().event("identify", user_id="crm-42", extra=traits).to_wire()
    event["context"]["device"] = {"advertisingId": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}
    settings = {**SETTINGS, "phone_country_code": "44"}
    (lifecycle,) = _send(event, settings)
    assert lifecycle.delivered
    payload = _body(route)["payload"]
    row = dict(zip(payload["schema"], payload["data"][0], strict=True))
    assert row == {
        "EMAIL": sha("mary.ann@example.com"),
        "PHONE": sha("442079460958"),
        "FN": sha("maryann"),
        "LN": sha("oneil"),
        "CT": sha("newyork"),
        "ST": sha("ny"),
        "ZIP": sha("sw1a1"),
        "COUNTRY": sha("gb"),
        "GEN": sha("f"),
        "DOBY": sha("1984"),
        "DOBM": sha("07"),
        "DOBD": sha("02"),
        "MADID": "6d92078a-8246-4ba4-ae5b-76104861e7dc",
        "EXTERN_ID": "crm-42",
    }
    assert payload["schema"] == list(row)  # Meta's documented key order


@respx.mock(assert_all_called=True)
def test_a_prehashed_email_is_passed_through(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    digest = sha("a@example.com").upper()
    event = _audience().event("track", user_id="u1", extra={"email": digest})
    assert _send(event)[0].delivered
    assert _body(route)["payload"]["data"] == [[digest.lower(), "u1"]]


@respx.mock(assert_all_called=True)
def test_a_bad_identifier_is_skipped_and_named(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    event = _audience().event(
        "track", user_id="u1", extra={"email": "not an email", "phone": "+1 415 555 0100"}
    )
    (lifecycle,) = _send(event)
    assert lifecycle.delivered
    assert _body(route)["payload"]["schema"] == ["PHONE", "EXTERN_ID"]
    assert lifecycle.payload["skipped"] == {
        "email": "must look like local@domain.tld, without spaces"
    }
    assert lifecycle.notes == [
        "traits.email: left out of the list upload: must look like local@domain.tld, without spaces"
    ]


@respx.mock(assert_all_called=True)
def test_a_national_phone_takes_the_users_own_country(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    by_address = _audience().event(
        "track", user_id="u1", extra={"phone": "020 7946 0000", "address": {"country": "GB"}}
    )
    by_location = _audience().event("track", user_id="u2", extra={"phone": "030 1234567"})
    wire = by_location.to_wire()
    wire["context"]["location"] = {"country": "DE"}
    settings = {**SETTINGS, "phone_country_code": "1"}
    first, second = _send([by_address.to_wire(), wire], settings)
    assert first.delivered and second.delivered
    rows = [
        row for call in route.calls for row in json.loads(call.request.content)["payload"]["data"]
    ]
    assert [sha("442079460000"), sha("49301234567")] == [row[0] for row in rows]


@respx.mock(assert_all_called=True)
def test_an_invisible_character_inside_an_email_is_noted_never_hashed(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    event = _audience().event("track", user_id="u1", extra={"email": "ada\u200b@example.com"})
    (lifecycle,) = _send(event)
    assert lifecycle.delivered
    assert _body(route)["payload"]["schema"] == ["EXTERN_ID"]
    assert lifecycle.notes == [
        "traits.email: left out of the list upload: contains an invisible character (U+200B) inside"
    ]


def test_a_user_without_identifiers_is_refused_before_sending() -> None:
    anonymous = _audience().event("track", anonymous_id="anon-1").to_wire()
    bad_email = _audience().event("track", anonymous_id="anon-2", extra={"email": "nope"})
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        missing, invalid = _send([anonymous, bad_email.to_wire()])
    assert not route.called
    assert missing.error is not None and invalid.error is not None
    assert missing.error.message.startswith("traits.email: is missing, and so is every other")
    assert "\n" not in missing.error.message
    assert invalid.error.cls == "InvalidIdentifier"
    assert invalid.error.message == "email: must look like local@domain.tld, without spaces"


# -- Meta's answers ----------------------------------------------------------------------------


def _three_users() -> list[dict[str, Any]]:
    audience = _audience()
    return [
        audience.event("track", user_id=f"u{n}", extra={"email": f"user{n}@example.com"}).to_wire()
        for n in range(3)
    ]


@respx.mock(assert_all_called=True)
def test_invalid_entry_samples_fail_their_users(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(USERS_URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "audience_id": AUDIENCE,
                "session_id": "9",
                "num_received": 3,
                "num_invalid_entries": 1,
                "invalid_entry_samples": {sha("user1@example.com"): "Invalid hash format"},
            },
        )
    )
    first, second, third = _send(_three_users())
    assert first.delivered and third.delivered
    assert second.outcome is sdk.Outcome.FAILED_PERMANENT
    assert second.error is not None and second.error.cls == "PayloadValidationError"
    assert second.error.message == "payload.data[1]: Invalid hash format"
    assert len(second.attempts) == 1


@respx.mock(assert_all_called=True)
def test_a_single_invalid_user_fails(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(USERS_URL).mock(
        return_value=httpx.Response(200, json={**OK, "num_received": 1, "num_invalid_entries": "1"})
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
    assert "invalid" in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_unattributable_invalid_entries_are_logged(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.post(USERS_URL).mock(
        return_value=httpx.Response(200, json={**OK, "num_received": 3, "num_invalid_entries": 2})
    )
    with caplog.at_level(logging.WARNING):
        lifecycles = _send(_three_users())
    assert all(lc.delivered for lc in lifecycles)
    assert "counted 2 invalid entries in a request of 3 users" in caplog.text
    response = lifecycles[0].last_response
    assert response is not None and response.body["num_invalid_entries"] == 2


# -- upload sessions ------------------------------------------------------------------------


def _users(count: int, *, entered: bool = True) -> list[dict[str, Any]]:
    audience = _audience()
    return [
        {
            **audience.event(
                "track", user_id=f"u{n}", entered=entered, extra={"email": f"{n}@example.com"}
            ).to_wire(),
            "messageId": f"m-{n}",
        }
        for n in range(count)
    ]


@respx.mock(assert_all_called=True)
def test_add_remove_and_add_again_are_three_sessions(respx_mock: respx.MockRouter) -> None:
    # The same user, the same rows: before, all three went out with one session_id, each
    # closing it (last_batch_flag true), so Meta could take the later ones for the first.
    added = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    removed = respx_mock.delete(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    audience = _audience()
    with sdk.Delivery(destination, SETTINGS, sleep=lambda s: None) as delivery:
        for entered in (True, False, True):
            event = audience.event("track", user_id="u1", entered=entered, extra=ADA)
            assert delivery.send(event).delivered
    bodies = [_body(added, 0), _body(removed, 0), _body(added, 1)]
    assert bodies[0]["payload"] == bodies[2]["payload"] == bodies[1]["payload"]
    sessions = [body["session"] for body in bodies]
    assert len({session["session_id"] for session in sessions}) == 3
    for session in sessions:
        assert session["batch_seq"] == 1
        assert session["last_batch_flag"] is True
        assert session["estimated_num_total"] == 1
        assert 0 < session["session_id"] < 2**63


@respx.mock(assert_all_called=True)
def test_a_retried_batch_keeps_its_session_id(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(
        side_effect=[
            _graph_error(2, status=500, is_transient=True),
            httpx.Response(200, json={**OK, "num_received": 3}),
        ]
    )
    lifecycles = _send(_users(3))
    assert all(lc.delivered for lc in lifecycles)
    assert len(route.calls) == 2
    assert _body(route, 0)["session"] == _body(route, 1)["session"]
    assert _body(route, 0)["payload"] == _body(route, 1)["payload"]


@respx.mock(assert_all_called=True)
def test_a_session_in_several_requests_shares_its_id(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=httpx.Response(200, json=OK))
    lifecycles = _send(_users(5), {**SETTINGS, "batch_size": 2})
    assert all(lc.delivered for lc in lifecycles)
    bodies = [_body(route, n) for n in range(len(route.calls))]
    assert [len(body["payload"]["data"]) for body in bodies] == [2, 2, 1]
    sessions = [body["session"] for body in bodies]
    assert len({session["session_id"] for session in sessions}) == 1
    assert [session["batch_seq"] for session in sessions] == [1, 2, 3]
    assert [session["last_batch_flag"] for session in sessions] == [False, False, True]
    assert {session["estimated_num_total"] for session in sessions} == {5}
    assert [body["payload"]["schema"] for body in bodies] == [["EMAIL", "EXTERN_ID"]] * 3
    rows = [row[1] for body in bodies for row in body["payload"]["data"]]
    assert rows == [f"u{n}" for n in range(5)]
    # One session, one batch: every user's lifecycle shows the three requests of it.
    assert len(lifecycles[0].attempts) == 1
    assert len(lifecycles[0].attempts[0].exchanges) == 3


@respx.mock(assert_all_called=True)
def test_invalid_entries_of_a_later_request_fail_their_own_users(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(USERS_URL).mock(
        side_effect=[
            httpx.Response(200, json={**OK, "num_received": 2}),
            httpx.Response(
                200,
                json={
                    **OK,
                    "num_received": 2,
                    "num_invalid_entries": 1,
                    "invalid_entry_samples": {sha("3@example.com"): "Invalid hash format"},
                },
            ),
        ]
    )
    lifecycles = _send(_users(4), {**SETTINGS, "batch_size": 2})
    assert [lc.delivered for lc in lifecycles] == [True, True, True, False]
    error = lifecycles[3].error
    assert error is not None and error.message == "payload.data[1]: Invalid hash format"


@respx.mock(assert_all_called=True)
def test_a_failed_later_request_fails_only_the_users_not_taken(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.delete(USERS_URL).mock(
        side_effect=[
            httpx.Response(200, json={**OK, "num_received": 2}),
            _graph_error(100, message="Invalid parameter"),
        ]
    )
    lifecycles = _send(_users(5, entered=False), {**SETTINGS, "batch_size": 2})
    assert len(route.calls) == 2  # the third request of the session is never made
    assert [lc.delivered for lc in lifecycles] == [True, True, False, False, False]
    for lifecycle in lifecycles[2:]:
        assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
        assert len(lifecycle.attempts) == 1


def _graph_error(code: int, status: int = 400, **extra: Any) -> httpx.Response:
    error = {"message": f"error {code}", "type": "OAuthException", "code": code}
    error.update(extra)
    return httpx.Response(status, json={"error": {**error, "fbtrace_id": "AxYz123"}})


@respx.mock(assert_all_called=True)
def test_an_expired_token_is_invalid_authentication(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(USERS_URL).mock(
        return_value=_graph_error(190, error_subcode=463, message="Session has expired")
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"
    assert lifecycle.error.message == (
        "Graph API error #190/463 (OAuthException): Session has expired [fbtrace_id AxYz123]"
    )
    assert len(lifecycle.attempts) == 1


@respx.mock(assert_all_called=True)
def test_missing_permissions_are_invalid_authentication(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(USERS_URL).mock(return_value=_graph_error(294, status=403))
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"
    assert lifecycle.error.message.startswith("permission refused: Graph API error #294")


@respx.mock(assert_all_called=True)
def test_throttling_waits_for_the_business_use_case_window(respx_mock: respx.MockRouter) -> None:
    usage = {"1234": [{"type": "custom_audience", "estimated_time_to_regain_access": 1}]}
    throttled = _graph_error(80003, message="There have been too many calls")
    throttled.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    respx_mock.post(USERS_URL).mock(side_effect=[throttled, httpx.Response(200, json=OK)])
    event = _audience().event("track", user_id="u1", extra=ADA)
    (lifecycle,) = _send(event, retry=sdk.RetryPolicy(max_elapsed=600, max_retry_after=120))
    assert lifecycle.delivered
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RateLimited"
    assert lifecycle.attempts[1].wait_before_s >= 60  # 1 minute to regain access


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_throttling_codes_are_rate_limited_with_retry_after(code: int) -> None:
    throttled = _graph_error(code)
    throttled.headers["Retry-After"] = "5"
    with respx.mock(assert_all_called=True) as mock:
        mock.post(USERS_URL).mock(side_effect=[throttled, httpx.Response(200, json=OK)])
        (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered and len(lifecycle.attempts) == 2
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RateLimited"
    assert lifecycle.attempts[1].wait_before_s >= 5


@pytest.mark.parametrize("answer", [{"code": 2}, {"code": 1}, {"code": 2650, "is_transient": True}])
def test_temporary_errors_are_retried(answer: dict[str, Any]) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(USERS_URL).mock(
            side_effect=[_graph_error(**answer, status=500), httpx.Response(200, json=OK)]
        )
        (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered and len(lifecycle.attempts) == 2
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RetryableError"


@respx.mock(assert_all_called=True)
def test_an_invalid_parameter_names_the_field_and_is_not_retried(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(USERS_URL).mock(
        return_value=_graph_error(
            100,
            message="(#100) Param payload[schema] must be one of {EMAIL, PHONE, ...}",
            error_subcode=1713230,
            error_user_title="Audience Upload Blocked",
        )
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
    assert lifecycle.error.message.startswith("payload[schema]: Graph API error #100/1713230")
    assert "Audience Upload Blocked" in lifecycle.error.message
    assert len(lifecycle.attempts) == 1


@respx.mock(assert_all_called=True)
def test_a_non_json_5xx_is_retried(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(USERS_URL).mock(
        side_effect=[httpx.Response(502, text="<html>Bad Gateway</html>"), httpx.Response(200)]
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered and len(lifecycle.attempts) == 2


# -- credentials -------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_appsecret_proof_is_sent_and_secrets_stay_masked(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(return_value=_graph_error(190, status=400))
    settings = {**SETTINGS, "app_secret": APP_SECRET}
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA), settings)
    proof = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert _body(route)["appsecret_proof"] == proof
    text = lifecycle.to_json()
    assert TOKEN not in text and APP_SECRET not in text and proof not in text


@respx.mock(assert_all_called=True)
def test_authentication_reads_the_audience(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"https://graph.facebook.com/v25.0/{AUDIENCE}").mock(
        return_value=httpx.Response(200, json={"id": AUDIENCE, "name": "Big Spenders"})
    )
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycle = delivery.test_authentication()
    assert lifecycle.delivered
    assert route.calls.last.request.url.params["fields"] == "id,name"
    assert route.calls.last.request.url.params["access_token"] == TOKEN
    recorded_url = lifecycle.attempts[0].exchanges[0].request.url
    assert TOKEN not in recorded_url and "access_token=[REDACTED]" in recorded_url


@respx.mock(assert_all_called=True)
def test_authentication_with_only_a_map_reads_me(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("https://graph.facebook.com/v25.0/me").mock(
        return_value=_graph_error(190, status=401)
    )
    settings = {"access_token": TOKEN, "audience_map": {"big_spenders": "111"}}
    with sdk.Delivery(destination, settings) as delivery:
        lifecycle = delivery.test_authentication()
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"


def test_settings_need_an_audience() -> None:
    with pytest.raises(sdk.InvalidSettings, match=r"^audience_map: set audience_id"):
        sdk.load_settings(destination.settings, {"access_token": TOKEN})
    with pytest.raises(sdk.InvalidSettings, match=r"^audience_id: must be a custom audience id"):
        sdk.load_settings(destination.settings, {"access_token": TOKEN, "audience_id": "abc"})
    with pytest.raises(sdk.InvalidSettings, match=r"^batch_size: "):
        sdk.load_settings(destination.settings, {**SETTINGS, "batch_size": 10_001})
    with pytest.raises(sdk.InvalidSettings, match=r"^access_token: is required$"):
        sdk.load_settings(destination.settings, {"audience_id": AUDIENCE})


# -- answers that are not success --------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_redirect_is_a_permanent_failure_not_a_delivery(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(USERS_URL).mock(
        return_value=httpx.Response(302, headers={"location": "https://example.com/moved"})
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert not lifecycle.delivered
    assert lifecycle.error is not None and lifecycle.error.cls == "IntegrationError"
    assert len(route.calls) == 1 and len(lifecycle.attempts) == 1


@respx.mock(assert_all_called=True)
def test_a_5xx_keeps_its_retry_after(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(USERS_URL).mock(
        side_effect=[
            httpx.Response(503, text="down for maintenance", headers={"retry-after": "17"}),
            httpx.Response(200, json=OK),
        ]
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered and len(lifecycle.attempts) == 2
    assert lifecycle.attempts[1].wait_before_s >= 17
