"""Amplitude's actions beyond track and identify: page/screen views as ``Viewed ... Page``
events, group calls as a ``groups`` identify plus a Group Identify, alias calls through the
User Mapping API (when enabled), and orders with one revenue event per product."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.amplitude._api import (
    ENVELOPE_BYTES,
    MAX_EVENTS,
    MAX_REQUEST_BYTES,
    AmplitudeSettings,
    limits,
    upload_batch,
    upload_one,
)
from connectors.amplitude._event import AmplitudeAction, AmplitudeEvent, EventFields, base_event
from sdk import (
    Action,
    Alias,
    AnyMessage,
    BatchLimits,
    BatchResult,
    Context,
    Group,
    IntegrationError,
    InvalidAuthentication,
    Page,
    Screen,
    SkipEvent,
    Subscription,
    Track,
    classify_status,
)
from sdk.mapping import (
    LooseNumber,
    LooseText,
    each,
    first_of,
    if_equals,
    literal,
    mapped,
    merge,
    obj,
    template,
)

__all__ = ["ORDER_EVENTS", "GroupUser", "MapUser", "OrderEvents", "ViewedPage"]

#: Track events whose products become one revenue event each.
ORDER_EVENTS = ("Order Completed", "Product Purchased")
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

    event_type: str = mapped(
        if_equals(
            "$.type",
            "page",
            first_of(template("Viewed {{name}} Page"), literal("Loaded a Page")),
            first_of(template("Viewed {{name}} Screen"), literal("Loaded a Screen")),
        ),
        description="Viewed <name> Page/Screen; Loaded a Page/Screen without a name.",
    )
    event_properties: dict[str, Any] = mapped(
        merge("$.context.page", obj({"name": "$.name", "category": "$.category"}), "$.properties"),
        default_factory=dict,
        description="context.page (url, path, title, referrer, search), name, category and "
        "the call's properties.",
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


@dataclass(slots=True)
class OrderPayload:
    """An order's event and one revenue event per product."""

    events: list[dict[str, Any]]
    dropped: dict[str, str] = field(default_factory=dict)


class OrderFields(EventFields):
    """The fields of an ``Order Completed`` / ``Product Purchased`` call."""

    event_type: str = mapped("$.event", required=True, description="The event name.")
    event_properties: dict[str, Any] = mapped("$.properties", default_factory=dict)
    revenue: LooseNumber = mapped("$.properties.revenue")
    revenue_type: LooseText = mapped(
        first_of("$.properties.revenueType", "$.properties.revenue_type"),
        description="revenueType of each product's event (Purchase when absent).",
    )
    products: list[dict[str, Any]] = mapped(
        each("$.properties.products", {"product": "@"}),
        default_factory=list,
        description="One revenue event (price, quantity, productId, revenueType) a product.",
    )


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


class OrderEvents(Action[AmplitudeSettings, OrderPayload]):
    """An order: its own event (no revenue of its own when its products carry it), and one
    ``Product Purchased`` event a product with ``price``, ``quantity``, ``productId`` and
    ``revenueType``, so Amplitude counts revenue per product."""

    name = "order_events"
    description = (
        "Send Order Completed / Product Purchased as the order's event plus one revenue event "
        "(price, quantity, productId, revenueType) per product."
    )
    subscribe = Subscription.of("track", events=list(ORDER_EVENTS))
    fields = OrderFields

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> OrderPayload:
        assert isinstance(event, Track)
        fields: OrderFields = self.resolve(event)
        order = base_event(fields, settings)
        revenue_type = fields.revenue_type or "Purchase"
        order.event["event_type"] = fields.event_type
        order.event["event_properties"] = fields.event_properties
        products = [item["product"] for item in fields.products if isinstance(item, dict)]
        products = [p for p in products if isinstance(p, Mapping)]
        if not products and fields.event_type == "Product Purchased":
            # The call is one product's purchase: its own event carries the revenue fields.
            order.event.update(_revenue(fields.event_properties, revenue_type))
            return OrderPayload([order.event], order.dropped)
        events: list[dict[str, Any]] = []
        for number, product in enumerate(products):
            revenue = _revenue(product, revenue_type)
            if "price" not in revenue:
                order.dropped[f"product {number}"] = (
                    f"properties.products[{number}]: no numeric price: no revenue event"
                )
                continue
            events.append(
                {
                    **order.event,
                    "insert_id": f"{fields.insert_id}-{number}",
                    "event_type": "Product Purchased",
                    "event_properties": dict(product),
                    **revenue,
                }
            )
        if not events:  # the order's own revenue keys, as a plain track call has them
            props = fields.event_properties
            keys = {
                "revenue": fields.revenue,
                "price": _number(props.get("price")),
                "quantity": _number(props.get("quantity")),
                "productId": first_of_value(props, "productId", "product_id"),
                "revenueType": fields.revenue_type,
            }
            order.event.update({k: v for k, v in keys.items() if v is not None})
        return OrderPayload([order.event, *events], order.dropped)

    def payload_notes(self, payload: OrderPayload) -> list[str]:
        return list(payload.dropped.values())

    def payload_record(self, payload: OrderPayload) -> Any:
        record: dict[str, Any] = {"events": payload.events}
        if payload.dropped:
            record["dropped"] = payload.dropped
        return record

    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def batch_limits(self, settings: AmplitudeSettings) -> BatchLimits | None:
        return limits(settings)

    async def perform(self, ctx: Context[AmplitudeSettings], payload: OrderPayload) -> None:
        if len(payload.events) == 1:
            await upload_one(ctx, payload.events[0])  # a 413 for it alone: PayloadTooLarge
            return
        result = await self.perform_batch(ctx, [payload])
        for text in result.notes.get(0, []):
            ctx.note(text)
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[AmplitudeSettings], payloads: Sequence[OrderPayload]
    ) -> BatchResult:
        """Every order's events, in requests of at most ``events_per_request``; an order
        fails when its own event fails, and notes a revenue event that did."""
        owners = [(n, i) for n, p in enumerate(payloads) for i in range(len(p.events))]
        events = [p.events[i] for p in payloads for i in range(len(p.events))]
        size = ctx.settings.events_per_request
        result = BatchResult(len(payloads))
        for start in range(0, len(events), size):
            chunk = await upload_batch(ctx, events[start : start + size])
            for index, error in sorted((chunk.errors if chunk else {}).items()):
                number, position = owners[start + index]
                if position == 0:
                    result.fail(number, error)  # the order's own event did not go through
                else:
                    name = payloads[number].events[position]["event_type"]
                    result.note(number, f"revenue event {position} ({name}): {error}")
        return result


def first_of_value(values: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` with a value in ``values`` (``None`` when none has)."""
    return next((values[name] for name in names if values.get(name) is not None), None)
