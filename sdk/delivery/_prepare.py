"""Preparing one event: validate, route, apply the journey rules and map it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sdk._errors import (
    DeliveryError,
    InputError,
    InvalidEvent,
    ListRemovalRefused,
    PayloadTooLarge,
    SkipEvent,
)
from sdk.connector._destination import Action, AnyMessage
from sdk.delivery._engine import MESSAGE_CLASSES, Engine, SettingsT, crashed
from sdk.delivery._results import Item, event_message_id
from sdk.engage._personas import (
    begin_reading_membership_once,
    end_reading_membership_once,
    membership_of,
)
from sdk.mapping._fields import MAPPING_NOTES
from sdk.routing._integrations import RoutingDecision, route
from sdk.spec._messages import Track, checked_wire, message_to_json, parse_message_json

__all__ = ["default_routing", "prepare"]

#: The JSON form of each routing decision that delivers (a handful per destination name),
#: shared by the items that keep it for a late record; never changed (the record copies it).
_ROUTINGS: dict[RoutingDecision, dict[str, Any]] = {}
#: The same, by destination name, for an event without an integrations object (most).
_DEFAULT_ROUTINGS: dict[str, dict[str, Any]] = {}


def default_routing(name: str) -> dict[str, Any]:
    """The JSON form of the routing decision for an event without an integrations object, for
    the destination ``name``: the one dict :func:`prepare` shares among such events."""
    routing = _DEFAULT_ROUTINGS.get(name)
    if routing is None:
        decision = route(None, name)
        routing = _ROUTINGS.get(decision)
        if routing is None:
            routing = _ROUTINGS[decision] = decision.to_dict()
        _DEFAULT_ROUTINGS[name] = routing
    return routing


def prepare(
    engine: Engine[SettingsT], item: Item, message: AnyMessage | None = None
) -> Action[SettingsT, Any] | None:
    """Validate, route, apply the journey rules and map ``item``'s event. Returns the action
    that takes it, its payload and notes set on the item (the payload is recorded in the
    lifecycle by the caller, redacted); ``None`` when the event settled here (refused or
    filtered, its outcome set). ``message``: the event (a mapping) already validated, by
    ``validate_raw`` (the fused path's first step), so it is not validated again."""
    event = item.event
    try:
        if message is not None:  # validated from the mapping ``event``: its wire checked here
            wire = checked_wire(message, event)  # type: ignore[arg-type]
        elif isinstance(event, (dict, Mapping)):
            # validated, and refused over 32 KB: its wire JSON was written for that check
            message, wire = parse_message_json(event)
        elif isinstance(event, MESSAGE_CLASSES):
            message = event
            wire = message_to_json(message)  # a message built in Python: size checked here
        else:  # a JSON array, a string...: one line, not a crash
            raise InvalidEvent("message", "must be a JSON object")
    except (InvalidEvent, PayloadTooLarge) as exc:
        item.message_id = event_message_id(event)
        engine._refuse(item, exc)
        return None
    item.message_id = message.message_id
    if not message.context.get("personas"):  # not from Engage: no membership to read
        return _route_and_map(engine, item, message, wire, engage=False)
    # Subscriptions, the journey rule and a list connector's map all ask for the membership:
    # it is read once.
    token = begin_reading_membership_once(message)
    try:
        return _route_and_map(engine, item, message, wire, engage=True)
    finally:
        end_reading_membership_once(token)


def _route_and_map(
    engine: Engine[SettingsT], item: Item, message: AnyMessage, wire: bytes, *, engage: bool
) -> Action[SettingsT, Any] | None:
    destination = engine.destination
    lifecycle = item.lifecycle
    routing: dict[str, Any] | None = None
    if lifecycle is None and not message.integrations:  # most: the default decision's dict
        routing = _DEFAULT_ROUTINGS.get(destination.name)
    if routing is None:
        decision = route(message.integrations, destination.name)
        if not decision.delivered:
            engine._filter(item, decision.to_dict())
            return None
        if lifecycle is not None:
            lifecycle.routing = decision.to_dict()
        else:  # kept for a record built later (which copies it): one dict per decision
            routing = _ROUTINGS.get(decision)
            if routing is None:
                routing = _ROUTINGS[decision] = decision.to_dict()
                if not message.integrations:
                    _DEFAULT_ROUTINGS[destination.name] = routing
    by_type = engine._actions_by_type
    action = by_type.get(message.type) if by_type is not None else destination.action_for(message)
    if action is None:
        what = message.type + (f' "{message.event}"' if isinstance(message, Track) else "")
        engine._filter_at_destination(item, f"no action of {destination.name} subscribes to {what}")
        return None
    item.action = action.name
    if lifecycle is not None:
        item.routing = lifecycle.routing
        lifecycle.action = action.name
    else:
        item.routing = routing
    try:
        # Journey steps are add-only for every kind of destination: a journey never sends
        # Audience Exited (nor KEY: false), so one that arrives is refused, never sent.
        membership = membership_of(message) if engage else None
        if membership is not None and membership.is_journey and not membership.member:
            raise ListRemovalRefused(
                f"{membership.key} is a journey step: journeys are add-only, "
                "so a removal or exit is never sent"
            )
        if action.fields is None:
            payload = action.map_wire(message, wire, engine.settings)
            dropped: list[str] | None = None
        else:  # values its loose fields leave out become notes (never dropped silently)
            dropped = []
            token = MAPPING_NOTES.set(dropped)
            try:
                payload = action.map_wire(message, wire, engine.settings)
            finally:
                MAPPING_NOTES.reset(token)
    except SkipEvent as exc:
        engine._filter_at_destination(item, f"{action.name}: {exc.message}")
        return None
    except (InputError, DeliveryError) as exc:
        engine._refuse(item, exc)
        return None
    except Exception as exc:  # a connector bug must not lose the rest of the batch
        engine._refuse(item, crashed(f"{action.name}.map", exc))
        return None
    try:
        texts = action.payload_notes(payload)
        # Mostly the default () and no field dropped: no list is made then.
        notes = [str(text) for text in texts] if texts else None
        if dropped:
            notes = dropped + notes if notes else dropped
    except Exception as exc:  # a connector bug must not lose the rest of the batch
        engine._refuse(item, crashed(f"{action.name}.payload_notes", exc))
        return None
    item.payload = payload
    if notes:
        if lifecycle is None:
            engine._note(item, notes)
        else:
            item.notes = notes  # recorded with the payload, after it
    return action
