"""Braze: page/screen as custom events, group as an attribute, alias through /users/identify
or /users/alias/new, orders as purchase objects and the locale's language, as Braze's API
reference shows the requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import respx

import sdk
from connectors.braze import destination

KEY = "brz-rest-key-7c1d9e2a"
URL = "https://rest.iad-01.braze.com/users/track"
SETTINGS = {"api_key": KEY}
WHEN = datetime(2026, 11, 3, 9, 30, 15, 250000, tzinfo=UTC)


def _send(events: list[Any], settings: dict[str, Any] | None = None) -> list[sdk.Lifecycle]:
    with sdk.Delivery(destination, settings or SETTINGS, sleep=lambda s: None) as delivery:
        return delivery.send_many(events)


def _body(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


def _created(**counts: int) -> httpx.Response:
    body: dict[str, Any] = {"message": "success"}
    body.update({f"{array}_processed": n for array, n in counts.items()})
    return httpx.Response(201, json=body)


@respx.mock(assert_all_called=True)
def test_page_and_screen_are_viewed_custom_events(respx_mock: respx.MockRouter) -> None:
    # Event object: {"external_id", "app_id", "name", "time", "properties"}.
    route = respx_mock.post(URL).mock(return_value=_created(events=3))
    page = {
        "type": "page",
        "userId": "u1",
        "name": "Pricing",
        "category": "Docs",
        "timestamp": WHEN.isoformat(),
        "context": {"page": {"url": "https://example.com/pricing", "title": "Pricing"}},
        "properties": {"plan": "pro"},
    }
    screen = {
        "type": "screen",
        "anonymousId": "anon-1",
        "name": "Cart",
        "timestamp": WHEN.isoformat(),
    }
    nameless = {"type": "page", "userId": "u1", "timestamp": WHEN.isoformat()}
    lifecycles = _send([page, screen, nameless], {**SETTINGS, "app_id": "app-9"})
    assert all(lc.delivered for lc in lifecycles)
    events = [e for call in route.calls for e in json.loads(call.request.content)["events"]]
    assert events[0] == {
        "external_id": "u1",
        "name": "Viewed Pricing Page",
        "time": "2026-11-03T09:30:15.250Z",
        "app_id": "app-9",
        "properties": {
            "url": "https://example.com/pricing",
            "title": "Pricing",
            "name": "Pricing",
            "category": "Docs",
            "plan": "pro",
        },
    }
    assert events[1]["name"] == "Viewed Cart Screen"
    assert events[1]["user_alias"] == {"alias_name": "anon-1", "alias_label": "anonymous_id"}
    assert events[2]["name"] == "Loaded a Page"


@respx.mock(assert_all_called=True)
def test_group_is_a_group_attribute_and_its_traits_are_noted(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=1))
    [lifecycle] = _send(
        [{"type": "group", "userId": "u1", "groupId": "acme", "traits": {"plan": "pro"}}]
    )
    assert lifecycle.delivered
    assert _body(route) == {"attributes": [{"external_id": "u1", "ab_segment_group_acme": True}]}
    assert lifecycle.notes == [
        "traits (plan): group traits describe the group and Braze has no group object: left out"
    ]


@respx.mock(assert_all_called=True)
def test_alias_merges_the_alias_only_profile_with_users_identify(
    respx_mock: respx.MockRouter,
) -> None:
    # POST /users/identify: {"aliases_to_identify": [{"external_id", "user_alias"}]}
    route = respx_mock.post("https://rest.iad-01.braze.com/users/identify").mock(
        return_value=httpx.Response(201, json={"aliases_processed": 1, "message": "success"})
    )
    [lifecycle] = _send([{"type": "alias", "userId": "u1", "previousId": "anon-1"}])
    assert lifecycle.delivered
    assert _body(route) == {
        "aliases_to_identify": [
            {
                "external_id": "u1",
                "user_alias": {"alias_name": "anon-1", "alias_label": "anonymous_id"},
            }
        ]
    }
    assert route.calls[0].request.headers["authorization"] == f"Bearer {KEY}"


@respx.mock(assert_all_called=True)
def test_alias_new_adds_the_previous_id_as_an_alias(respx_mock: respx.MockRouter) -> None:
    # POST /users/alias/new: {"user_aliases": [{"external_id", "alias_name", "alias_label"}]}
    route = respx_mock.post("https://rest.iad-01.braze.com/users/alias/new").mock(
        return_value=httpx.Response(201, json={"aliases_processed": 1, "message": "success"})
    )
    settings = {**SETTINGS, "alias_merge": "alias_new", "alias_label": "segment_id"}
    [lifecycle] = _send([{"type": "alias", "userId": "u1", "previousId": "old"}], settings)
    assert lifecycle.delivered
    assert _body(route) == {
        "user_aliases": [{"external_id": "u1", "alias_name": "old", "alias_label": "segment_id"}]
    }


@respx.mock(assert_all_called=True)
def test_an_alias_braze_refuses_fails_with_its_error(respx_mock: respx.MockRouter) -> None:
    respx_mock.post("https://rest.iad-01.braze.com/users/identify").mock(
        return_value=httpx.Response(
            201, json={"message": "success", "errors": [{"type": "'external_id' is invalid"}]}
        )
    )
    [lifecycle] = _send([{"type": "alias", "userId": "u1", "previousId": "anon-1"}])
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
    assert "'external_id' is invalid" in lifecycle.error.message


def _order(products: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "u1",
        "event": "Order Completed",
        "timestamp": WHEN.isoformat(),
        "properties": {"order_id": "o1", "revenue": 30, "products": products, **properties},
    }


@respx.mock(assert_all_called=True)
def test_order_completed_products_become_purchases_and_the_event_is_kept(
    respx_mock: respx.MockRouter,
) -> None:
    # Purchase object: {"external_id", "product_id", "currency", "price", "quantity", "time"}.
    route = respx_mock.post(URL).mock(return_value=_created(events=1, purchases=2))
    products: list[dict[str, Any]] = [
        {"product_id": "p1", "sku": "s1", "price": 10, "quantity": 2, "name": "Mug"},
        {"sku": "s2", "price": 10.5},
        {"product_id": "p3"},
    ]
    [lifecycle] = _send([_order(products, currency="eur")])
    assert lifecycle.delivered
    body = _body(route)
    assert body["events"][0]["name"] == "Order Completed"
    assert body["purchases"] == [
        {
            "external_id": "u1",
            "time": "2026-11-03T09:30:15.250Z",
            "product_id": "p1",
            "currency": "EUR",
            "price": 10,
            "quantity": 2,
            "properties": {"name": "Mug"},
        },
        {
            "external_id": "u1",
            "time": "2026-11-03T09:30:15.250Z",
            "product_id": "s2",
            "currency": "EUR",
            "price": 10.5,
        },
    ]
    assert lifecycle.notes == [
        "properties.products[2]: no numeric price: not sent as a Braze purchase"
    ]


@respx.mock(assert_all_called=True)
def test_product_purchased_is_one_purchase_in_usd_by_default(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(events=1, purchases=1))
    event = {
        "type": "track",
        "userId": "u1",
        "event": "Product Purchased",
        "timestamp": WHEN.isoformat(),
        "properties": {"sku": "s9", "price": 4},
    }
    [lifecycle] = _send([event])
    assert lifecycle.delivered
    [purchase] = _body(route)["purchases"]
    assert (purchase["product_id"], purchase["currency"], purchase["price"]) == ("s9", "USD", 4)


@respx.mock(assert_all_called=True)
def test_orders_stay_within_75_objects_per_request(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(events=1))
    many = [{"product_id": f"p{i}", "price": 1} for i in range(80)]
    small = [{"product_id": "p", "price": 1}] * 3
    lifecycles = _send([_order(many), _order(small)])
    assert all(lc.delivered for lc in lifecycles)
    sizes = [sum(len(v) for v in json.loads(c.request.content).values()) for c in route.calls]
    assert sizes and max(sizes) <= 75
    first = json.loads(route.calls[0].request.content)
    assert len(first["purchases"]) == 74
    assert lifecycles[0].notes == [
        "properties.products[74] and later: over 74 purchases per order (Braze takes 75 "
        "objects per request, the order's event included): not sent"
    ]


@respx.mock(assert_all_called=True)
def test_a_failed_request_of_a_split_batch_retries_only_its_own_events(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(
        side_effect=[_created(events=1), httpx.Response(503), _created(events=1)]
    )
    full = [{"product_id": f"p{i}", "price": 1} for i in range(74)]
    lifecycles = _send([_order(full), _order([{"product_id": "p", "price": 1}])])
    assert all(lc.delivered for lc in lifecycles)
    assert len(route.calls) == 3  # 75 objects, then 2 objects (503), then those 2 again
    assert len(lifecycles[0].attempts) == 1 and len(lifecycles[1].attempts) == 2
    retried = json.loads(route.calls[2].request.content)
    assert len(retried["purchases"]) == 1


@respx.mock(assert_all_called=True)
def test_an_order_in_no_known_currency_sends_no_purchases(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(events=1))
    [lifecycle] = _send([_order([{"product_id": "p1", "price": 1}], currency="euros")])
    assert lifecycle.delivered
    assert "purchases" not in _body(route)
    assert lifecycle.notes == ["properties.currency: not an ISO 4217 code: no Braze purchases sent"]


@respx.mock(assert_all_called=True)
def test_a_purchase_braze_refuses_is_noted_and_the_order_delivered(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(URL).mock(
        return_value=httpx.Response(
            201,
            json={
                "message": "success",
                "errors": [{"type": "Invalid currency", "input_array": "purchases", "index": 0}],
            },
        )
    )
    [lifecycle] = _send([_order([{"product_id": "p1", "price": 1}], currency="ZZZ")])
    assert lifecycle.delivered
    assert lifecycle.notes == ["Braze refused purchases[0]: Invalid currency"]


@respx.mock(assert_all_called=True)
def test_identify_takes_brazes_language_from_the_locale(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=_created(attributes=2))
    events = [
        {"type": "identify", "userId": "u1", "context": {"locale": "fr-CA"}, "traits": {}},
        {
            "type": "identify",
            "userId": "u2",
            "context": {"locale": "fr-CA"},
            "traits": {"language": "de"},
        },
    ]
    assert all(lc.delivered for lc in _send(events))
    attributes = _body(route)["attributes"]
    assert attributes[0] == {"language": "fr", "external_id": "u1"}
    assert attributes[1] == {"language": "de", "external_id": "u2"}
