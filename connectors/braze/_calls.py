"""Braze's actions beyond identify and track: page/screen views as custom events, group
membership as a custom attribute, alias merges through ``/users/identify`` or
``/users/alias/new``; and what every ``/users/track`` action shares (who the object is about,
the record, the notes, the sending). See the package docstring."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from connectors.braze._api import BrazeSettings, post
from connectors.braze._attributes import check_names, iso
from connectors.braze._track import MAX_OBJECTS, BrazeObject, track
from sdk import (
    Action,
    Alias,
    AnyMessage,
    BatchLimits,
    BatchResult,
    Context,
    Group,
    InvalidEvent,
    Page,
    PayloadValidationError,
    Screen,
    Subscription,
)
from sdk.mapping import (
    VIEW_NAME,
    VIEW_NAME_DOC,
    VIEW_PROPERTIES,
    VIEW_PROPERTIES_DOC,
    mapped,
)

__all__ = [
    "GROUP_ATTRIBUTE_PREFIX",
    "AliasUser",
    "BrazeTrackAction",
    "BrazeTrackSettings",
    "GroupUser",
    "ViewedPage",
    "identity_of",
    "purchases_of",
]

#: Braze's Segment integration records ``group`` as this attribute + groupId, set to true.
GROUP_ATTRIBUTE_PREFIX = "ab_segment_group_"
#: Purchases one order may carry: with its event, within the 75 objects of one request.
MAX_PURCHASES = MAX_OBJECTS - 1


class BrazeTrackSettings(BrazeSettings):
    """Settings of the Braze destination."""

    app_id: str | None = Field(
        default=None,
        description="Optional app identifier (Settings > APIs and Identifiers) added to events "
        "and purchases.",
    )
    alias_merge: Literal["identify", "alias_new"] = Field(
        default="identify",
        description="alias calls: identify merges the previousId's alias-only profile into the "
        "userId's (POST /users/identify); alias_new adds previousId as an alias of the userId's "
        "profile (POST /users/alias/new).",
    )


class BrazeWho(BaseModel):
    """Who a ``/users/track`` object is about: ``external_id``, else a user alias."""

    external_id: str | None = mapped("$.userId", description="The Braze external_id.")
    alias_name: str | None = mapped(
        "$.anonymousId", description="A user alias (with alias_label) when there is no userId."
    )


def identity_of(fields: BrazeWho, settings: BrazeSettings) -> dict[str, Any]:
    """``{"external_id"}``, else ``{"user_alias": {"alias_name", "alias_label"}}``."""
    if fields.external_id:
        return {"external_id": fields.external_id}
    if not fields.alias_name:  # parsing guarantees one with the default mappings
        raise InvalidEvent("external_id", "Braze needs external_id or alias_name")
    return {"user_alias": {"alias_name": fields.alias_name, "alias_label": settings.alias_label}}


def purchases_of(
    products: Sequence[Mapping[str, Any]],
    currency: Any,
    base: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Braze purchase objects for an order's products (``base`` holds who, ``time`` and
    ``app_id``), and a note for each product left out (never its values)."""
    purchases: list[dict[str, Any]] = []
    notes: list[str] = []
    if currency is not None and not (isinstance(currency, str) and _CURRENCY.match(currency)):
        # Priced in an unknown currency: sending them in USD would record wrong revenue.
        return [], ["properties.currency: not an ISO 4217 code: no Braze purchases sent"]
    code = (currency or "USD").upper()  # Segment's spec: currency defaults to USD
    for number, product in enumerate(products):
        where = f"properties.products[{number}]"
        product_id, price = product.get("product_id"), product.get("price")
        if not isinstance(product_id, (str, int)) or isinstance(product_id, bool):
            notes.append(f"{where}: no product_id (or sku): not sent as a Braze purchase")
            continue
        if not isinstance(price, (int, float)) or isinstance(price, bool):
            notes.append(f"{where}: no numeric price: not sent as a Braze purchase")
            continue
        if len(purchases) == MAX_PURCHASES:
            notes.append(
                f"{where} and later: over {MAX_PURCHASES} purchases per order (Braze takes 75 "
                "objects per request, the order's event included): not sent"
            )
            break
        purchase = {**base, "product_id": str(product_id), "currency": code, "price": price}
        quantity = product.get("quantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
            purchase["quantity"] = quantity
        properties = {k: v for k, v in product.items() if k not in _PURCHASE_KEYS}
        if properties:
            purchase["properties"] = properties
        purchases.append(purchase)
    return purchases, notes


_PURCHASE_KEYS = frozenset({"product_id", "price", "quantity", "currency"})
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class BrazeTrackAction(Action[BrazeTrackSettings, BrazeObject]):
    """What every ``/users/track`` action shares: the record, the notes, the sending."""

    # Objects share requests, so the limit counts them all (orders' purchases too).
    batch = BatchLimits(max_events=MAX_OBJECTS)

    def payload_notes(self, payload: BrazeObject) -> list[str]:
        notes = [f"trait {name}: {why}" for name, why in payload.dropped.items()]
        return notes + list(payload.notes)

    def payload_record(self, payload: BrazeObject) -> Any:
        record: dict[str, Any] = {payload.array: payload.body}
        if payload.purchases:
            record["purchases"] = list(payload.purchases)
        if payload.dropped:
            record["dropped"] = payload.dropped
        return record if len(record) > 1 else {payload.array: payload.body}

    async def perform(self, ctx: Context[BrazeTrackSettings], payload: BrazeObject) -> None:
        result = await track(ctx, [payload])
        for text in result.notes.get(0, []):
            ctx.note(text)
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[BrazeTrackSettings], payloads: Sequence[BrazeObject]
    ) -> BatchResult:
        return await track(ctx, payloads)


