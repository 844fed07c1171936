"""Klaviyo connector: the documented requests of Create Event, Create or Update Profile, Bulk
Import Profiles, Get Profiles and Remove Profiles from List (revision 2026-10-15), Klaviyo's
JSON:API errors, the refusals, and the contract suite."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.klaviyo import destination
from connectors.klaviyo.contract import contract
from sdk.testing import ContractTests

NAME = "Klaviyo"
KEY = "pk_test_0123456789abcdef0123456789"
LIST = "Y6nRLr"
API = "https://a.klaviyo.com/api"
SETTINGS: dict[str, Any] = {"api_key": KEY, "list_id": LIST}
PROFILE_ID = "01GDDKASAP8TKDDA2GRZDSVP4H"


class TestKlaviyoContract(ContractTests):
    contract = contract


def _send(events: Any, settings: dict[str, Any] | None = None) -> list[sdk.Lifecycle]:
    with sdk.Delivery(destination, settings or SETTINGS, sleep=lambda s: None) as delivery:
        return delivery.send_many(events if isinstance(events, list) else [events])


def _body(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


def _audience() -> sdk.Audience:
    return sdk.Space("spa_x").audience("VIP Customers", destinations=[NAME])


# -- events and profiles -----------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_track_creates_an_event_with_the_revision_header(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{API}/events/").mock(return_value=httpx.Response(202))
    event = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "messageId": "m-1",
        "timestamp": "2026-11-02T10:00:00Z",
        "properties": {"revenue": 42.5, "currency": "USD", "order_id": "o-9"},
        "context": {"traits": {"email": " Ada@Example.com "}},
    }
    (lifecycle,) = _send(event)
    assert lifecycle.delivered, lifecycle.error
    request = route.calls.last.request
    assert request.headers["revision"] == "2026-10-15"
    assert request.headers["authorization"] == f"Klaviyo-API-Key {KEY}"
    assert request.headers["content-type"] == "application/vnd.api+json"
    attributes = _body(route)["data"]["attributes"]
    assert _body(route)["data"]["type"] == "event"
    assert attributes["metric"] == {
        "data": {"type": "metric", "attributes": {"name": "Order Completed"}}
    }
    assert attributes["profile"]["data"]["attributes"] == {
        "email": "ada@example.com",
        "external_id": "u1",
    }
    assert attributes["properties"]["order_id"] == "o-9"
    assert attributes["value"] == 42.5 and attributes["value_currency"] == "USD"
    assert attributes["unique_id"] == "m-1"
    assert attributes["time"].startswith("2026-11-02T10:00:00")
    assert KEY not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_page_and_screen_are_viewed_events(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{API}/events/").mock(return_value=httpx.Response(202))
    page = {
        "type": "page",
        "name": "Pricing",
        "anonymousId": "a-1",
        "context": {"page": {"url": "https://x.io/pricing", "path": "/pricing", "title": "P"}},
    }
    screen = {"type": "screen", "name": "Home", "userId": "u1"}
    lifecycles = _send([page, screen])
    assert all(lc.delivered for lc in lifecycles)
    first, second = (_body(route, n)["data"]["attributes"] for n in (0, 1))
    assert first["metric"]["data"]["attributes"]["name"] == "Viewed Page"
    assert first["properties"] == {
        "name": "Pricing",
        "url": "https://x.io/pricing",
        "path": "/pricing",
        "title": "P",
    }
    assert first["profile"]["data"]["attributes"] == {"anonymous_id": "a-1"}
    assert second["metric"]["data"]["attributes"]["name"] == "Viewed Screen"
    assert second["properties"] == {"name": "Home"}


@respx.mock(assert_all_called=True)
def test_identify_imports_the_profile(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{API}/profile-import/").mock(
        return_value=httpx.Response(201, json={"data": {"type": "profile", "id": PROFILE_ID}})
    )
    traits = {
        "email": "ada@example.com",
        "phone": "020 7946 0000",
        "firstName": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "address": {"city": "London", "country": "GB", "postal_code": "N1 9GU"},
        "plan": "pro",
    }
    (lifecycle,) = _send({"type": "identify", "userId": "u1", "traits": traits})
    assert lifecycle.delivered
    assert _body(route) == {
        "data": {
            "type": "profile",
            "attributes": {
                "email": "ada@example.com",
                "phone_number": "+442079460000",  # the user's own country (GB)
                "external_id": "u1",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "organization": "Analytical Engines",
                "location": {"city": "London", "country": "GB", "zip": "N1 9GU"},
                "properties": {"plan": "pro"},
            },
        }
    }


@respx.mock(assert_all_called=True)
def test_a_bad_identifier_is_left_out_and_noted(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{API}/profile-import/").mock(return_value=httpx.Response(201))
    traits = {"email": "ada\ufeff@example.com", "phone": "555 0100"}
    (lifecycle,) = _send({"type": "identify", "userId": "u1", "traits": traits})
    assert lifecycle.delivered
    assert _body(route)["data"]["attributes"] == {"external_id": "u1"}
    assert lifecycle.notes == [
        "traits.email: left out of the profile: contains an invisible character (U+FEFF) inside",
        "traits.phone: left out of the profile: has no country code (+ or 00), the user's "
        "country is unknown and no default country code was given",
    ]


@pytest.mark.parametrize(
    ("call", "why"),
    [("group", "no account or group object"), ("alias", "its merge call takes Klaviyo profile")],
)
def test_group_and_alias_are_refused_with_the_reason(call: str, why: str) -> None:
    event: dict[str, Any] = {"type": call, "userId": "u1"}
    event.update({"groupId": "g1"} if call == "group" else {"previousId": "a-1"})
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (lifecycle,) = _send(event)
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FILTERED
    assert why in lifecycle.routing["reason"]


# -- lists -------------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_audience_entries_are_one_bulk_import_into_the_list(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{API}/profile-bulk-import-jobs/").mock(
        return_value=httpx.Response(202, json={"data": {"type": "profile-bulk-import-job"}})
    )
    audience = _audience()
    events = [
        audience.event("track", user_id="u1", extra={"email": "a@example.com"}).to_wire(),
        audience.event("identify", user_id="u2", extra={"phone": "+1 415 555 0100"}).to_wire(),
    ]
    lifecycles = _send(events)
    assert all(lc.delivered for lc in lifecycles)
    assert len(route.calls) == 1
    assert _body(route) == {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {"email": "a@example.com", "external_id": "u1"},
                        },
                        {
                            "type": "profile",
                            "attributes": {"phone_number": "+14155550100", "external_id": "u2"},
                        },
                    ]
                }
            },
            "relationships": {"lists": {"data": [{"type": "list", "id": LIST}]}},
        }
    }


@respx.mock(assert_all_called=True)
def test_audience_exits_look_profiles_up_then_remove_them(respx_mock: respx.MockRouter) -> None:
    lookup = respx_mock.get(f"{API}/profiles/").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [
                        {"type": "profile", "id": PROFILE_ID, "attributes": {"email": "a@x.io"}}
                    ]
                },
            ),
            httpx.Response(200, json={"data": []}),
        ]
    )
    remove = respx_mock.delete(f"{API}/lists/{LIST}/relationships/profiles/").mock(
        return_value=httpx.Response(204)
    )
    audience = _audience()
    events = [
        audience.event("track", user_id="u1", entered=False, extra={"email": "A@x.io"}).to_wire(),
        audience.event("track", user_id="u2", entered=False, extra={"email": "b@x.io"}).to_wire(),
    ]
    first, second = _send(events)
    assert first.delivered and second.delivered
    by_email = lookup.calls[0].request.url.params
    assert by_email["filter"] == 'any(email,["a@x.io","b@x.io"])'
    assert lookup.calls[1].request.url.params["filter"] == 'any(external_id,["u2"])'
    assert _body(remove) == {"data": [{"type": "profile", "id": PROFILE_ID}]}
    assert first.notes == []
    assert second.notes == [
        "Klaviyo has no profile with this email or external_id: nothing to remove"
    ]


def test_a_journey_exit_is_refused_never_sent() -> None:
    step = sdk.Space("spa_x").step("Onboarding", "Welcome", destinations=[NAME])
    wire = step.event("track", user_id="u1", extra={"email": "a@x.io"}).to_wire()
    wire["event"] = "Audience Exited"
    wire["properties"][step.key] = False
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (lifecycle,) = _send(wire)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"


def test_a_key_without_a_list_is_refused_naming_the_settings() -> None:
    settings = {"api_key": KEY}
    event = _audience().event("track", user_id="u1", extra={"email": "a@x.io"})
    (lifecycle,) = _send(event, settings)
    assert lifecycle.error is not None
    assert lifecycle.error.message == (
        "context.personas.computation_key: 'vip_customers' has no list_map entry and no "
        "list_id is set"
    )


# -- Klaviyo's answers -------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_400_names_klaviyos_pointer_and_detail(respx_mock: respx.MockRouter) -> None:
    error = {
        "id": "e1",
        "status": 400,
        "code": "invalid",
        "title": "Invalid input.",
        "detail": "Invalid email address",
        "source": {"pointer": "/data/attributes/profile/data/attributes/email"},
    }
    respx_mock.post(f"{API}/events/").mock(
        return_value=httpx.Response(400, json={"errors": [error]})
    )
    (lifecycle,) = _send({"type": "track", "event": "E", "userId": "u1"})
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
    assert lifecycle.error.message == (
        "/data/attributes/profile/data/attributes/email: Klaviyo: invalid: Invalid email address"
    )


@respx.mock(assert_all_called=True)
def test_a_429_waits_retry_after_then_delivers(respx_mock: respx.MockRouter) -> None:
    throttled = {
        "errors": [{"status": 429, "code": "throttled", "detail": "Request was throttled."}]
    }
    route = respx_mock.post(f"{API}/events/").mock(
        side_effect=[
            httpx.Response(429, json=throttled, headers={"Retry-After": "7"}),
            httpx.Response(202),
        ]
    )
    waits: list[float] = []
    with sdk.Delivery(destination, SETTINGS, sleep=waits.append) as delivery:
        lifecycle = delivery.send({"type": "track", "event": "E", "userId": "u1"})
    assert lifecycle.delivered and len(route.calls) == 2
    assert waits and waits[0] >= 7


@respx.mock(assert_all_called=True)
def test_authentication_reads_the_account(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{API}/accounts/").mock(
        return_value=httpx.Response(200, json={"data": [{"type": "account", "id": "AbC123"}]})
    )
    with sdk.Delivery(destination, SETTINGS) as delivery:
        lifecycle = delivery.test_authentication()
    assert lifecycle.delivered and route.called
