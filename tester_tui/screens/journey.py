"""Journey mode (``destkit tester --journey-file FILE``).

It needs ``sdk._journeys`` (journey files and a preview of a user's path), written separately;
until that module offers a preview API, journey mode says clearly that it is unavailable.
"""

from __future__ import annotations

import importlib.util

from textual.screen import Screen

__all__ = ["journey_screen_or_reason"]

UNAVAILABLE = (
    "journey mode unavailable: this destkit has no journey preview API (sdk._journeys) yet; "
    "the tester still sends single events"
)


def journey_screen_or_reason(journey_file: str | None) -> tuple[Screen[None] | None, str | None]:
    """The journey screen for ``journey_file``, or ``(None, why not)``."""
    # Only the absence of the module is known here; its preview API is not wired in yet.
    if importlib.util.find_spec("sdk._journeys") is None:
        return None, UNAVAILABLE
    return None, UNAVAILABLE.replace(
        "no journey preview API (sdk._journeys) yet",
        ("sdk._journeys, but the tester does not use its preview API yet"),
    )
