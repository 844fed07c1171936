"""Amplitude: page/screen, group (groups + Group Identify), alias (User Mapping or refused),
orders with revenue per product, and the context keys, as Amplitude's docs show them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx

import sdk
from connectors.amplitude import destination

KEY = "amp-test-key-3b9d41f0"
US = "https://api2.amplitude.com/2/httpapi"
OK = {"code": 200, "events_ingested": 1, "payload_size_bytes": 50, "server_upload_time": 1}
WHEN = "2026-11-03T09:30:15.250Z"
MS = 1793698215250


def _send(events: list[dict[str, Any]], **settings: Any) -> list[sdk.Lifecycle]:
    with sdk.Delivery(destination, {"api_key": KEY, **settings}, sleep=lambda s: None) as d:
        return d.send_many(events)


def _events(route: respx.Route) -> list[dict[str, Any]]:
    return [e for call in route.calls for e in json.loads(call.request.content)["events"]]


def _form(request: httpx.Request) -> dict[str, Any]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


@respx.mock(assert_all_called=True)
def test_page_and_screen_are_viewed_events(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    page = {
        "type": "page",
        "userId": "user-12345",
        "messageId": "m-page",
        "timestamp": WHEN,
        "name": "Pricing",
        "context": {"page": {"url": "https://example.com/pricing", "referrer": "https://g.co"}},
        "properties": {"plan": "pro"},
    }
    screen = {"type": "screen", "userId": "user-12345", "timestamp": WHEN, "name": "Cart"}
    nameless = {"type": "screen", "userId": "user-12345", "timestamp": WHEN}
    assert all(lc.delivered for lc in _send([page, screen, nameless]))
    events = _events(route)
    assert events[0] == {
        "user_id": "user-12345",
        "time": MS,
        "insert_id": "m-page",
        "platform": "Web",
        "event_type": "Viewed Pricing Page",
        "event_properties": {
            "url": "https://example.com/pricing",
            "referrer": "https://g.co",
            "name": "Pricing",
            "plan": "pro",
        },
    }
    assert [e["event_type"] for e in events[1:]] == ["Viewed Cart Screen", "Loaded a Screen"]


@respx.mock(assert_all_called=True)
def test_group_sets_the_users_group_and_the_group_properties(
    respx_mock: respx.MockRouter,
) -> None:
    # Identify API: "groups" on the user; Group Identify API: identification=[{group_type,
    # group_value, group_properties}] form-encoded with api_key.
    events = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    group = respx_mock.post("https://api2.amplitude.com/groupidentify").mock(
        return_value=httpx.Response(200, text="success")
    )
    event = {
        "type": "group",
        "userId": "user-12345",
        "messageId": "m-group",
        "timestamp": WHEN,
        "groupId": "acme-inc",
        "traits": {"plan": "Enterprise", "employees": 120},
    }
    [lifecycle] = _send([event], group_type="org")
    assert lifecycle.delivered
    [identify] = _events(events)
    assert identify["event_type"] == "$identify"
    assert identify["groups"] == {"org": "acme-inc"}
    assert identify["user_properties"] == {"$set": {"org": "acme-inc"}}
    form = _form(group.calls[0].request)
    assert form["api_key"] == KEY
    assert json.loads(form["identification"]) == [
        {
            "group_type": "org",
            "group_value": "acme-inc",
            "group_properties": {"$set": {"plan": "Enterprise", "employees": 120}},
        }
    ]
    assert KEY not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_a_group_without_traits_makes_no_group_identify(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event = {"type": "group", "userId": "user-12345", "groupId": "acme"}
    [lifecycle] = _send([event])
    assert lifecycle.delivered


def test_alias_is_refused_with_the_reason_without_usermap() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        [lifecycle] = _send([{"type": "alias", "userId": "user-12345", "previousId": "old-1"}])
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FILTERED
    assert "User Mapping API" in json.dumps(lifecycle.to_json())


@respx.mock(assert_all_called=True)
def test_alias_is_a_user_mapping_when_usermap_is_on(respx_mock: respx.MockRouter) -> None:
    # User Mapping API: POST https://api.amplitude.com/usermap, api_key and
    # mapping=[{"user_id", "global_user_id"}].
    route = respx_mock.post("https://api.amplitude.com/usermap").mock(
        return_value=httpx.Response(200, text="success")
    )
    alias = {"type": "alias", "userId": "user-12345", "previousId": "old-user-1"}
    [lifecycle] = _send([alias], usermap=True)
    assert lifecycle.delivered
    form = _form(route.calls[0].request)
    assert json.loads(form["mapping"]) == [
        {"user_id": "old-user-1", "global_user_id": "user-12345"}
    ]


@respx.mock(assert_all_called=True)
def test_a_refused_api_key_on_usermap_is_an_authentication_failure(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post("https://api.amplitude.com/usermap").mock(
        return_value=httpx.Response(401, text="Invalid API key")
    )
    alias = {"type": "alias", "userId": "user-12345", "previousId": "old-user-1"}
    [lifecycle] = _send([alias], usermap=True)
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"


def _order(products: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": "user-12345",
        "messageId": "order-1",
        "timestamp": WHEN,
        "properties": {"order_id": "o1", "revenue": 25, "products": products},
    }


@respx.mock(assert_all_called=True)
def test_order_products_are_revenue_events_and_the_order_is_kept(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    products: list[dict[str, Any]] = [
        {"product_id": "p1", "price": 10, "quantity": 2},
        {"sku": "s2", "price": 5},
        {"product_id": "p3"},
    ]
    [lifecycle] = _send([_order(products)])
    assert lifecycle.delivered
    order, first, second = _events(route)
    assert order["event_type"] == "Order Completed" and "revenue" not in order
    assert order["event_properties"]["revenue"] == 25
    assert {k: first[k] for k in ("event_type", "insert_id", "price", "quantity")} == {
        "event_type": "Product Purchased",
        "insert_id": "order-1-0",
        "price": 10,
        "quantity": 2,
    }
    assert (first["productId"], first["revenueType"]) == ("p1", "Purchase")
    assert (second["productId"], second["quantity"], second["insert_id"]) == ("s2", 1, "order-1-1")
    assert lifecycle.notes == ["properties.products[2]: no numeric price: no revenue event"]


@respx.mock(assert_all_called=True)
def test_a_refused_revenue_event_is_noted_and_the_order_delivered(
    respx_mock: respx.MockRouter,
) -> None:
    refused = httpx.Response(
        400,
        json={
            "code": 400,
            "error": "Request missing required field",
            "events_with_invalid_fields": {"price": [1]},
        },
    )
    route = respx_mock.post(US).mock(side_effect=[refused, httpx.Response(200, json=OK)])
    [lifecycle] = _send([_order([{"product_id": "p1", "price": 3}])])
    assert lifecycle.delivered
    assert len(route.calls) == 2
    assert len(lifecycle.notes) == 1 and lifecycle.notes[0].startswith("revenue event 1")


@respx.mock(assert_all_called=True)
def test_context_keys_and_the_session_id(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event = {
        "type": "track",
        "event": "Song Played",
        "userId": "user-12345",
        "timestamp": WHEN,
        "integrations": {"Amplitude": {"session_id": 1793698000000}},
        "context": {
            "device": {
                "type": "android",
                "brand": "Google",
                "manufacturer": "Google",
                "model": "Pixel 8",
            },
            "os": {"name": "Android", "version": "14"},
            "network": {"carrier": "T-Mobile"},
            "location": {"country": "Germany", "city": "Berlin"},
            "locale": "de-DE",
            "ip": "8.8.8.8",
        },
    }
    [lifecycle] = _send([event])
    assert lifecycle.delivered
    [sent] = _events(route)
    assert {k: sent[k] for k in ("session_id", "platform", "os_name", "os_version")} == {
        "session_id": 1793698000000,
        "platform": "Android",
        "os_name": "Android",
        "os_version": "14",
    }
    assert (sent["device_brand"], sent["device_manufacturer"], sent["device_model"]) == (
        "Google",
        "Google",
        "Pixel 8",
    )
    assert (sent["carrier"], sent["country"], sent["city"], sent["language"], sent["ip"]) == (
        "T-Mobile",
        "Germany",
        "Berlin",
        "de-DE",
        "8.8.8.8",
    )


@respx.mock(assert_all_called=True)
def test_values_amplitude_cannot_take_are_noted(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(US).mock(return_value=httpx.Response(200, json=OK))
    event = {
        "type": "track",
        "event": "Upgraded",
        "userId": "user-12345",
        "timestamp": WHEN,
        "properties": {"revenue": "12 dollars"},
        "context": {"device": {"type": "tv", "advertisingId": "ad-1"}},
    }
    [lifecycle] = _send([event])
    assert lifecycle.delivered
    [sent] = _events(route)
    assert "revenue" not in sent and sent["event_properties"] == {"revenue": "12 dollars"}
    assert "idfa" not in sent and "adid" not in sent
    assert sorted(lifecycle.notes) == [
        "context.device.advertisingId: the device type is neither ios nor android, so it is "
        "neither idfa nor adid: left out",
        "revenue left out: $.properties.revenue is text, not a number",
    ]
