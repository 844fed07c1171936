"""The stream's fused path, decided once per run: for each message class, whether its events
can go straight from validation to their batch (:class:`Lane`), and what they share there.

An event takes a lane when its destination's action for that class declares
:class:`~sdk.connector.WireForward` and the event is plain (see there): it is then validated
with the SDK's models, its wire JSON written once (without its empty ``integrations``
member) and checked as ``message_to_json`` checks it, routed by the default decision (an
empty integrations object delivers), and added to its action's one batch, with no ``map_wire``
call, no notes, no lifecycle. Anything else, and any event the lane cannot vouch for (invalid,
too large, NaN...), goes through the general path (:func:`prepare`), which says what it always
said. :class:`StreamRun` runs the per-event steps."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from sdk.connector._destination import Action, BatchLimits
from sdk.delivery._batching import Grouper
from sdk.delivery._engine import MESSAGE_CLASSES, Engine
from sdk.delivery._prepare import default_routing
from sdk.spec._wire import MAX_PLAIN, WITHOUT_INTEGRATIONS

__all__ = ["Lane", "lanes_of"]

_DEFAULT_NOTES = Action.payload_notes


class Lane:
    """What the fused path shares for the events of one message class."""

    __slots__ = (
        "action",
        "action_id",
        "largest",
        "max_bytes",
        "max_events",
        "name",
        "routing",
        "unless",
        "write",
    )

    def __init__(
        self,
        action: Action[Any, Any],
        write: Callable[[Any], bytes],
        routing: dict[str, Any],
        limits: BatchLimits,
        unless: frozenset[str],
    ) -> None:
        self.action = action
        #: The key of the action's one group (``StreamRun._plain``).
        self.action_id = id(action)
        self.name = action.name
        self.write = write
        self.routing = routing
        self.max_events = limits.max_events
        self.max_bytes = sys.maxsize if limits.max_bytes is None else limits.max_bytes
        #: The largest payload taken here: its wire JSON within Segment's limit
        #: (``MAX_PLAIN``), and alone in a batch (``[payload]``) within the batch's.
        self.largest = min(MAX_PLAIN, self.max_bytes - 2)
        #: Unknown top-level fields that send an event to the general path.
        self.unless = unless


def lanes_of(engine: Engine[Any]) -> dict[type, Lane] | None:
    """The fused path's lanes by message class, or ``None`` when no class has one."""
    by_type = engine._actions_by_type
    if not engine.batching or by_type is None:
        return None
    routing = default_routing(engine.destination.name)
    lanes: dict[type, Lane] = {}
    for cls in MESSAGE_CLASSES:
        action = by_type.get(cls.model_fields["type"].default)
        if action is None or not _fusable(action):
            continue
        forward = action.wire_forward
        assert forward is not None
        if not forward.drops_empty_integrations:
            continue  # only the form without the member is written in one pass
        try:
            limits = action.batch_limits(engine.settings)
        except Exception:  # the general path refuses each event, naming the crash
            continue
        if limits is None:
            continue
        write = WITHOUT_INTEGRATIONS[cls]
        lanes[cls] = Lane(action, write, routing, limits, forward.unless_extra)
    return lanes or None


def _fusable(action: Action[Any, Any]) -> bool:
    """An action whose payload is the message's wire JSON and nothing else to do per event."""
    return (
        action.wire_forward is not None
        and action.fields is None
        and Grouper.one_group(action)
        and type(action).payload_notes is _DEFAULT_NOTES
        and "payload_notes" not in action.__dict__
    )
