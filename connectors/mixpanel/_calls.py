"""Mixpanel's actions beyond track and identify: page/screen views as imported events, group
calls as group profiles (``/groups``) plus the group key on the user's profile, alias calls as
the ID-merge event the project's merge API takes, and orders appending ``$transactions``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from connectors.mixpanel._api import (
    MixpanelSettings,
    engage,
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
    Context,
    Group,
    Page,
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

__all__ = ["AliasEvent", "GroupProfile", "ViewedPage", "transaction_of"]

#: Track events that append a ``$transactions`` entry to the user's profile.


class PageFields(EventFields):
    """The fields of a page or screen view event."""

    name: str = mapped(VIEW_NAME, description=VIEW_NAME_DOC)
    properties: dict[str, Any] = mapped(
        VIEW_PROPERTIES, default_factory=dict, description=VIEW_PROPERTIES_DOC
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


def transaction_of(
    mapped_event: MixpanelEvent,
    settings: MixpanelSettings,
    amount: float | None,
    moment: datetime,
) -> MixpanelEvent:
    """The order's event with its ``$transactions`` append (``/engage`` ``$append``:
    ``{"$time", "$amount"}``) for Mixpanel's revenue; without an amount, a note instead.
    ``amount``: revenue, else total, else value; a ``Product Purchased`` without them,
    price x quantity."""
    properties = mapped_event.event["properties"]
    if amount is None and mapped_event.event["event"] == "Product Purchased":
        price, quantity = properties.get("price"), properties.get("quantity", 1)
        if _is_number(price) and _is_number(quantity):
            amount = price * quantity
    if amount is None:
        note = "properties.revenue: none (nor total, value): no $transactions entry appended"
        return replace(mapped_event, notes=(*mapped_event.notes, note))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    transaction = {
        "$token": settings.project_token.get_secret_value(),
        "$distinct_id": properties["distinct_id"],
        "$append": {
            "$transactions": {
                "$time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "$amount": amount,
            }
        },
    }
    return replace(mapped_event, transaction=transaction)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
