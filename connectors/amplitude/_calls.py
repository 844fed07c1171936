"""Amplitude's actions beyond track and identify: page/screen views as ``Viewed ... Page``
events, group calls as a ``groups`` identify plus a Group Identify, alias calls through the
User Mapping API (when enabled), and orders with one revenue event per product."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.amplitude._api import (
    AmplitudeSettings,
    upload_batch,
)
from connectors.amplitude._event import AmplitudeAction, AmplitudeEvent, EventFields, base_event
from sdk import (
    Action,
    Alias,
    AnyMessage,
    Context,
    Group,
    IntegrationError,
    InvalidAuthentication,
    Page,
    Screen,
    SkipEvent,
    Subscription,
    classify_status,
)
from sdk.mapping import (
    VIEW_NAME,
    VIEW_NAME_DOC,
    VIEW_PROPERTIES,
    VIEW_PROPERTIES_DOC,
    mapped,
)

__all__ = ["GroupUser", "MapUser", "ViewedPage", "order_events"]

#: Track events whose products become one revenue event each.
#: Amplitude's User Mapping API lives on api.amplitude.com, not the HTTP V2 host.
USERMAP_URLS = {
    "us": "https://api.amplitude.com/usermap",
    "eu": "https://api.eu.amplitude.com/usermap",
}
NO_USERMAP = (
    "Amplitude links a user's devices by user_id itself; mapping one user_id to another needs "
    "the User Mapping API (Portfolio): set usermap to send alias calls"
)


class PageFields(EventFields):
    """The fields of a page or screen view event."""

    event_type: str = mapped(VIEW_NAME, description=VIEW_NAME_DOC)
    event_properties: dict[str, Any] = mapped(
        VIEW_PROPERTIES, default_factory=dict, description=VIEW_PROPERTIES_DOC
    )


class ViewedPage(AmplitudeAction):
    """A page or screen call as an Amplitude event (``Viewed Home Page``)."""

    name = "viewed_page"
    description = "Send a page or screen call as a 'Viewed <name> Page/Screen' Amplitude event."
    subscribe = Subscription.of("page", "screen")
    fields = PageFields

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
        assert isinstance(event, (Page, Screen))
        fields: PageFields = self.resolve(event)
        mapped_event = base_event(fields, settings)
        mapped_event.event["event_type"] = fields.event_type
        mapped_event.event["event_properties"] = fields.event_properties
        return mapped_event


async def _post_form(ctx: Context[AmplitudeSettings], url: str, data: dict[str, str]) -> None:
    """POST a form Amplitude answers ``200 success``; raise the taxonomy's error otherwise."""
    response = await ctx.http.post(url, data=data, raise_for_status=False)
    status = response.status_code
    if status < 300:
        return
    text = ctx.redactor.text(" ".join(str(ctx.redactor.value(response.data) or "").split()))
    if status in (400, 401) and "api key" in text.lower():
        raise InvalidAuthentication(f"HTTP {status}: {text[:200]}", status=status)
    error = classify_status(status, response.raw.reason_phrase, body=text[:300])
    raise error or IntegrationError(f"HTTP {status}: {text[:200]}", status=status)


@dataclass(slots=True)
class GroupPayload:
    """A group call's ``$identify`` event (the user's ``groups``) and its Group Identify."""

    event: dict[str, Any]
    identification: dict[str, Any] | None
    dropped: dict[str, str] = field(default_factory=dict)


class GroupFields(EventFields):
    """The fields of a group call."""

    group_value: str = mapped("$.groupId", required=True, description="The group's value.")
    group_properties: dict[str, Any] = mapped(
        "$.traits", default_factory=dict, description="Sent as the group's properties ($set)."
    )