class PageFields(BrazeWho):
    """The fields of a page or screen view's custom event."""

    name: str = mapped(VIEW_NAME, description=VIEW_NAME_DOC)
    time: datetime = mapped("$.timestamp", required=True, description="Sent as ISO 8601.")
    properties: dict[str, Any] = mapped(
        VIEW_PROPERTIES, default_factory=dict, description=VIEW_PROPERTIES_DOC
    )


class ViewedPage(BrazeTrackAction):
    """A page or screen call as a Braze custom event (``Viewed Home Page``)."""

    name = "viewed_page"
    description = "Record a page or screen view as a Braze custom event (POST /users/track)."
    subscribe = Subscription.of("page", "screen")
    fields = PageFields

    def map(self, event: AnyMessage, settings: BrazeTrackSettings) -> BrazeObject:
        assert isinstance(event, (Page, Screen))
        fields: PageFields = self.resolve(event)
        check_names(fields.properties, "properties", "event property")
        body = {**identity_of(fields, settings), "name": fields.name, "time": iso(fields.time)}
        if settings.app_id:
            body["app_id"] = settings.app_id
        if fields.properties:
            body["properties"] = fields.properties
        return BrazeObject("events", body)


class GroupFields(BrazeWho):
    """The fields of a group call's attribute."""

    group_id: str = mapped("$.groupId", required=True, description="Names the attribute.")


class GroupUser(BrazeTrackAction):
    """A group call as the custom attribute ``ab_segment_group_<groupId>: true``. Group traits
    describe the group, and a Braze profile is a user's: they are left out, with a note."""

    name = "group_user"
    description = "Record group membership as the attribute ab_segment_group_<groupId>: true."
    subscribe = Subscription.of("group")
    fields = GroupFields

    def map(self, event: AnyMessage, settings: BrazeTrackSettings) -> BrazeObject:
        assert isinstance(event, Group)
        fields: GroupFields = self.resolve(event)
        attribute = GROUP_ATTRIBUTE_PREFIX + fields.group_id
        check_names({attribute: True}, "groupId", "attribute")
        identity = identity_of(fields, settings)
        body: dict[str, Any] = {**identity, attribute: True}
        if "user_alias" in identity:
            body["_update_existing_only"] = False
        notes = []
        if event.traits:
            notes.append(
                f"traits ({', '.join(sorted(event.traits)[:5])}): group traits describe the "
                "group and Braze has no group object: left out"
            )
        return BrazeObject("attributes", body, notes=tuple(notes))


class AliasUser(Action[BrazeTrackSettings, tuple[str, dict[str, Any]]]):
    """An alias call: the previousId's alias-only profile merged into the userId's
    (``/users/identify``), or previousId added as an alias of it (``/users/alias/new``)."""

    name = "alias_user"
    description = (
        "Merge previousId into userId: POST /users/identify (alias_merge identify) or "
        "/users/alias/new (alias_merge alias_new)."
    )
    subscribe = Subscription.of("alias")

    def map(self, event: AnyMessage, settings: BrazeTrackSettings) -> tuple[str, dict[str, Any]]:
        assert isinstance(event, Alias) and event.user_id
        alias = {"alias_name": event.previous_id, "alias_label": settings.alias_label}
        if settings.alias_merge == "alias_new":
            entry = {"external_id": event.user_id, **alias}
            return "/users/alias/new", {"user_aliases": [entry]}
        identify = {"external_id": event.user_id, "user_alias": alias}
        return "/users/identify", {"aliases_to_identify": [identify]}

    def payload_record(self, payload: tuple[str, dict[str, Any]]) -> Any:
        return {"path": payload[0], "body": payload[1]}

    async def perform(
        self, ctx: Context[BrazeTrackSettings], payload: tuple[str, dict[str, Any]]
    ) -> None:
        response = await post(ctx, payload[0], payload[1])
        data = response.data if isinstance(response.data, Mapping) else {}
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            kind = first.get("type", first) if isinstance(first, Mapping) else first
            text = ctx.redactor.text(" ".join(str(kind).split()))[:200]
            raise PayloadValidationError(
                f"Braze refused the alias ({payload[0]}): {text}", status=response.status_code
            )
