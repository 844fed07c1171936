"""Integrations-object routing: does this destination receive this event, and why.

Journey events carry ``{"All": false, "<Destination Name>": true}`` so that only the destinations
connected to the step receive them; every other destination on the same source filters them
out ("Filtered at destination"). The rule, for a destination named ``D``:

1. ``integrations[D]`` present: receive it if truthy (``true`` or an object of options, even an
   empty one); filter it if falsy (``false``, ``null``, ``0``, ``""``).
2. absent: follow ``integrations["All"]``, which defaults to true.

Names are matched exactly (case and spaces count), as Segment does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RoutingDecision", "route"]


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Whether a destination receives an event, with a sentence saying why."""

    delivered: bool
    reason: str

    @property
    def label(self) -> str:
        """``delivered`` or ``filtered at destination``, as the delivery overview says."""
        return "delivered" if self.delivered else "filtered at destination"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in a lifecycle record."""
        return {"decision": self.label, "delivered": self.delivered, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}"


def _truthy(value: Any) -> bool:
    if isinstance(value, Mapping):
        return True  # an object of destination options enables it, even when empty
    return bool(value)


def route(integrations: Mapping[str, Any] | None, destination: str) -> RoutingDecision:
    """Apply the integrations object to one destination name."""
    if not integrations:  # most events: the same answer every time, made once
        return _not_named(destination)
    if destination in integrations:
        value = integrations[destination]
        if _truthy(value):
            how = "an object of options" if isinstance(value, Mapping) else "true"
            return RoutingDecision(True, f'integrations["{destination}"] is {how}')
        return RoutingDecision(False, f'integrations["{destination}"] is {_describe(value)}')
    if "All" not in integrations:
        return _not_named(destination)
    if _truthy(integrations["All"]):
        return RoutingDecision(True, f'"{destination}" is not named and integrations.All is true')
    return RoutingDecision(
        False,
        f'integrations.All is {_describe(integrations["All"])} and "{destination}" is not enabled',
    )


@functools.lru_cache(maxsize=256)
def _not_named(destination: str) -> RoutingDecision:
    return RoutingDecision(
        True, f'"{destination}" is not named and integrations.All defaults to true'
    )


def _describe(value: Any) -> str:
    """A falsy value as the reason shows it (only falsy values are described)."""
    if value is None:
        return "null"
    if value is False:
        return "false"
    return repr(value)
