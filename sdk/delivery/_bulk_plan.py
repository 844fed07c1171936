"""A bulk list sync's shared decisions (:class:`ListPlan`, from the audience's template event,
validated and routed through the normal path)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sdk.connector._destination import BatchLimits
from sdk.connector._lists import ListAction, ListTarget, location_country
from sdk.delivery._engine import Engine
from sdk.engage._personas import reading_membership_once
from sdk.routing._integrations import route
from sdk.spec._messages import MAX_MESSAGE_BYTES, Identify, message_to_json, parse_message

__all__ = ["ListPlan", "list_plan"]

#: Re-serialised, a JSON value grows at most this many times (``1e15`` is written
#: ``1000000000000000.0``); a line within ``limit / _GROWTH`` bytes cannot make a message
#: over Segment's limit.
_GROWTH = 8


@dataclass(frozen=True, slots=True)
class ListPlan:
    """What every user of a list sync shares, decided once from its template."""

    action: ListAction[Any, Any]
    target: ListTarget
    routing: dict[str, Any]
    limits: BatchLimits
    roots: tuple[Any, ...]
    context: Mapping[str, Any]
    country: str | None
    budget: int
    action_name: str
    settings: Any
    #: The fast path's batch (its users share one list and operation).
    batch: Hashable
    #: The action words its own notes (not only the identifiers left out): always asked.
    own_notes: bool


def list_plan(engine: Engine[Any], template: Mapping[str, Any]) -> ListPlan | None:
    """What every user of a list sync shares, decided once from ``template``; ``None`` when
    each user must be prepared in full (the template is filtered or refused, or its action is
    not a plain list action)."""
    destination = engine.destination
    message = parse_message(template)
    if not isinstance(message, Identify):
        return None
    with reading_membership_once(message):
        decision = route(message.integrations, destination.name)
        if not decision.delivered:
            return None
        action = destination.action_for(message)
        if not isinstance(action, ListAction) or action.condition is not None:
            return None
        try:
            target = action.target(message, engine.settings)
            limits = action.batch_limits(engine.settings) if engine.batching else None
        except Exception:  # each user is refused as the per-event path says
            return None
    if limits is None or (limits.max_bytes is not None and limits.max_bytes < 2):
        return None
    extra = message.model_extra or {}
    context = message.context
    roots = (extra.get("properties"), context.get("traits"))
    # The template's own bytes (a placeholder user), and room for the ids and timestamp.
    shared = len(message_to_json(message)) + 256
    budget = max((MAX_MESSAGE_BYTES - shared) // _GROWTH, 0)
    return ListPlan(
        action=action,
        target=target,
        routing=decision.to_dict(),
        limits=limits,
        roots=roots,
        context=context,
        country=location_country(context),
        budget=budget,
        action_name=action.name,
        settings=engine.settings,
        batch=("fast", target.list_id, target.operation),
        own_notes=type(action).payload_notes is not ListAction.payload_notes,
    )
