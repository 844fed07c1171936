"""Mixpanel's actions beyond track and identify: page/screen views as imported events, group
calls as group profiles (``/groups``) plus the group key on the user's profile, alias calls as
the ID-merge event the project's merge API takes, and orders appending ``$transactions``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from connectors.mixpanel._api import (
    ENVELOPE_BYTES,
    MAX_EVENTS,
    MAX_REQUEST_BYTES,
    MixpanelSettings,
    engage,
    import_events,
)
from connectors.mixpanel._event import (
    EventFields,
    Identity,
    ImportAction,
    MixpanelEvent,
    event_of,
    identity_of,
)
from sdk import (
    Action,
    Alias,
    AnyMessage,
    BatchLimits,
    BatchResult,
    Context,
    Group,
    Page,
    Screen,
    Subscription,
    Track,
)
from sdk.mapping import LooseNumber, first_of, if_equals, literal, mapped, merge, obj, template

__all__ = ["ORDER_EVENTS", "AliasEvent", "GroupProfile", "OrderEvent", "ViewedPage"]

#: Track events that append a ``$transactions`` entry to the user's profile.
ORDER_EVENTS = ("Order Completed", "Product Purchased")


class PageFields(EventFields):
    """The fields of a page or screen view event."""

    name: str = mapped(
        if_equals(
            "$.type",
            "page",
            first_of(template("Viewed {{name}} Page"), literal("Loaded a Page")),
            first_of(template("Viewed {{name}} Screen"), literal("Loaded a Screen")),
        ),
        description="Viewed <name> Page/Screen; Loaded a Page/Screen without a name.",
    )
    properties: dict[str, Any] = mapped(
        merge("$.context.page", obj({"name": "$.name", "category": "$.category"}), "$.properties"),
        default_factory=dict,
        description="context.page (url, path, title, referrer, search), name, category and "
        "the call's properties.",
    )


class ViewedPage(ImportAction):
    """A page or screen call imported as a Mixpanel event (``Viewed Home Page``)."""

    name = "viewed_page"
    description = "Import a page or screen call as a 'Viewed <name> Page/Screen' event."
    subscribe = Subscription.of("page", "screen")
    fields = PageFields

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> MixpanelEvent:
        assert isinstance(event, (Page, Screen))
        fields: PageFields = self.resolve(event)
        return event_of(fields, fields.name, dict(fields.properties))


class AliasFields(EventFields):
    """The fields of an alias call's merge event."""

    previous_id: str = mapped("$.previousId", required=True, description="The id merged in.")


class AliasEvent(ImportAction):
    """An alias call as the ID-merge event of the project's merge API: ``$identify`` with
    ``$user_id`` and ``$device_id`` (simplified), or ``$merge`` of both ids (original)."""

    name = "merge_identities"
    description = (
        "Merge previousId into userId: a $identify event with $user_id/$device_id (simplified "
        "ID merge) or a $merge event (original ID merge), via POST /import."
    )
    subscribe = Subscription.of("alias")
    fields = AliasFields

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> MixpanelEvent:
        assert isinstance(event, Alias) and event.user_id
        fields: AliasFields = self.resolve(event)
        if settings.id_merge == "original":
            # Identity API, Merge Identities: {"$distinct_ids": [id1, id2]} via /import only.
            merged = event_of(
                fields, "$merge", {"$distinct_ids": [event.user_id, fields.previous_id]}
            )
            for key in ("$user_id", "$device_id"):
                merged.event["properties"].pop(key, None)
            return merged
        # Simplified ID merge links the ids when one event carries both $user_id and $device_id.
        identified = fields.model_copy(update={"anonymous_id": fields.previous_id})
        return event_of(identified, "$identify", {"$anon_distinct_id": fields.previous_id})


@dataclass(frozen=True, slots=True)
class GroupUpdate:
    """A group call's group-profile update (``None`` without traits) and user-profile update."""

    group: dict[str, Any] | None
    profile: dict[str, Any]


class GroupFields(Identity):
    """The fields of a group call."""

    group_id: str = mapped("$.groupId", required=True, description="$group_id.")
    traits: dict[str, Any] = mapped(
        "$.traits", default_factory=dict, description="The group profile's $set."
    )


