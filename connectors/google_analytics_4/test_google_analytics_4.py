"""Google Analytics 4 connector: the Measurement Protocol requests of the reference's examples,
GA4's name and parameter rules (each change a note), the secret in the query string masked
everywhere, the validation server, the refusals, and the contract suite."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.google_analytics_4 import destination
from connectors.google_analytics_4.contract import contract
from sdk.testing import ContractTests

SECRET = "Qx9Zk2-ga4-secret-77"
MID = "G-ABC123XYZ"
SETTINGS: dict[str, Any] = {"measurement_id": MID, "api_secret": SECRET}
COLLECT = "https://www.google-analytics.com/mp/collect"
DEBUG = "https://www.google-analytics.com/debug/mp/collect"


class TestGoogleAnalytics4Contract(ContractTests):
    contract = contract


def _send(events: Any, settings: dict[str, Any] | None = None) -> list[sdk.Lifecycle]:
    with sdk.Delivery(destination, settings or SETTINGS, sleep=lambda s: None) as delivery:
        return delivery.send_many(events if isinstance(events, list) else [events])


def _body(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


@respx.mock(assert_all_called=True)
def test_order_completed_is_a_purchase_with_items(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(COLLECT).mock(return_value=httpx.Response(204))
    event = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "anonymousId": "123456.7654321",
        "timestamp": "2026-11-02T10:00:00Z",
        "properties": {
            "order_id": "T_12345",
            "revenue": 25.42,
            "currency": "USD",
            "coupon": "SUMMER_FUN",
            "products": [
                {"product_id": "SKU_12345", "name": "Stan and Friends Tee", "price": 9.99,
                 "quantity": 1, "brand": "Google", "category": "Apparel"},
            ],
        },
    }  # fmt: skip
    (lifecycle,) = _send(event)
    assert lifecycle.delivered, lifecycle.error
    request = route.calls.last.request
    assert request.url.params["measurement_id"] == MID
    assert request.url.params["api_secret"] == SECRET
    assert _body(route) == {
        "client_id": "123456.7654321",
        "user_id": "u1",
        "timestamp_micros": 1793613600000000,
        "events": [
            {
                "name": "purchase",
                "params": {
                    "transaction_id": "T_12345",
                    "value": 25.42,
                    "currency": "USD",
                    "coupon": "SUMMER_FUN",
                    "items": [
                        {
                            "item_id": "SKU_12345",
                            "item_name": "Stan and Friends Tee",
                            "price": 9.99,
                            "quantity": 1,
                            "item_category": "Apparel",
                            "item_brand": "Google",
                        }
                    ],
                },
            }
        ],
    }
    assert lifecycle.notes == []


@respx.mock(assert_all_called=True)
def test_the_api_secret_is_masked_in_the_record_and_the_logs(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.post(COLLECT).mock(return_value=httpx.Response(500, text=f"boom {SECRET}"))
    with caplog.at_level(logging.DEBUG):
        (lifecycle,) = _send({"type": "track", "event": "Signed Up", "anonymousId": "a-1"})
    assert not lifecycle.delivered
    record = lifecycle.to_json()
    assert SECRET not in record
    assert "api_secret" in record  # the parameter is recorded, its value masked
    assert SECRET not in caplog.text


@respx.mock(assert_all_called=True)
def test_names_and_values_follow_ga4_rules_and_each_change_is_noted(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(COLLECT).mock(return_value=httpx.Response(204))
    properties: dict[str, Any] = {
        "Plan Name": "pro",
        "google_thing": 1,
        "nested": {"a": 1},
        "note": "x" * 150,
        **{f"p{n}": n for n in range(30)},
    }
    event = {"type": "track", "event": "Video Played!", "userId": "u1", "properties": properties}
    (lifecycle,) = _send(event)
    assert lifecycle.delivered
    sent = _body(route)
    assert sent["client_id"] == "u1"
    (ga_event,) = sent["events"]
    assert ga_event["name"] == "video_played"
    params = ga_event["params"]
    assert params["plan_name"] == "pro" and params["note"] == "x" * 100
    assert len(params) == 25 and "google_thing" not in params and "nested" not in params
    assert lifecycle.notes == [
        "event: 'Video Played!' sent as 'video_played' (GA4 names: letters, digits and "
        "underscores, starting with a letter, at most 40 characters)",
        "properties.Plan Name: sent as 'plan_name' (GA4 names: letters, digits and underscores, "
        "starting with a letter, at most 40 characters)",
        "properties.google_thing: left out: not a legal GA4 parameter name (letters, digits and "
        "underscores, starting with a letter, at most 40 characters, no reserved prefix)",
        "properties.nested: left out: GA4 parameters are strings or numbers, not objects or lists",
        "properties.note: cut to 100 characters (GA4's limit for a value)",
        "properties: 7 left out over GA4's 25 parameters an event: p23, p24, p25, p26, p27, p28, "
        "p29",
        "client_id: no anonymousId, so the userId stands in as GA4's client_id",
    ]


@pytest.mark.parametrize("name", ["session_start", "first_visit", "ga_custom", "_internal"])
def test_a_reserved_event_name_is_refused_before_sending(name: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (lifecycle,) = _send({"type": "track", "event": name, "anonymousId": "a-1"})
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidEvent"
    assert lifecycle.error.message.startswith("event: ") and "reserved by GA4" in (
        lifecycle.error.message
    )


@respx.mock(assert_all_called=True)
def test_page_and_screen_are_page_view_and_screen_view(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(COLLECT).mock(return_value=httpx.Response(204))
    page = {
        "type": "page",
        "name": "Pricing",
        "anonymousId": "a-1",
        "context": {"page": {"url": "https://x.io/pricing", "title": "Pricing", "referrer": "r"}},
        "integrations": {"Google Analytics 4": {"clientId": "111.222", "sessionId": 1730000000}},
    }
    screen = {"type": "screen", "name": "Home", "anonymousId": "a-2", "properties": {"tab": 2}}
    lifecycles = _send([page, screen])
    assert all(lc.delivered for lc in lifecycles)
    first = _body(route, 0)
    assert first.pop("timestamp_micros") > 0  # Segment fills in the timestamp: now
    assert first == {
        "client_id": "111.222",
        "events": [
            {
                "name": "page_view",
                "params": {
                    "page_location": "https://x.io/pricing",
                    "page_title": "Pricing",
                    "page_referrer": "r",
                    "page_name": "Pricing",
                    "session_id": "1730000000",
                },
            }
        ],
    }
    assert _body(route, 1)["events"] == [
        {"name": "screen_view", "params": {"screen_name": "Home", "tab": 2}}
    ]


@pytest.mark.parametrize(
    ("call", "why"),
    [
        ("identify", "no profile update"),
        ("group", "no group or account object"),
        ("alias", "user_id on each event links"),
    ],
)
def test_identify_group_and_alias_are_refused_with_the_reason(call: str, why: str) -> None:
    event: dict[str, Any] = {"type": call, "userId": "u1"}
    event.update(
        {"groupId": "g"} if call == "group" else {"previousId": "a"} if call == "alias" else {}
    )
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (lifecycle,) = _send(event)
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FILTERED
    assert why in lifecycle.routing["reason"]


@respx.mock(assert_all_called=True)
def test_authentication_uses_the_validation_server(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(DEBUG).mock(
        side_effect=[
            httpx.Response(200, json={"validationMessages": []}),
            httpx.Response(
                200,
                json={
                    "validationMessages": [
                        {
                            "fieldPath": "measurement_id",
                            "description": "Unable to find a data stream for measurement_id.",
                            "validationCode": "VALUE_INVALID",
                        }
                    ]
                },
            ),
        ]
    )
    with sdk.Delivery(destination, SETTINGS) as delivery:
        ok = delivery.test_authentication()
        bad = delivery.test_authentication()
    assert ok.delivered
    assert bad.error is not None and bad.error.cls == "InvalidAuthentication"
    assert bad.error.message == (
        "measurement_id: GA4 validation: Unable to find a data stream for measurement_id. "
        "(VALUE_INVALID)"
    )
    assert _body(route, 0)["events"] == [{"name": "destkit_test"}]
    assert SECRET not in bad.to_json()


def test_a_bad_measurement_id_is_refused_at_load() -> None:
    with pytest.raises(sdk.InvalidSettings, match="measurement_id"):
        sdk.Delivery(destination, {**SETTINGS, "measurement_id": "UA-1234-1"})


@respx.mock(assert_all_called=True)
def test_fields_are_declared_and_a_mapping_override_changes_one(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(COLLECT).mock(return_value=httpx.Response(204))
    configured = sdk.configure_destination(
        destination, {"send_event": {"mapping": {"client_id": "$.context.traits.ga_client"}}}
    )
    page = {
        "type": "page",
        "anonymousId": "a-1",
        "properties": {"url": 42, "title": "Docs"},
        "context": {"traits": {"ga_client": "555.666"}, "page": {"url": "https://x.io/docs"}},
    }
    with sdk.Delivery(configured, SETTINGS, sleep=lambda s: None) as delivery:
        [lifecycle] = delivery.send_many([page])
    assert lifecycle.delivered
    body = _body(route)
    assert body["client_id"] == "555.666"  # the override, not the anonymousId
    # properties.url comes first and is not text: left out with a note, never silently
    assert body["events"][0]["params"] == {"page_title": "Docs"}
    assert lifecycle.notes == ["page_location left out: $.properties.url is a number, not text"]
    assert set(destination.actions[0].field_mappings().describe()) >= {
        "client_id",
        "user_id",
        "page_location",
    }
