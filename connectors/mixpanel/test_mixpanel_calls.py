"""Mixpanel: page/screen, context properties, group profiles, alias in both ID-merge modes,
orders appending $transactions, as Mixpanel's docs show the requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

import sdk
from connectors.mixpanel import destination

TOKEN = "mp-token-0f3e9a7c1b"
SETTINGS = {"project_token": TOKEN, "auth_method": "api_secret", "api_secret": "mp-secret-1a2b3c"}
IMPORT = "https://api.mixpanel.com/import?strict=1"
ENGAGE = "https://api.mixpanel.com/engage?verbose=1"
GROUPS = "https://api.mixpanel.com/groups?verbose=1"
IMPORTED = {"code": 200, "num_records_imported": 1, "status": "OK"}
ENGAGED = {"status": 1, "error": None}
WHEN = "2026-11-03T09:30:15Z"
MS = 1793698215000


def _send(events: list[dict[str, Any]], **settings: Any) -> list[sdk.Lifecycle]:
    with sdk.Delivery(destination, {**SETTINGS, **settings}, sleep=lambda s: None) as d:
        return d.send_many(events)


def _sent(route: respx.Route) -> list[dict[str, Any]]:
    return [item for call in route.calls for item in json.loads(call.request.content)]


@respx.mock(assert_all_called=True)
def test_page_and_screen_are_viewed_events_with_the_context(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    page = {
        "type": "page",
        "userId": "u-1001",
        "messageId": "m-page",
        "timestamp": WHEN,
        "name": "Pricing",
        "properties": {"plan": "pro"},
        "context": {
            "page": {"url": "https://example.com/pricing", "referrer": "https://google.com/"},
            "userAgent": "Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
            "os": {"name": "Mac OS X"},
            "screen": {"width": 1440, "height": 900},
            "locale": "en-US",
            "location": {"country": "us"},
            "library": {"name": "analytics.js", "version": "5.2.0"},
            "campaign": {
                "source": "google",
                "medium": "cpc",
                "name": "spring",
                "term": "crm",
                "content": "ad1",
            },
        },
    }
    screen = {"type": "screen", "anonymousId": "anon-9", "timestamp": WHEN, "name": "Cart"}
    assert all(lc.delivered for lc in _send([page, screen]))
    viewed, cart = _sent(route)
    assert viewed == {
        "event": "Viewed Pricing Page",
        "properties": {
            "$current_url": "https://example.com/pricing",
            "$referrer": "https://google.com/",
            "$os": "Mac OS X",
            "$browser": "Chrome",
            "$screen_width": 1440,
            "$screen_height": 900,
            "$locale": "en-US",
            "mp_country_code": "US",
            "mp_lib": "analytics.js",
            "$lib_version": "5.2.0",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "spring",
            "utm_term": "crm",
            "utm_content": "ad1",
            "url": "https://example.com/pricing",
            "referrer": "https://google.com/",
            "name": "Pricing",
            "plan": "pro",
            "time": MS,
            "distinct_id": "u-1001",
            "$insert_id": "m-page",
            "$user_id": "u-1001",
        },
    }
    assert cart["event"] == "Viewed Cart Screen"
    assert cart["properties"]["distinct_id"] == "anon-9"


@respx.mock(assert_all_called=True)
def test_group_sets_the_group_profile_and_the_users_group_key(
    respx_mock: respx.MockRouter,
) -> None:
    # /groups#group-set: [{"$token", "$group_key", "$group_id", "$set"}];
    # /engage#profile-union: [{"$token", "$distinct_id", "$union": {key: [values]}}].
    engage = respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, json=ENGAGED))
    groups = respx_mock.post(GROUPS).mock(return_value=httpx.Response(200, json=ENGAGED))
    event = {"type": "group", "userId": "u-1001", "groupId": "acme", "traits": {"plan": "Ent"}}
    [lifecycle] = _send([event], group_key="company_id")
    assert lifecycle.delivered
    assert _sent(engage) == [
        {"$token": TOKEN, "$distinct_id": "u-1001", "$union": {"company_id": ["acme"]}}
    ]
    assert _sent(groups) == [
        {"$token": TOKEN, "$group_key": "company_id", "$group_id": "acme", "$set": {"plan": "Ent"}}
    ]
    assert TOKEN not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_a_refused_group_update_fails_the_group_call(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, json=ENGAGED))
    respx_mock.post(GROUPS).mock(
        return_value=httpx.Response(200, json={"status": 0, "error": "unknown group key"})
    )
    event = {"type": "group", "userId": "u-1001", "groupId": "acme", "traits": {"plan": "Ent"}}
    [lifecycle] = _send([event])
    assert lifecycle.error is not None
    assert lifecycle.error.message == "/groups: Mixpanel refused the update: unknown group key"


@respx.mock(assert_all_called=True)
def test_alias_is_an_identify_event_in_simplified_id_merge(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    alias = {
        "type": "alias",
        "userId": "u-1001",
        "previousId": "anon-9",
        "messageId": "m-a",
        "timestamp": WHEN,
    }
    [lifecycle] = _send([alias])
    assert lifecycle.delivered
    assert _sent(route) == [
        {
            "event": "$identify",
            "properties": {
                "$anon_distinct_id": "anon-9",
                "time": MS,
                "distinct_id": "u-1001",
                "$insert_id": "m-a",
                "$user_id": "u-1001",
                "$device_id": "anon-9",
            },
        }
    ]


@respx.mock(assert_all_called=True)
def test_alias_is_a_merge_event_in_original_id_merge(respx_mock: respx.MockRouter) -> None:
    # Identity API, Merge Identities: {"event": "$merge", "properties": {"$distinct_ids": [a, b]}}
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    alias = {
        "type": "alias",
        "userId": "u-1001",
        "previousId": "old-7",
        "messageId": "m-a",
        "timestamp": WHEN,
    }
    [lifecycle] = _send([alias], id_merge="original")
    assert lifecycle.delivered
    [merge] = _sent(route)
    assert merge["event"] == "$merge"
    assert merge["properties"]["$distinct_ids"] == ["u-1001", "old-7"]
    assert "$device_id" not in merge["properties"]


@respx.mock(assert_all_called=True)
def test_an_order_is_imported_and_appends_a_transaction(respx_mock: respx.MockRouter) -> None:
    # /engage#profile-append: {"$append": {"$transactions": {"$time", "$amount"}}}
    imported = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    engage = respx_mock.post(ENGAGE).mock(return_value=httpx.Response(200, json=ENGAGED))
    order = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u-1001",
        "messageId": "o-1",
        "timestamp": WHEN,
        "properties": {"order_id": "o1", "revenue": 25.5, "products": [{"product_id": "p1"}]},
    }
    [lifecycle] = _send([order])
    assert lifecycle.delivered
    assert _sent(imported)[0]["event"] == "Order Completed"
    assert _sent(engage) == [
        {
            "$token": TOKEN,
            "$distinct_id": "u-1001",
            "$append": {"$transactions": {"$time": "2026-11-03T09:30:15", "$amount": 25.5}},
        }
    ]


@respx.mock(assert_all_called=True)
def test_an_order_without_revenue_is_noted_and_appends_nothing(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    order = {"type": "track", "event": "Order Completed", "userId": "u-1001", "timestamp": WHEN}
    [lifecycle] = _send([order])
    assert lifecycle.delivered
    assert lifecycle.notes == [
        "properties.revenue: none (nor total, value): no $transactions entry appended"
    ]


@respx.mock(assert_all_called=True)
def test_a_refused_transaction_is_noted_and_the_order_delivered(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    respx_mock.post(ENGAGE).mock(
        return_value=httpx.Response(200, json={"status": 0, "error": "bad"})
    )
    order = {
        "type": "track",
        "event": "Product Purchased",
        "userId": "u-1001",
        "timestamp": WHEN,
        "properties": {"price": 4, "quantity": 2},
    }
    [lifecycle] = _send([order])
    assert lifecycle.delivered
    assert lifecycle.notes == [
        "$transactions not appended: $append: Mixpanel refused the profile update: bad"
    ]


@respx.mock(assert_all_called=True)
def test_a_country_that_is_no_code_is_noted(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    event = {
        "type": "track",
        "event": "Signed Up",
        "userId": "u-1001",
        "timestamp": WHEN,
        "context": {"location": {"country": "United States"}},
    }
    [lifecycle] = _send([event])
    assert lifecycle.delivered
    assert "mp_country_code" not in _sent(route)[0]["properties"]
    assert lifecycle.notes == [
        "context.location.country: not a 2-letter country code: not sent as mp_country_code"
    ]


@respx.mock(assert_all_called=True)
def test_context_values_of_the_wrong_type_are_left_out_with_a_note(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(IMPORT).mock(return_value=httpx.Response(200, json=IMPORTED))
    event = {
        "type": "track",
        "event": "Signed Up",
        "userId": "u-1001",
        "messageId": "m-loose",
        "timestamp": WHEN,
        "context": {
            "os": {"name": ["Mac OS X"]},
            "screen": {"width": "wide"},
            "campaign": {"source": 7},
            "locale": "en-US",
        },
    }
    [lifecycle] = _send([event])
    assert lifecycle.delivered
    [sent] = _sent(route)
    properties = sent["properties"]
    assert properties["$locale"] == "en-US"
    assert not {"$os", "$screen_width", "utm_source"} & set(properties)
    assert sorted(lifecycle.notes) == [
        "os left out: $.context.os.name is a list, not text",
        "screen_width left out: $.context.screen.width is text, not a number",
        "utm_source left out: $.context.campaign.source is a number, not text",
    ]
