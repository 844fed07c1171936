"""What a connected destination receives when a user reaches a send_to_destinations step.

A :class:`ConnectedDestination` names the destination, the calls it gets (track ``Audience
Entered`` and/or identify, each with ``{KEY: true}``) and its Trait Activation: profile traits
added to the payload (Trait Enrichment) and identifier values sent with it (ID Sync, one event
per extra value). :func:`emit` builds those messages for one user at one moment, with the step's
``context.personas`` and ``integrations`` naming only that destination.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from pydantic import Field, model_validator

from sdk._errors import UnknownDestination
from sdk.engage._personas import membership_event
from sdk.engage._spaces import JourneyStep
from sdk.journeys._schema import FieldError, JourneyModel
from sdk.journeys._users import UserState
from sdk.spec._messages import Identify, Track

__all__ = [
    "MAX_ALL_STRATEGY_IDENTIFIERS",
    "Call",
    "ConnectedDestination",
    "Emission",
    "EnrichedTrait",
    "IdSyncRule",
    "connector_kind",
    "connector_problem",
    "emit",
]

#: Segment lets at most three identifiers use the ``all`` strategy (ID Sync, limits).
MAX_ALL_STRATEGY_IDENTIFIERS = 3
#: Message ids are uuid5 in this namespace, so a preview's ids are the same on every run.
_MESSAGE_NAMESPACE = uuid.UUID("6a1c3c0e-5d1f-4a8e-9a55-0e3f1f6c7d21")

#: The calls a connected destination can receive for a step.
Call: TypeAlias = Literal["track", "identify"]


class EnrichedTrait(JourneyModel):
    """One profile trait added to the payload: ``plan`` or ``{trait: plan, as: plan_name}``."""

    trait: str = Field(min_length=1)
    as_: str | None = Field(default=None, alias="as", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"trait": data} if isinstance(data, str) else data

    @property
    def target(self) -> str:
        """The property (track) or trait (identify) name in the payload."""
        return self.as_ or self.trait


class IdSyncRule(JourneyModel):
    """Which values of one identifier are sent: ``all`` (newest first, up to ``limit``),
    ``most_recent`` or ``first_added`` (one value each)."""

    identifier: str = Field(min_length=1)
    strategy: Literal["all", "most_recent", "first_added"] = "most_recent"
    limit: int | None = Field(default=None, ge=1)
    as_: str | None = Field(default=None, alias="as", min_length=1)

    @model_validator(mode="after")
    def _limit_needs_all(self) -> IdSyncRule:
        if self.limit is not None and self.limit > 1 and self.strategy != "all":
            raise FieldError(
                "limit", f"applies to strategy all only ({self.strategy} sends one value)"
            )
        return self

    @property
    def target(self) -> str:
        """The identifier's name in the payload."""
        return self.as_ or self.identifier

    def select(self, values: Sequence[tuple[datetime | None, int, str]]) -> list[str]:
        """The values sent, from ``(added at, position, value)`` triples."""
        newest_first = [v for _, _, v in sorted(values, key=_added_order, reverse=True)]
        if not newest_first:
            return []
        if self.strategy == "most_recent":
            return newest_first[:1]
        if self.strategy == "first_added":
            return newest_first[-1:]
        return newest_first[: self.limit] if self.limit is not None else newest_first


def _added_order(item: tuple[datetime | None, int, str]) -> tuple[datetime, int]:
    added, position, _ = item
    return (added or datetime.min.replace(tzinfo=UTC), position)


def _track_only() -> list[Call]:
    return ["track"]


