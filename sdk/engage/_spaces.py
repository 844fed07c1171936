"""Spaces, audiences, journeys and their "Send to destinations" steps, with their keys.

A :class:`Space` owns a :class:`~sdk.engage.KeyRegistry`, so every step key in it is stable
and unique. The payload builders here produce exactly what the Segment docs show an event
destination receiving.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sdk._errors import InvalidJourney
from sdk.engage._keys import KeyRegistry, audience_key, default_step_id
from sdk.engage._personas import ComputationClass, MembershipEvents, PersonasContext
from sdk.spec._messages import Identify, Track

__all__ = ["Audience", "Computation", "JourneyStep", "Space"]

_SPACE_ID = re.compile(r"^spa_[A-Za-z0-9_]+$")


def _derived_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:20]


@dataclass
class Space:
    """An Engage space (``spa_...``): the scope in which keys are unique."""

    id: str
    keys: KeyRegistry = field(init=False)

    def __post_init__(self) -> None:
        if not _SPACE_ID.match(self.id):
            raise InvalidJourney("space_id", "must look like spa_<letters, digits, _>")
        self.keys = KeyRegistry(self.id)

    def step(
        self,
        journey: str,
        step: str,
        *,
        step_id: str | None = None,
        destinations: Iterable[str] = (),
        audience_id: str | None = None,
    ) -> JourneyStep:
        """A "Send to destinations" step of ``journey`` in this space, with its key."""
        if not journey.strip():
            raise InvalidJourney("journey", "must not be empty")
        if not step.strip():
            raise InvalidJourney("step", "must not be empty")
        stable_id = step_id or default_step_id(self.id, journey, step)
        key = self.keys.key_for(journey, step, stable_id)
        return JourneyStep(
            space=self,
            journey=journey,
            name=step,
            id=stable_id,
            key=key,
            destinations=tuple(destinations),
            audience_id=audience_id or _derived_id("aud_", f"{self.id}/{stable_id}"),
        )

    def audience(
        self, name: str, *, audience_id: str | None = None, destinations: Iterable[str] = ()
    ) -> Audience:
        """An audience of this space; its key is its snake-cased name (a blank name is refused,
        as for a step)."""
        if not name.strip():
            raise InvalidJourney("audience", "must not be empty")
        key = audience_key(name)
        computation_id = audience_id or _derived_id("aud_", f"{self.id}/audience/{name}")
        self.keys.claim(key, computation_id)
        return Audience(self, name, computation_id, key, tuple(destinations))


class Computation:
    """What journey steps and audiences share: a computation with an id and a key in a space,
    whose members are sent to connected destinations with one ``context.personas`` object.

    Both are immutable, so the personas context and the event builder are made once each."""

    space: Space
    key: str
    destinations: tuple[str, ...]

    @property
    def computation_id(self) -> str:
        """The ``context.personas.computation_id`` (``aud_...``)."""
        raise NotImplementedError

    def personas(self) -> PersonasContext:
        """The ``context.personas`` object (``computation_class`` ``audience``, as Engage sends
        it for audiences and journey steps alike)."""
        return self._personas

    @functools.cached_property
    def _personas(self) -> PersonasContext:
        return PersonasContext(
            computation_class=ComputationClass.AUDIENCE,
            computation_id=self.computation_id,
            computation_key=self.key,
            space_id=self.space.id,
        )

    @functools.cached_property
    def _events(self) -> MembershipEvents:
        return MembershipEvents(self._personas, self.destinations)


@dataclass(frozen=True)
class JourneyStep(Computation):
    """A journey's "Send to destinations" step: entering it sends the user, keyed by ``key``,
    to its connected destinations. Journey steps are add-only: they never emit an exit."""

    space: Space
    journey: str
    name: str
    id: str
    key: str
    destinations: tuple[str, ...]
    audience_id: str

    @property
    def computation_id(self) -> str:
        """The step's audience id: Engage sends journey steps as audiences."""
        return self.audience_id

    def event(
        self,
        call: Literal["track", "identify"],
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> Track | Identify:
        """The event a connected destination receives when a user enters this step.

        A missing identity (no ``user_id`` nor ``anonymous_id``) or a bad value in ``extra`` is
        an ``InvalidEvent`` naming the field."""
        return self._events.event(call, user_id=user_id, anonymous_id=anonymous_id, extra=extra)


@dataclass(frozen=True)
class Audience(Computation):
    """An Engage audience: users enter and leave it, so it sends entries and exits."""

    space: Space
    name: str
    id: str
    key: str
    destinations: tuple[str, ...] = ()

    @property
    def computation_id(self) -> str:
        """The audience's id."""
        return self.id

    def event(
        self,
        call: Literal["track", "identify"],
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        entered: bool = True,
        extra: dict[str, object] | None = None,
    ) -> Track | Identify:
        """``Audience Entered``/``true``, or ``Audience Exited``/``false`` when not entered."""
        return self._events.event(
            call, user_id=user_id, anonymous_id=anonymous_id, entered=entered, extra=extra
        )