class GroupProfile(Action[MixpanelSettings, GroupUpdate]):
    """A group call: ``$set`` the traits on the group's profile (``POST /groups``) and add the
    groupId to the user's profile under the group key (``/engage`` ``$union``)."""

    name = "group_profile"
    description = (
        "Set the group profile's properties (POST /groups $set) and add the group to the "
        "user's profile under the group key (POST /engage $union)."
    )
    subscribe = Subscription.of("group")
    fields = GroupFields

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> GroupUpdate:
        assert isinstance(event, Group)
        fields: GroupFields = self.resolve(event)
        distinct_id, _user_id, _anonymous_id = identity_of(fields)
        token = settings.project_token.get_secret_value()
        group = None
        if fields.traits:
            group = {
                "$token": token,
                "$group_key": settings.group_key,
                "$group_id": fields.group_id,
                "$set": fields.traits,
            }
        profile = {
            "$token": token,
            "$distinct_id": distinct_id,
            "$union": {settings.group_key: [fields.group_id]},
        }
        return GroupUpdate(group, profile)

    def payload_record(self, payload: GroupUpdate) -> Any:
        record: dict[str, Any] = {"engage": [payload.profile]}
        if payload.group is not None:
            record["groups"] = [payload.group]
        return record

    async def perform(self, ctx: Context[MixpanelSettings], payload: GroupUpdate) -> None:
        errors = await engage(ctx, [payload.profile], operation="$union")
        if 0 in errors:
            raise errors[0]
        if payload.group is not None:
            errors = await engage(ctx, [payload.group], path="/groups")
            if 0 in errors:
                raise errors[0]


class OrderFields(EventFields):
    """The fields of an ``Order Completed`` / ``Product Purchased`` call."""

    event: str = mapped("$.event", required=True, description="The event name.")
    properties: dict[str, Any] = mapped("$.properties", default_factory=dict)
    amount: LooseNumber = mapped(
        first_of("$.properties.revenue", "$.properties.total", "$.properties.value"),
        description="$transactions $amount (revenue, else total, else value).",
    )


@dataclass(frozen=True, slots=True)
class OrderPayload:
    """An order's imported event and its ``$transactions`` append (``None`` without amount)."""

    event: dict[str, Any]
    transaction: dict[str, Any] | None
    notes: tuple[str, ...] = ()


class OrderEvent(Action[MixpanelSettings, OrderPayload]):
    """An order imported as its event, and a ``$transactions`` entry appended to the user's
    profile (``/engage`` ``$append``: ``{"$time", "$amount"}``) for Mixpanel's revenue."""

    name = "order_event"
    description = (
        "Import Order Completed / Product Purchased and append {$time, $amount} to the "
        "profile's $transactions (POST /engage $append)."
    )
    subscribe = Subscription.of("track", events=list(ORDER_EVENTS))
    fields = OrderFields
    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> OrderPayload:
        assert isinstance(event, Track)
        fields: OrderFields = self.resolve(event)
        mapped_event = event_of(fields, fields.event, dict(fields.properties))
        imported, notes = mapped_event.event, mapped_event.notes
        amount = fields.amount
        if amount is None and fields.event == "Product Purchased":
            price, quantity = fields.properties.get("price"), fields.properties.get("quantity", 1)
            if isinstance(price, (int, float)) and isinstance(quantity, (int, float)):
                amount = price * quantity
        if amount is None:
            note = "properties.revenue: none (nor total, value): no $transactions entry appended"
            return OrderPayload(imported, None, (*notes, note))
        moment = fields.time if fields.time.tzinfo else fields.time.replace(tzinfo=UTC)
        transaction = {
            "$token": settings.project_token.get_secret_value(),
            "$distinct_id": imported["properties"]["distinct_id"],
            "$append": {
                "$transactions": {
                    "$time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "$amount": amount,
                }
            },
        }
        return OrderPayload(imported, transaction, notes)

    def payload_notes(self, payload: OrderPayload) -> list[str]:
        return list(payload.notes)

    def payload_record(self, payload: OrderPayload) -> Any:
        record: dict[str, Any] = {"import": [payload.event]}
        if payload.transaction is not None:
            record["engage"] = [payload.transaction]
        return record

    async def perform(self, ctx: Context[MixpanelSettings], payload: OrderPayload) -> None:
        result = await self.perform_batch(ctx, [payload])
        for text in result.notes.get(0, []):
            ctx.note(text)
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[OrderPayload]
    ) -> BatchResult:
        """Import the events; append the transactions of those imported. A refused append
        is noted (the order's event is in Mixpanel)."""
        result = BatchResult(len(payloads))
        errors = await import_events(ctx, [payload.event for payload in payloads])
        for index, error in errors.items():
            result.fail(index, error)
        pending = [
            n for n, p in enumerate(payloads) if n not in errors and p.transaction is not None
        ]
        if pending:
            updates = [payloads[n].transaction or {} for n in pending]
            refused = await engage(ctx, updates, operation="$append")
            for position, error in refused.items():
                result.note(pending[position], f"$transactions not appended: {error}")
        return result
