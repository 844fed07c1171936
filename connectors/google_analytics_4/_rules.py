"""GA4's naming and size rules for Measurement Protocol events, and Segment's ecommerce spec
mapped onto GA4's recommended events.

From the Measurement Protocol reference, "Limitations" and "Reserved names" (checked 2026-11):
event and parameter names have at most 40 characters, only letters, digits and underscores, and
start with a letter; string parameter values at most 100 characters; at most 25 parameters per
event; at most 200 items; reserved event names and the reserved prefixes (``_``, ``firebase_``,
``ga_``, ``google_``, ``gtag.``) may not be used. Everything renamed, cut or dropped here is
returned as a note naming the field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sdk import InvalidEvent

__all__ = ["event_name", "event_params", "ga4_name"]

MAX_NAME = 40
MAX_VALUE = 100
MAX_PARAMS = 25
MAX_ITEMS = 200
RESERVED_EVENTS = frozenset(
    {
        "ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "ad_reward",
        "adunit_exposure", "app_background", "app_clear_data", "app_exception", "app_remove",
        "app_store_refund", "app_store_subscription_cancel", "app_store_subscription_convert",
        "app_store_subscription_renew", "app_update", "app_upgrade", "dynamic_link_app_open",
        "dynamic_link_app_update", "dynamic_link_first_open", "error", "firebase_campaign",
        "firebase_in_app_message_action", "firebase_in_app_message_dismiss",
        "firebase_in_app_message_impression", "first_open", "first_visit", "in_app_purchase",
        "notification_dismiss", "notification_foreground", "notification_open",
        "notification_receive", "os_update", "session_start", "session_start_with_rollout",
        "user_engagement",
    }
)  # fmt: skip
RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
#: Segment's ecommerce (and a few common) event names -> GA4's recommended events.
RECOMMENDED = {
    "Order Completed": "purchase",
    "Order Refunded": "refund",
    "Product Added": "add_to_cart",
    "Product Removed": "remove_from_cart",
    "Product Viewed": "view_item",
    "Product Clicked": "select_item",
    "Product List Viewed": "view_item_list",
    "Product Added to Wishlist": "add_to_wishlist",
    "Products Searched": "search",
    "Cart Viewed": "view_cart",
    "Checkout Started": "begin_checkout",
    "Payment Info Entered": "add_payment_info",
    "Promotion Viewed": "view_promotion",
    "Promotion Clicked": "select_promotion",
    "Signed Up": "sign_up",
    "Signed In": "login",
    "Audience Entered": "audience_entered",
    "Audience Exited": "audience_exited",
}
#: Segment property -> GA4 parameter, for every event.
RENAMED = {
    "revenue": "value",
    "total": "value",
    "order_id": "transaction_id",
    "query": "search_term",
    "product_id": "item_id",
}
#: Segment product field -> GA4 item field.
ITEM_FIELDS = {
    "product_id": "item_id",
    "sku": "item_id",
    "name": "item_name",
    "price": "price",
    "quantity": "quantity",
    "category": "item_category",
    "brand": "item_brand",
    "variant": "item_variant",
    "coupon": "coupon",
    "position": "index",
}
_NOT_NAME = re.compile(r"[^a-z0-9_]+")
_NAME_RULE = "letters, digits and underscores, starting with a letter, at most 40 characters"


def ga4_name(text: str) -> str:
    """``text`` as a GA4 name: snake case, ``[a-z0-9_]``, starting with a letter, at most 40."""
    name = _NOT_NAME.sub("_", text.strip().lower()).strip("_")
    name = re.sub(r"_+", "_", name)
    if name and not name[0].isalpha():
        name = "n_" + name
    return name[:MAX_NAME].rstrip("_")


def _reserved(name: str) -> bool:
    return name.startswith(RESERVED_PREFIXES)


def event_name(segment_name: str, notes: list[str]) -> str:
    """The GA4 event name of a track call: its recommended event, else the name made legal
    (noted when renamed); a reserved name is refused."""
    if segment_name in RECOMMENDED:
        return RECOMMENDED[segment_name]
    name = ga4_name(segment_name)
    if not name:
        raise InvalidEvent("event", f"has nothing GA4 can keep as an event name ({_NAME_RULE})")
    if name in RESERVED_EVENTS or _reserved(segment_name) or _reserved(name):
        raise InvalidEvent(
            "event",
            f"{name!r} is reserved by GA4 (reserved event names and prefixes _, "
            "firebase_, ga_, google_, gtag.)",
        )
    if name != segment_name:
        notes.append(f"event: {segment_name!r} sent as {name!r} (GA4 names: {_NAME_RULE})")
    return name


def _value(field: str, value: Any, notes: list[str]) -> str | int | float | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if len(value) > MAX_VALUE:
            notes.append(f"{field}: cut to {MAX_VALUE} characters (GA4's limit for a value)")
            return value[:MAX_VALUE]
        return value
    if value is None:
        return None
    notes.append(f"{field}: left out: GA4 parameters are strings or numbers, not objects or lists")
    return None


def _items(products: Any, notes: list[str]) -> list[dict[str, Any]]:
    if not isinstance(products, list):
        notes.append("properties.products: left out: must be a list of products")
        return []
    if len(products) > MAX_ITEMS:
        notes.append(f"properties.products: only the first {MAX_ITEMS} sent (GA4's item limit)")
    items = []
    for index, product in enumerate(products[:MAX_ITEMS]):
        if not isinstance(product, Mapping):
            notes.append(f"properties.products[{index}]: left out: not an object")
            continue
        item: dict[str, Any] = {}
        for source, target in ITEM_FIELDS.items():
            if target not in item and product.get(source) is not None:
                value = _value(f"properties.products[{index}].{source}", product[source], notes)
                if value is not None:
                    item[target] = value
        if "item_id" in item or "item_name" in item:
            items.append(item)
        else:
            notes.append(f"properties.products[{index}]: left out: GA4 needs item_id or item_name")
    return items


def event_params(
    properties: Mapping[str, Any], notes: list[str], *, prefix: str = "properties"
) -> dict[str, Any]:
    """GA4 parameters from a call's properties, under GA4's name, value and count rules."""
    params: dict[str, Any] = {}
    dropped: list[str] = []
    for key, raw in properties.items():
        field = f"{prefix}.{key}"
        if key == "products":
            items = _items(raw, notes)
            if items:
                params["items"] = items
            continue
        name = RENAMED.get(key) or ga4_name(key)
        if not name or _reserved(key) or _reserved(name):
            notes.append(
                f"{field}: left out: not a legal GA4 parameter name ({_NAME_RULE}, "
                "no reserved prefix)"
            )
            continue
        if name in params:
            notes.append(f"{field}: left out: another property is already sent as {name!r}")
            continue
        value = _value(field, raw, notes)
        if value is None:
            continue
        if len(params) >= MAX_PARAMS:
            dropped.append(key)
            continue
        if name != key and key not in RENAMED:
            notes.append(f"{field}: sent as {name!r} (GA4 names: {_NAME_RULE})")
        params[name] = value
    if dropped:
        notes.append(
            f"{prefix}: {len(dropped)} left out over GA4's {MAX_PARAMS} parameters an event: "
            + ", ".join(dropped)
        )
    return params
