"""The capability an action declares when its payload is the message's own wire JSON: the
delivery engine may then write that JSON once per event and skip ``map_wire`` (its fused path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sdk.spec._messages import message_to_json
from sdk.spec._wire import WITHOUT_INTEGRATIONS

__all__ = ["WireForward"]


@dataclass(frozen=True, slots=True)
class WireForward:
    """Declared on an :class:`Action` (``wire_forward = WireForward(...)``) whose payload, for a
    *plain* message, is the message's wire JSON as ``message_to_json`` writes it, as ``bytes``:

    - less its ``"integrations":{}`` member (``drops_empty_integrations``, the default), or whole;
    - ``payload_size(payload) == len(payload)``, no notes, one batch for every payload.

    A message is plain when its ``integrations`` object is empty, it carries no
    ``context.personas``, and none of its unknown top-level fields is named in ``unless_extra``
    (fields the action treats otherwise, e.g. an upstream ``writeKey`` it drops). Any other
    message goes through ``map_wire`` as before. The promise is the connector's: for every plain
    message, ``map_wire`` returns exactly these bytes (a connector's tests should say so, as
    ``connectors/segment`` does). The engine uses it only for an action without ``fields``, with
    the default ``batch_key`` and ``payload_notes``, on a batched destination."""

    drops_empty_integrations: bool = True
    unless_extra: frozenset[str] = field(default_factory=frozenset)

    def is_plain(self, message: Any) -> bool:
        """Whether ``message`` (validated) is one this promise covers."""
        extra = message.__pydantic_extra__ or {}
        return (
            not message.integrations
            and not message.context.get("personas")
            and self.unless_extra.isdisjoint(extra)
        )

    def written(self, message: Any) -> bytes:
        """The payload the engine's fused path writes for a plain ``message``, which
        ``map_wire`` must return too (a connector's test compares them). Raises what
        ``message_to_json`` raises for a message it refuses."""
        wire = message_to_json(message)  # its checks
        if not self.drops_empty_integrations:
            return wire
        return WITHOUT_INTEGRATIONS[type(message)](message)