class ConnectedDestination(JourneyModel):
    """A destination connected to a send_to_destinations step, with its Trait Activation."""

    name: str = Field(min_length=1)
    events: list[Call] = Field(default_factory=_track_only, min_length=1)
    trait_enrichment: list[EnrichedTrait] = Field(default_factory=list)
    id_sync: list[IdSyncRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ConnectedDestination:
        for index, call in enumerate(self.events):
            if call in self.events[:index]:
                raise FieldError(f"events[{index}]", f"{call} is listed twice")
        seen: dict[str, str] = {}
        for index, trait in enumerate(self.trait_enrichment):
            if trait.target in seen:
                raise FieldError(f"trait_enrichment[{index}]", f"{trait.target!r} is sent twice")
            seen[trait.target] = trait.trait
        identifiers: list[str] = []
        for index, rule in enumerate(self.id_sync):
            if rule.identifier in identifiers:
                raise FieldError(
                    f"id_sync[{index}].identifier", f"{rule.identifier!r} is listed twice"
                )
            identifiers.append(rule.identifier)
        if sum(rule.strategy == "all" for rule in self.id_sync) > MAX_ALL_STRATEGY_IDENTIFIERS:
            raise FieldError(
                "id_sync",
                f"at most {MAX_ALL_STRATEGY_IDENTIFIERS} identifiers may use strategy all",
            )
        return self


def connector_problem(name: str) -> str | None:
    """Why a connected destination named ``name`` cannot be sent to, or None.

    The preview notes it at the step and ``send_preview`` refuses it with the same words:
    the name must be a registered connector's integrations name, exactly (``Webhook``, not
    ``webhook``), or every destination would filter the step's events out.
    """
    from sdk.connector._registry import all_destinations, get_destination

    try:
        destination = get_destination(name)
    except UnknownDestination:
        known = ", ".join(repr(d.name) for d in all_destinations())
        return f"no connector named {name!r} (known: {known})"
    if destination.name != name:
        return (
            f"{name!r} must be written as the connector's integrations name "
            f"{destination.name!r}, or its events are filtered at destination"
        )
    return None


def connector_kind(name: str) -> str | None:
    """The kind (``event``, ``list``, ``journey``) of the connector named ``name``, if any."""
    from sdk.connector._registry import get_destination

    try:
        return get_destination(name).kind.value
    except UnknownDestination:
        return None


@dataclass(frozen=True)
class Emission:
    """One event a send_to_destinations step emits for one connected destination."""

    destination: str
    call: Call
    journey: str
    step: str
    path: str
    key: str
    message: Track | Identify

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; ``message`` is the wire form a destination receives."""
        return {
            "destination": self.destination,
            "call": self.call,
            "journey": self.journey,
            "step": self.step,
            "path": self.path,
            "key": self.key,
            "message": self.message.to_wire(),
        }


def emit(
    step: JourneyStep, path: str, destination: ConnectedDestination, state: UserState
) -> tuple[list[Emission], list[str]]:
    """The events one connected destination of ``step`` (at ``path`` in its journey) receives:
    one per call type, times one per extra identifier value that ID Sync sends (Segment sends
    one event per identifier value). Also the enriched traits missing from the profile."""
    enrichment: dict[str, Any] = {}
    missing: list[str] = []
    for trait in destination.trait_enrichment:
        if trait.trait in state.traits:
            enrichment[trait.target] = state.traits[trait.trait]
        else:
            missing.append(trait.trait)
    selected = {
        rule.target: rule.select(state.identifier_values(rule.identifier))
        for rule in destination.id_sync
    }
    selected = {name: values for name, values in selected.items() if values}
    base = {name: values[0] for name, values in selected.items()}
    fan = [base] + [{**base, name: v} for name, values in selected.items() for v in values[1:]]
    user = state.profile
    emissions: list[Emission] = []
    for call in destination.events:
        for index, identifiers in enumerate(fan):
            values = dict(enrichment)
            context_traits: dict[str, Any] = {}
            for name, value in identifiers.items():
                if call == "track" and name == "email":
                    context_traits[name] = value  # Segment: email goes to context.traits
                else:
                    values[name] = value
            seed = "|".join(
                [step.space.id, step.id, destination.name, call, user.label, str(index)]
            )
            message = membership_event(
                call,
                step.personas(),
                user_id=user.user_id,
                anonymous_id=user.anonymous_id,
                destinations=[destination.name],
                extra=values,
                message_id=f"destkit-{uuid.uuid5(_MESSAGE_NAMESPACE, seed)}",
                timestamp=state.clock,
            )
            if context_traits:
                message.context["traits"] = context_traits
            if state.context:
                message.context["journey_context"] = dict(state.context)
            emissions.append(
                Emission(destination.name, call, step.journey, step.name, path, step.key, message)
            )
    return emissions, missing
