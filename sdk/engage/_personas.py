"""Engage: ``context.personas``, membership events, and reading membership back.

When a user enters a journey's "Send to destinations" step (or enters or leaves an audience),
event destinations receive, exactly in the shape the Segment docs show:

- track: ``{"type": "track", "event": "Audience Entered", "properties": {KEY: true}, ...}``
- identify: ``{"type": "identify", "traits": {KEY: true}, ...}``

each with the full ``context.personas`` object and an integrations object naming only the
connected destinations. Audiences also send ``Audience Exited`` / ``KEY: false``; journey steps
never do (a journey list is add-only). The docs print the value as the string ``"true"``; Segment's
real payloads use the boolean, so destkit emits ``true`` and accepts both on input.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ValidationError

from sdk._errors import InvalidEvent
from sdk.engage._identifiers import user_identifiers
from sdk.engage._keys import is_journey_key
from sdk.spec._messages import (
    Alias,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    invalid_event_from,
    message_ids,
)

__all__ = [
    "AUDIENCE_ENTERED",
    "AUDIENCE_EXITED",
    "ComputationClass",
    "Membership",
    "MembershipEvents",
    "PersonasContext",
    "integrations_for",
    "membership_event",
    "membership_of",
    "membership_values",
    "user_identifiers",
]

AUDIENCE_ENTERED = "Audience Entered"
AUDIENCE_EXITED = "Audience Exited"

_TRUE_STRINGS = {"true"}
_FALSE_STRINGS = {"false"}


class ComputationClass(StrEnum):
    """What computed the membership: an audience (journey steps too, as the docs show), a
    journey step, or a computed trait."""

    AUDIENCE = "audience"
    JOURNEY_STEP = "journey_step"
    COMPUTED_TRAIT = "computed_trait"
    TRAIT = "trait"


@dataclass(frozen=True, slots=True)
class PersonasContext:
    """The ``context.personas`` object of an Engage event."""

    computation_class: ComputationClass
    computation_id: str
    computation_key: str
    space_id: str
    namespace: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The wire form, with ``namespace`` defaulting to the space id as Engage sends it."""
        return {
            "computation_class": self.computation_class.value,
            "computation_id": self.computation_id,
            "computation_key": self.computation_key,
            "namespace": self.namespace or self.space_id,
            "space_id": self.space_id,
        }

    @property
    def is_journey(self) -> bool:
        """True when the computation is a journey step (its list is add-only)."""
        return self.computation_class is ComputationClass.JOURNEY_STEP or is_journey_key(
            self.computation_key
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PersonasContext:
        """Read ``context.personas``; a missing or bad field is an ``InvalidEvent``."""
        for name in ("computation_class", "computation_id", "computation_key", "space_id"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise InvalidEvent(f"context.personas.{name}", "is required (a non-empty string)")
        try:
            computation_class = ComputationClass(data["computation_class"])
        except ValueError:
            allowed = ", ".join(c.value for c in ComputationClass)
            raise InvalidEvent(
                "context.personas.computation_class", f"must be one of {allowed}"
            ) from None
        namespace = data.get("namespace")
        return cls(
            computation_class=computation_class,
            computation_id=data["computation_id"],
            computation_key=data["computation_key"],
            space_id=data["space_id"],
            namespace=namespace if isinstance(namespace, str) else None,
        )


def integrations_for(destinations: Iterable[str] | None) -> dict[str, bool]:
    """``{"All": false, "<Destination>": true, ...}``, or ``{}`` (everyone) when ``None``."""
    if destinations is None:
        return {}
    integrations: dict[str, bool] = {"All": False}
    for name in destinations:
        integrations[name] = True
    return integrations


class MembershipEvents:
    """Builds the membership events of one computation (a journey step, an audience) for one
    set of connected destinations, many times over.

    The ``context.personas`` and integrations objects depend only on the computation, so they
    are built once here and each event gets its own shallow copy of them (their values are
    strings and booleans: a copy shares nothing mutable, so changing one event's context or
    integrations never reaches the next). Every event is still validated as a ``Track`` or
    ``Identify`` (identity, ids, the user's ``extra`` values); the validator is called directly,
    without ``BaseModel.__init__``'s keyword plumbing.
    """

    __slots__ = ("_integrations", "_personas", "is_journey", "key")

    def __init__(self, personas: PersonasContext, destinations: Iterable[str] | None) -> None:
        self.key = personas.computation_key
        self.is_journey = personas.is_journey
        self._personas = personas.to_dict()
        self._integrations = integrations_for(destinations)

    def event(
        self,
        call: Literal["track", "identify"],
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        entered: bool = True,
        extra: Mapping[str, Any] | None = None,
        message_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> Track | Identify:
        """One event: see :func:`membership_event`."""
        if not entered and self.is_journey:
            raise InvalidEvent(
                "entered",
                "journey steps are add-only: users who enter a journey list never leave it",
            )
        values: dict[str, Any] = {**extra, self.key: entered} if extra else {self.key: entered}
        # Wire names (the validator's first lookup) and no ``None`` entries (a field left to
        # its default is not validated again): the cheapest input the validator can take.
        # The id is drawn here rather than by the model's default factory: one Python frame
        # less per event.
        data: dict[str, Any] = {
            "messageId": message_ids.next() if message_id is None else message_id,
            "context": {"personas": self._personas.copy()},
            "integrations": self._integrations.copy(),
        }
        if user_id is not None:
            data["userId"] = user_id
        if anonymous_id is not None:
            data["anonymousId"] = anonymous_id
        if timestamp is not None:
            data["timestamp"] = timestamp
        try:
            if call == "track":
                data["event"] = AUDIENCE_ENTERED if entered else AUDIENCE_EXITED
                data["properties"] = values
                track: Track = _validate_track(data)
                return track
            data["traits"] = values
            identify: Identify = _validate_identify(data)
            return identify
        except ValidationError as exc:
            raise invalid_event_from(exc) from None


_validate_track = Track.__pydantic_validator__.validate_python
_validate_identify = Identify.__pydantic_validator__.validate_python


def membership_event(
    call: Literal["track", "identify"],
    personas: PersonasContext,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    entered: bool = True,
    destinations: Iterable[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    message_id: str | None = None,
    timestamp: datetime | None = None,
) -> Track | Identify:
    """The event a destination receives when a user enters (or leaves) a computation.

    ``extra`` adds properties (track) or traits (identify) beside the key, as Trait Enrichment
    does. A journey step never produces an exit: asking for one raises ``InvalidEvent``, and so
    does a bad field (no ``user_id`` nor ``anonymous_id``, for one), in one line naming it.
    """
    return MembershipEvents(personas, destinations).event(
        call,
        user_id=user_id,
        anonymous_id=anonymous_id,
        entered=entered,
        extra=extra,
        message_id=message_id,
        timestamp=timestamp,
    )


@dataclass(frozen=True, slots=True)
class Membership:
    """What a membership event says: this user is (or is no longer) in the computation."""

    personas: PersonasContext
    member: bool
    user_id: str | None
    anonymous_id: str | None
    #: The properties (track) or traits (identify) of the event, identifiers among them.
    values: Mapping[str, Any]

    @property
    def key(self) -> str:
        """The computation key (the step key of a journey)."""
        return self.personas.computation_key

    @property
    def is_journey(self) -> bool:
        """True for a journey step (add-only)."""
        return self.personas.is_journey


def _flag(value: Any, field_name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_STRINGS | _FALSE_STRINGS:
        return value.strip().lower() in _TRUE_STRINGS
    raise InvalidEvent(
        field_name, 'must be true or false (the boolean, or the string "true"/"false")'
    )


#: The message whose membership is being read once (see :func:`reading_membership_once`).
_ONCE: ContextVar[list[Any] | None] = ContextVar("destkit_membership_once", default=None)


@contextlib.contextmanager
def reading_membership_once(message: object) -> Iterator[None]:
    """Within this block, :func:`membership_of` reads ``message``'s membership once and
    answers its later calls for the same message from that reading (the runtime's preparation
    of one event: subscriptions, the journey rule and a list connector's map all ask). The
    message must not change meanwhile."""
    token = begin_reading_membership_once(message)
    try:
        yield
    finally:
        end_reading_membership_once(token)


def begin_reading_membership_once(message: object) -> Token[list[Any] | None]:
    """:func:`reading_membership_once` without a context manager (the runtime prepares one
    event at a time with it): pass the token to :func:`end_reading_membership_once`."""
    return _ONCE.set([message, None, False])


def end_reading_membership_once(token: Token[list[Any] | None]) -> None:
    """End what :func:`begin_reading_membership_once` began."""
    _ONCE.reset(token)


def membership_of(message: Track | Identify | Page | Screen | Group | Alias) -> Membership | None:
    """Read a membership change from an Engage event; ``None`` when it is not one.

    A track ``Audience Entered``/``Audience Exited`` or an identify carrying the computation key
    as a trait is a membership event. Both ``true`` and ``"true"`` are accepted.
    """
    once = _ONCE.get()
    if once is None or once[0] is not message:
        return _membership_of(message)
    if not once[2]:
        once[1], once[2] = _membership_of(message), True
    result: Membership | None = once[1]
    return result


def _membership_of(message: Track | Identify | Page | Screen | Group | Alias) -> Membership | None:
    raw = message.personas
    if not raw:
        return None
    personas = PersonasContext.from_dict(raw)
    key = personas.computation_key
    if isinstance(message, Track):
        if message.event not in (AUDIENCE_ENTERED, AUDIENCE_EXITED):
            return None
        values = message.properties
        if key in values:
            member = _flag(values[key], f"properties.{key}")
        else:
            member = message.event == AUDIENCE_ENTERED
        if member != (message.event == AUDIENCE_ENTERED):
            raise InvalidEvent(f"properties.{key}", f"contradicts the event name {message.event!r}")
    elif isinstance(message, Identify):
        values = message.traits
        if key not in values:
            return None
        member = _flag(values[key], f"traits.{key}")
    else:
        return None
    return Membership(
        personas=personas,
        member=member,
        user_id=message.user_id,
        anonymous_id=message.anonymous_id,
        values=values,
    )


def membership_values(
    message: Track | Identify,
) -> tuple[dict[str, Any], Membership | None]:
    """The event's properties (track) or traits (identify), with the computation key set to a
    boolean when it is a membership event (``"true"`` arrives as ``True``), and the membership
    (``None`` for an ordinary event). What an event destination sends as event properties or
    user attributes, so a journey key becomes a boolean property/attribute everywhere."""
    values = dict(message.properties if isinstance(message, Track) else message.traits)
    membership = membership_of(message)
    if membership is not None:
        values[membership.key] = membership.member
    return values, membership
