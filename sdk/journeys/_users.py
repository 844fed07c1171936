"""A test user: the profile a user file holds, and the user at a moment of the preview.

:class:`UserProfile` is the file (ids, traits, identifiers with when they were added, an event
history); :class:`UserState` is what conditions, payloads and the run look at as the preview
clock moves: the events done by then, traits as steps updated them, the journey context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator

from sdk.journeys._schema import FieldError, JourneyModel, utc

__all__ = ["IdentifierValue", "ProfileEvent", "UserProfile", "UserState", "same"]


def same(left: Any, right: Any) -> bool:
    """Equality that does not confuse ``true`` with ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    return bool(left == right)


class IdentifierValue(JourneyModel):
    """One value of an identifier and when it was added (``at``; may be left out)."""

    value: str = Field(min_length=1)
    at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_value(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, str) else data

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


class ProfileEvent(JourneyModel):
    """An event in the user's history."""

    event: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc(value)


class UserProfile(JourneyModel):
    """A test user: ids, identifiers (each a list of values with when they were added), traits
    and an event history. ``as_of`` is the moment the preview starts (default: now); events
    after it are what the user will do, seen by the steps the clock reaches by then."""

    user_id: str | None = Field(default=None, min_length=1)
    anonymous_id: str | None = Field(default=None, min_length=1)
    as_of: datetime | None = None
    traits: dict[str, Any] = Field(default_factory=dict)
    identifiers: dict[str, list[IdentifierValue]] = Field(default_factory=dict)
    events: list[ProfileEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_an_id(self) -> UserProfile:
        if not (self.user_id or self.anonymous_id):
            raise FieldError("user_id", "one of user_id or anonymous_id is required")
        return self

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    @property
    def label(self) -> str:
        """The user id, or ``anonymous <id>``."""
        return self.user_id or f"anonymous {self.anonymous_id}"


@dataclass
class UserState:
    """The user at the moment: the clock, traits as updated so far, the journey context."""

    profile: UserProfile
    clock: datetime
    traits: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)

    def entering(self, context: Mapping[str, Any]) -> UserState:
        """A snapshot for a destination journey: this moment, these traits, its own context.
        The two journeys then run side by side: neither moves the other's clock or traits."""
        return UserState(self.profile, self.clock, dict(self.traits), dict(context))

    def count(self, event: str, *, within_days: float | None, where: Mapping[str, Any]) -> int:
        """How many times the user did ``event`` by now (in the last ``within_days`` days),
        with properties matching ``where``."""
        start = None
        if within_days is not None:
            try:
                start = self.clock - timedelta(days=within_days)
            except OverflowError:  # a window reaching before year 1: every event is in it
                start = None
        total = 0
        for item in self.profile.events:
            if item.event != event or item.timestamp > self.clock:
                continue
            if start is not None and item.timestamp <= start:
                continue
            if all(
                name in item.properties and same(item.properties[name], value)
                for name, value in where.items()
            ):
                total += 1
        return total

    def identifier_values(self, name: str) -> list[tuple[datetime | None, int, str]]:
        """The identifier's values added by now, as ``(added at, position, value)``."""
        values = self.profile.identifiers.get(name, [])
        return [
            (v.at, position, v.value)
            for position, v in enumerate(values)
            if v.at is None or v.at <= self.clock
        ]

    def future_moments(self, until: datetime | None) -> list[datetime]:
        """The moments after now (up to ``until``) at which the user does something."""
        moments = {
            e.timestamp
            for e in self.profile.events
            if e.timestamp > self.clock and (until is None or e.timestamp <= until)
        }
        return sorted(moments)
