"""What a preview found: the user's path through each journey, and the JSON form of it.

A :class:`Preview` holds the :class:`JourneyRun` through the chosen journey; each run is a list
of :class:`StepVisit` (when the step was reached, its outcome, what it emitted) and a
send_to_journey visit carries a :class:`JourneyEntry` with the run it started. ``to_dict`` is
the documented ``destkit.journey-preview/1`` form that ``--json`` prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sdk.journeys._payloads import Emission
from sdk.journeys._schema import utc
from sdk.journeys._users import UserProfile

__all__ = [
    "JOURNEY_PREVIEW_SCHEMA",
    "Criterion",
    "JourneyEntry",
    "JourneyRun",
    "Preview",
    "StepRef",
    "StepVisit",
    "iso",
]

JOURNEY_PREVIEW_SCHEMA = "destkit.journey-preview/1"

#: One step of a journey file: ``(journey name, step path)``, e.g. ``("First Purchase",
#: "steps[1]")`` (the path as :meth:`Journey.walk` and the preview write it).
StepRef = tuple[str, str]


def iso(value: datetime) -> str:
    """A moment as the preview writes it: UTC, ``2024-05-01T09:00:00Z``."""
    return utc(value).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Criterion:
    """One entry or audience criterion and whether it held at the moment."""

    rule: str
    met: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"rule": self.rule, "met": self.met}


@dataclass
class JourneyEntry:
    """What a send_to_journey step did: whether the user was eligible for the destination
    journey at that moment, whether they entered it, and (if so) their run through it."""

    journey: str
    status: str
    eligible: bool
    entered: bool
    reason: str
    criteria: list[Criterion] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    run: JourneyRun | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "journey": self.journey,
            "status": self.status,
            "eligible": self.eligible,
            "entered": self.entered,
            "continues_in_source": True,
            "reason": self.reason,
            "criteria": [c.to_dict() for c in self.criteria],
            "context": self.context,
            "run": None if self.run is None else self.run.to_dict(),
        }


@dataclass
class StepVisit:
    """One step the user reached: when, with what outcome, and what it emitted."""

    path: str
    type: str
    name: str
    at: datetime
    outcome: str
    detail: str
    key: str | None = None
    emissions: list[Emission] = field(default_factory=list)
    entry: JourneyEntry | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "path": self.path,
            "type": self.type,
            "name": self.name,
            "at": iso(self.at),
            "outcome": self.outcome,
            "detail": self.detail,
            "key": self.key,
            "messages": [e.to_dict() for e in self.emissions],
            "entry": None if self.entry is None else self.entry.to_dict(),
            "notes": list(self.notes),
        }


@dataclass
class JourneyRun:
    """A user's path through one journey: entered by its own entry rule (``via`` ``entry``) or
    sent from another journey (``via`` ``send_to_journey``)."""

    journey: str
    status: str
    via: Literal["entry", "send_to_journey"]
    eligible: bool
    entered_at: datetime
    criteria: list[Criterion] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    path: list[StepVisit] = field(default_factory=list)
    outcome: str = "completed"

    def emissions(self) -> list[Emission]:
        """Every event emitted in this run and the runs it entered, in order."""
        found: list[Emission] = []
        for visit in self.path:
            found.extend(visit.emissions)
            if visit.entry is not None and visit.entry.run is not None:
                found.extend(visit.entry.run.emissions())
        return found

    def runs(self) -> list[JourneyRun]:
        """This run and every run it led to, depth first."""
        found = [self]
        for visit in self.path:
            if visit.entry is not None and visit.entry.run is not None:
                found.extend(visit.entry.run.runs())
        return found

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "journey": self.journey,
            "status": self.status,
            "via": self.via,
            "eligible": self.eligible,
            "entered_at": iso(self.entered_at),
            "criteria": [c.to_dict() for c in self.criteria],
            "context": self.context,
            "notes": list(self.notes),
            "outcome": self.outcome,
            "path": [v.to_dict() for v in self.path],
        }


@dataclass
class Preview:
    """One user's preview: the run through the chosen journey (with the journeys it entered)
    and every event the destinations would receive. ``to_dict`` is the ``--json`` form."""

    space_id: str
    space_name: str
    user: UserProfile
    as_of: datetime
    run: JourneyRun

    @property
    def messages(self) -> list[Emission]:
        """Every emitted event, in the order the steps emitted them."""
        return self.run.emissions()

    @property
    def destinations(self) -> list[str]:
        """The destinations that receive events, in order of first appearance."""
        return self.destinations_of(None)

    def messages_of(self, step: StepRef | None = None) -> list[Emission]:
        """The events ``step`` (``(journey, path)``) emitted, in order; every event when
        ``step`` is None."""
        if step is None:
            return self.messages
        return [e for e in self.messages if (e.journey, e.path) == tuple(step)]

    def destinations_of(self, step: StepRef | None = None) -> list[str]:
        """The destinations ``step``'s events (every event's, when None) go to, in order."""
        return list(dict.fromkeys(e.destination for e in self.messages_of(step)))

    def by_destination(self) -> dict[str, list[Emission]]:
        """Each destination's own events."""
        grouped: dict[str, list[Emission]] = {name: [] for name in self.destinations}
        for emission in self.messages:
            grouped[emission.destination].append(emission)
        return grouped

    def entered_journeys(self) -> list[str]:
        """The journeys the user entered by send_to_journey, in order."""
        return [run.journey for run in self.run.runs() if run.via == "send_to_journey"]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (``destkit.journey-preview/1``)."""
        return {
            "schema": JOURNEY_PREVIEW_SCHEMA,
            "space": {"id": self.space_id, "name": self.space_name},
            "user": {"user_id": self.user.user_id, "anonymous_id": self.user.anonymous_id},
            "as_of": iso(self.as_of),
            "journey": self.run.to_dict(),
            "entered_journeys": self.entered_journeys(),
            "destinations": {
                name: [e.to_dict() for e in emissions]
                for name, emissions in self.by_destination().items()
            },
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The JSON form as text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)