class GroupUser(Action[AmplitudeSettings, GroupPayload]):
    """A group call: an ``$identify`` event with ``groups`` (the user joins the group), and,
    when there are traits, a Group Identify (``POST /groupidentify``) that ``$set``s them."""

    name = "group_user"
    description = (
        "Put the user in the group (an $identify event with groups) and set the group's "
        "properties (POST /groupidentify)."
    )
    subscribe = Subscription.of("group")
    fields = GroupFields

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> GroupPayload:
        assert isinstance(event, Group)
        fields: GroupFields = self.resolve(event)
        mapped_event = base_event(fields, settings)
        groups = {settings.group_type: fields.group_value}
        mapped_event.event.update(
            {"event_type": "$identify", "groups": groups, "user_properties": {"$set": groups}}
        )
        identification = None
        if fields.group_properties:
            identification = {
                "group_type": settings.group_type,
                "group_value": fields.group_value,
                "group_properties": {"$set": fields.group_properties},
            }
        return GroupPayload(mapped_event.event, identification, mapped_event.dropped)

    def payload_notes(self, payload: GroupPayload) -> list[str]:
        return list(payload.dropped.values())

    def payload_record(self, payload: GroupPayload) -> Any:
        record: dict[str, Any] = {"events": [payload.event]}
        if payload.identification is not None:
            record["identification"] = [payload.identification]
        if payload.dropped:
            record["dropped"] = payload.dropped
        return record

    async def perform(self, ctx: Context[AmplitudeSettings], payload: GroupPayload) -> None:
        result = await upload_batch(ctx, [payload.event])
        if result is not None and result.errors:
            raise result.errors[0]
        if payload.identification is not None:
            await _post_form(
                ctx,
                "/groupidentify",
                {
                    "api_key": ctx.settings.api_key.get_secret_value(),
                    "identification": json.dumps([payload.identification]),
                },
            )


class MapUser(Action[AmplitudeSettings, dict[str, str]]):
    """An alias call as a User Mapping (``POST /usermap``) when ``usermap`` is on; refused
    with the reason otherwise."""

    name = "map_user"
    description = "Map previousId to userId with Amplitude's User Mapping API (usermap setting)."
    subscribe = Subscription.of("alias")

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> dict[str, str]:
        assert isinstance(event, Alias) and event.user_id
        if not settings.usermap:
            raise SkipEvent(NO_USERMAP)
        return {"user_id": event.previous_id, "global_user_id": event.user_id}

    async def perform(self, ctx: Context[AmplitudeSettings], payload: dict[str, str]) -> None:
        settings = ctx.settings
        url = "/usermap" if settings.endpoint else USERMAP_URLS[settings.region]
        data = {
            "api_key": settings.api_key.get_secret_value(),
            "mapping": json.dumps([payload]),
        }
        await _post_form(ctx, url, data)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _revenue(product: Mapping[str, Any], revenue_type: str) -> dict[str, Any]:
    """A product's revenue keys: ``price``, ``quantity`` (1 when absent), ``productId``,
    ``revenueType``; no ``price`` when the product has no numeric one."""
    price = _number(product.get("price"))
    if price is None:
        return {}
    quantity = _number(product.get("quantity"))
    out: dict[str, Any] = {
        "price": price,
        "quantity": int(quantity) if quantity else 1,
        "revenueType": revenue_type,
    }
    product_id = first_of_value(product, "product_id", "productId", "sku", "id")
    if product_id is not None:
        out["productId"] = str(product_id)
    return out


def order_events(
    mapped_event: AmplitudeEvent,
    products: Sequence[Any],
    revenue_type: str | None,
) -> None:
    """An order's revenue per product: one ``Product Purchased`` event per priced product
    (``price``, ``quantity``, ``productId``, ``revenueType``) in ``mapped_event.extra``; the
    order's own event then carries no revenue keys (Amplitude would count it twice). A product
    without a numeric price gets no event, and a note."""
    order = mapped_event.event
    events: list[dict[str, Any]] = []
    for number, product in enumerate(products):
        if not isinstance(product, Mapping):
            continue
        revenue = _revenue(product, revenue_type or "Purchase")
        if "price" not in revenue:
            mapped_event.dropped[f"product {number}"] = (
                f"properties.products[{number}]: no numeric price: no revenue event"
            )
            continue
        events.append(
            {
                **{k: v for k, v in order.items() if k not in _REVENUE_KEYS},
                "insert_id": f"{order['insert_id']}-{number}",
                "event_type": "Product Purchased",
                "event_properties": dict(product),
                **revenue,
            }
        )
    if events:
        for key in _REVENUE_KEYS:
            order.pop(key, None)
        mapped_event.extra = events


_REVENUE_KEYS = ("revenue", "price", "quantity", "productId", "revenueType")


def first_of_value(values: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` with a value in ``values`` (``None`` when none has)."""
    return next((values[name] for name in names if values.get(name) is not None), None)
