"""Journey files, and a preview of one user's path through them.

A journey file (YAML or JSON, ``docs/journeys.md`` is the reference) holds a space and its
journeys: each with a status (``draft``, ``idle``, ``active``), an entry rule (an event and/or
conditions, ``real_time`` or ``scheduled``), an audience rule and ordered steps. :func:`preview`
runs one user profile through a journey, step by step, at the moments the steps are reached:

- a **send_to_destinations** step emits, for each connected destination, its own events (track
  ``Audience Entered`` with ``{KEY: true}`` and/or identify with ``{KEY: true}``, the full
  ``context.personas``, and ``integrations`` naming only that destination), enriched with the
  configured traits (Trait Enrichment) and identifiers (ID Sync);
- a **send_to_journey** step evaluates the user *at that moment* against the destination
  journey's entry and audience criteria; an eligible user enters it at its first step at once
  (a scheduled entry window is ignored, a draft or idle destination is fine) with the source
  context, and in every case continues in the source journey. Entry is one-time per run.

:func:`send_preview` delivers every emitted event to every destination named in the preview, so
each destination receives its own events and filters the others ("filtered at destination").
Errors are one line naming the path in the file (``journeys[0].steps[2].destinations: must not be
empty``), never a pydantic dump.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

import httpx
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from sdk._destination import Destination
from sdk._engage import membership_event
from sdk._errors import InvalidJourney, InvalidSettings
from sdk._keys import default_step_id
from sdk._lifecycle import Lifecycle
from sdk._messages import Identify, Track
from sdk._registry import get_destination
from sdk._retry import RetryPolicy
from sdk._runtime import AsyncDelivery
from sdk._settings import env_var_name, load_settings, setting_fields
from sdk._spaces import JourneyStep, Space

__all__ = [
    "JOURNEY_PREVIEW_SCHEMA",
    "Criterion",
    "Emission",
    "Journey",
    "JourneyEntry",
    "JourneyFile",
    "JourneyRun",
    "Preview",
    "StepVisit",
    "UserProfile",
    "load_journey_file",
    "load_user_profile",
    "missing_settings",
    "parse_journey_file",
    "parse_user_profile",
    "preview",
    "send_preview",
    "send_preview_async",
]

JOURNEY_PREVIEW_SCHEMA = "destkit.journey-preview/1"
#: Segment lets at most three identifiers use the ``all`` strategy (ID Sync, limits).
MAX_ALL_STRATEGY_IDENTIFIERS = 3
#: Names the source context always carries into a destination journey.
SOURCE_CONTEXT_FIELDS = (
    "source_space_id",
    "source_journey",
    "source_step",
    "source_step_id",
    "source_step_key",
    "entered_at",
)
_MESSAGE_NAMESPACE = uuid.UUID("6a1c3c0e-5d1f-4a8e-9a55-0e3f1f6c7d21")

Call: TypeAlias = Literal["track", "identify"]


# -- errors ------------------------------------------------------------------------------------


class _FieldError(ValueError):
    """Raised inside validators: ``field`` (relative to the model) and ``rule`` end up in the
    one-line error, so the path names the field and not just the model."""

    def __init__(self, field_name: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field_name
        self.rule = rule


def _path(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith(("step:", "condition:")):  # a union tag, not a field
            continue
        else:
            text += f".{part}" if text else part
    return text


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _rule(error: Mapping[str, Any]) -> tuple[str, str]:
    """The extra path (from a :class:`_FieldError`) and the rule of one pydantic error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    exc = ctx.get("error")
    if isinstance(exc, _FieldError):
        return exc.field, exc.rule
    if kind == "missing":
        return "", "is required"
    if kind == "too_short":
        minimum = ctx.get("min_length", 1)
        return "", "must not be empty" if minimum == 1 else f"must have at least {minimum} items"
    if kind == "string_too_short":
        return "", "must not be empty"
    if kind == "string_pattern_mismatch":
        prefix = str(ctx.get("pattern", "")).removeprefix("^").partition("[")[0]
        return "", f"must look like {prefix}<letters, digits, _>"
    if kind == "literal_error":
        return "", f"must be {ctx.get('expected', '?')}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "", "must be a mapping"
    if kind == "list_type":
        return "", "must be a list"
    if kind == "extra_forbidden":
        return "", "is not a known field"
    if kind == "union_tag_not_found":
        if "_step_kind" in str(ctx.get("discriminator", "")):
            return "type", f"is required (one of {', '.join(STEP_TYPES)})"
        return "", "must be a mapping"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        what, _, value = tag.partition(":")
        if value == _NOT_A_MAPPING:
            return "", "must be a mapping"
        if what == "step":
            return "type", f"unknown step type {value!r} (known: {', '.join(STEP_TYPES)})"
        return "", "must have one of " + ", ".join(CONDITION_KINDS)
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return "", message.replace("Input should be", "must be")


def _invalid(error: ValidationError, prefix: str = "") -> InvalidJourney:
    errors = error.errors(include_input=False, include_url=False)
    first = errors[0]
    extra, rule = _rule(first)
    where = _join(_join(prefix, _path(first.get("loc", ()))), extra)
    if len(errors) > 1:
        rule += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return InvalidJourney(where or prefix or "journey", rule)


# -- the model base -----------------------------------------------------------------------------


class _Model(BaseModel):
    """Strict: an unknown field is an error naming it and the known ones."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = [info.alias or name for name, info in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise _FieldError(
                        str(key), f"unknown field (known: {', '.join(sorted(known))})"
                    )
        return data


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat().replace("+00:00", "Z")


def _same(left: Any, right: Any) -> bool:
    """Equality that does not confuse ``true`` with ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    return bool(left == right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts) or "0m"


# -- conditions ---------------------------------------------------------------------------------


class _Operators(_Model):
    """Exactly one test of a value: ``equals``, ``exists``, ``gt``, ``lt`` or ``in``."""

    OPERATORS: ClassVar[tuple[str, ...]] = ("equals", "exists", "gt", "lt", "in_")

    equals: Any = None
    exists: bool | None = None
    gt: float | None = None
    lt: float | None = None
    in_: list[Any] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _one_operator(self) -> _Operators:
        given = [name for name in self.OPERATORS if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("must have exactly one of equals, exists, gt, lt, in")
        return self

    @property
    def operator(self) -> str:
        """The operator given (``in`` for ``in_``)."""
        name = next(n for n in self.OPERATORS if n in self.model_fields_set)
        return name.rstrip("_")

    def test(self, present: bool, value: Any) -> bool:
        """Apply the operator to a value (``present`` False when the name is missing)."""
        operator = self.operator
        if operator == "exists":
            return (present and value is not None) is bool(self.exists)
        if operator == "equals":
            return present and _same(value, self.equals)
        if operator == "in":
            return present and any(_same(value, item) for item in self.in_ or [])
        if not (present and _is_number(value)):
            return False
        limit = self.gt if operator == "gt" else self.lt
        assert limit is not None
        return bool(value > limit) if operator == "gt" else bool(value < limit)

    def describe_test(self) -> str:
        """``equals "gold"``, ``> 100``, ``exists``..."""
        operator = self.operator
        if operator == "exists":
            return "exists" if self.exists else "does not exist"
        if operator == "equals":
            return f"equals {_show(self.equals)}"
        if operator == "in":
            return f"in {_show(self.in_)}"
        return f"{'>' if operator == 'gt' else '<'} {self.gt if operator == 'gt' else self.lt:g}"


class TraitCondition(_Operators):
    """A profile trait test: ``{trait: plan, equals: gold}``."""

    trait: str = Field(min_length=1)

    def evaluate(self, state: _UserState) -> bool:
        """True when the trait, as it is at the moment, passes the test."""
        return self.test(self.trait in state.traits, state.traits.get(self.trait))

    def describe(self) -> str:
        """The condition in words."""
        return f"trait {self.trait} {self.describe_test()}"


class ContextCondition(_Operators):
    """A journey context test: ``{context: source_journey, equals: First Purchase}``."""

    context: str = Field(min_length=1)

    def evaluate(self, state: _UserState) -> bool:
        """True when the context variable passes the test."""
        return self.test(self.context in state.context, state.context.get(self.context))

    def describe(self) -> str:
        """The condition in words."""
        return f"context {self.context} {self.describe_test()}"


class PerformedCondition(_Model):
    """An event in the user's history: ``{performed: Order Completed, within_days: 30}``."""

    performed: str = Field(min_length=1)
    within_days: float | None = Field(default=None, gt=0)
    where: dict[str, Any] = Field(default_factory=dict)
    at_least: int = Field(default=1, ge=1)

    def evaluate(self, state: _UserState) -> bool:
        """True when the user did it (at least ``at_least`` times) by the moment."""
        return (
            state.count(self.performed, within_days=self.within_days, where=self.where)
            >= self.at_least
        )

    def describe(self) -> str:
        """The condition in words."""
        text = f"performed {_show(self.performed)}"
        if self.at_least > 1:
            text += f" at least {self.at_least} times"
        if self.within_days is not None:
            text += f" within {self.within_days:g} days"
        if self.where:
            text += f" where {_show(self.where)}"
        return text


class AllCondition(_Model):
    """Every condition holds: ``{all: [...]}``."""

    all: list[Condition] = Field(min_length=1)

    def evaluate(self, state: _UserState) -> bool:
        """True when every condition holds."""
        return all(c.evaluate(state) for c in self.all)

    def describe(self) -> str:
        """The condition in words."""
        return "(" + " and ".join(c.describe() for c in self.all) + ")"


class AnyCondition(_Model):
    """At least one condition holds: ``{any: [...]}``."""

    any: list[Condition] = Field(min_length=1)

    def evaluate(self, state: _UserState) -> bool:
        """True when one condition holds."""
        return any(c.evaluate(state) for c in self.any)

    def describe(self) -> str:
        """The condition in words."""
        return "(" + " or ".join(c.describe() for c in self.any) + ")"


class NotCondition(_Model):
    """The condition does not hold: ``{not: {...}}``."""

    not_: Condition = Field(alias="not")

    def evaluate(self, state: _UserState) -> bool:
        """True when the inner condition does not hold."""
        return not self.not_.evaluate(state)

    def describe(self) -> str:
        """The condition in words."""
        return f"not {self.not_.describe()}"


CONDITION_KINDS = ("trait", "context", "performed", "all", "any", "not")
_NOT_A_MAPPING = "<not a mapping>"


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {
            TraitCondition: "condition:trait",
            ContextCondition: "condition:context",
            PerformedCondition: "condition:performed",
            AllCondition: "condition:all",
            AnyCondition: "condition:any",
            NotCondition: "condition:not",
        }.get(type(value))
    if not isinstance(value, Mapping):
        return f"condition:{_NOT_A_MAPPING}"
    for kind in CONDITION_KINDS:
        if kind in value:
            return f"condition:{kind}"
    return "condition:?"


Condition: TypeAlias = Annotated[
    Annotated[TraitCondition, Tag("condition:trait")]
    | Annotated[ContextCondition, Tag("condition:context")]
    | Annotated[PerformedCondition, Tag("condition:performed")]
    | Annotated[AllCondition, Tag("condition:all")]
    | Annotated[AnyCondition, Tag("condition:any")]
    | Annotated[NotCondition, Tag("condition:not")],
    Discriminator(_condition_kind),
]
"""A condition: a trait or context test, an event performed, or ``all``/``any``/``not``."""


# -- Trait Enrichment and ID Sync -------------------------------------------------------------


class EnrichedTrait(_Model):
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


class IdSyncRule(_Model):
    """Which values of one identifier are sent: ``all`` (newest first, up to ``limit``),
    ``most_recent`` or ``first_added`` (one value each)."""

    identifier: str = Field(min_length=1)
    strategy: Literal["all", "most_recent", "first_added"] = "most_recent"
    limit: int | None = Field(default=None, ge=1)
    as_: str | None = Field(default=None, alias="as", min_length=1)

    @model_validator(mode="after")
    def _limit_needs_all(self) -> IdSyncRule:
        if self.limit is not None and self.limit > 1 and self.strategy != "all":
            raise _FieldError(
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


class ConnectedDestination(_Model):
    """A destination connected to a send_to_destinations step, with its Trait Activation."""

    name: str = Field(min_length=1)
    events: list[Call] = Field(default_factory=_track_only, min_length=1)
    trait_enrichment: list[EnrichedTrait] = Field(default_factory=list)
    id_sync: list[IdSyncRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ConnectedDestination:
        for index, call in enumerate(self.events):
            if call in self.events[:index]:
                raise _FieldError(f"events[{index}]", f"{call} is listed twice")
        seen: dict[str, str] = {}
        for index, trait in enumerate(self.trait_enrichment):
            if trait.target in seen:
                raise _FieldError(f"trait_enrichment[{index}]", f"{trait.target!r} is sent twice")
            seen[trait.target] = trait.trait
        identifiers: list[str] = []
        for index, rule in enumerate(self.id_sync):
            if rule.identifier in identifiers:
                raise _FieldError(
                    f"id_sync[{index}].identifier", f"{rule.identifier!r} is listed twice"
                )
            identifiers.append(rule.identifier)
        if sum(rule.strategy == "all" for rule in self.id_sync) > MAX_ALL_STRATEGY_IDENTIFIERS:
            raise _FieldError(
                "id_sync",
                f"at most {MAX_ALL_STRATEGY_IDENTIFIERS} identifiers may use strategy all",
            )
        return self


# -- steps -------------------------------------------------------------------------------------


class _Step(_Model):
    TYPE: ClassVar[str] = ""

    name: str = ""
    id: str | None = Field(default=None, min_length=1)

    @property
    def label(self) -> str:
        """The step's name, or its type when it has none."""
        return self.name or self.TYPE.replace("_", " ")


class WaitForConditionStep(_Step):
    """Wait until the condition holds; ``max_wait_days`` bounds the wait, after which the user
    exits (``on_timeout: exit``) or continues (``on_timeout: continue``)."""

    TYPE: ClassVar[str] = "wait_for_condition"
    type: Literal["wait_for_condition"]
    condition: Condition
    max_wait_days: float | None = Field(default=None, gt=0)
    on_timeout: Literal["exit", "continue"] = "exit"


class WaitStep(_Step):
    """Wait a fixed time (the preview clock moves on)."""

    TYPE: ClassVar[str] = "wait"
    type: Literal["wait"]
    days: float = Field(default=0, ge=0)
    hours: float = Field(default=0, ge=0)
    minutes: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _some_time(self) -> WaitStep:
        if self.duration <= timedelta(0):
            raise _FieldError("days", "a wait needs days, hours or minutes above 0")
        return self

    @property
    def duration(self) -> timedelta:
        """How long the user waits."""
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


class TrueFalseSplitStep(_Step):
    """Users for whom the condition holds take ``if_true``, the others ``if_false``; a branch
    left out (or empty) goes straight on. After its branch the user continues with the step
    after the split, unless the branch exits."""

    TYPE: ClassVar[str] = "true_false_split"
    type: Literal["true_false_split"]
    condition: Condition
    if_true: list[Step] = Field(default_factory=list)
    if_false: list[Step] = Field(default_factory=list)


class SendToDestinationsStep(_Step):
    """Send the user, keyed by the step key, to the connected destinations."""

    TYPE: ClassVar[str] = "send_to_destinations"
    type: Literal["send_to_destinations"]
    name: str = Field(min_length=1)
    audience_id: str | None = Field(default=None, pattern=r"^aud_[A-Za-z0-9_]+$")
    destinations: list[ConnectedDestination] = Field(min_length=1)
    _compiled: JourneyStep | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_destinations(self) -> SendToDestinationsStep:
        names: list[str] = []
        for index, destination in enumerate(self.destinations):
            if destination.name in names:
                raise _FieldError(
                    f"destinations[{index}].name",
                    f"{destination.name!r} is already connected to this step",
                )
            names.append(destination.name)
        return self

    @property
    def compiled(self) -> JourneyStep:
        """The step with its key and ``context.personas`` (set when the file is loaded)."""
        if self._compiled is None:
            raise RuntimeError(
                "the step belongs to no JourneyFile: load it with parse_journey_file"
            )
        return self._compiled

    @property
    def key(self) -> str:
        """The step key (``j_o_<journey>__<step>_<suffix>``)."""
        return self.compiled.key


class SendToJourneyStep(_Step):
    """Send the user into another journey of the file (Braze Canvas "Send to Destination")."""

    TYPE: ClassVar[str] = "send_to_journey"
    type: Literal["send_to_journey"]
    name: str = Field(min_length=1)
    journey: str = Field(min_length=1)
    context: dict[str, Any] = Field(default_factory=dict)
    _compiled: JourneyStep | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _first_step_only(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for name in ("step", "at_step", "entry_step", "destination_step"):
                if name in data:
                    raise _FieldError(
                        name,
                        "users always enter the destination journey at its first step; "
                        "a later step cannot be targeted",
                    )
        return data

    @field_validator("context")
    @classmethod
    def _no_reserved_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if name in SOURCE_CONTEXT_FIELDS:
                raise _FieldError(name, "is set by destkit (the source context); pick another name")
        return value

    @property
    def key(self) -> str:
        """This step's key: the destination journey sees it as ``source_step_key``."""
        if self._compiled is None:
            raise RuntimeError(
                "the step belongs to no JourneyFile: load it with parse_journey_file"
            )
        return self._compiled.key


class UpdateTraitsStep(_Step):
    """Set profile traits (``null`` removes one), as a Braze User Update step does."""

    TYPE: ClassVar[str] = "update_traits"
    type: Literal["update_traits"]
    traits: dict[str, Any] = Field(min_length=1)


class ExitStep(_Step):
    """Leave the journey here."""

    TYPE: ClassVar[str] = "exit"
    type: Literal["exit"]


_STEP_CLASSES: tuple[type[_Step], ...] = (
    WaitForConditionStep,
    TrueFalseSplitStep,
    SendToDestinationsStep,
    SendToJourneyStep,
    WaitStep,
    UpdateTraitsStep,
    ExitStep,
)
STEP_TYPES = tuple(cls.TYPE for cls in _STEP_CLASSES)


def _step_kind(value: Any) -> str | None:
    if isinstance(value, _Step):
        return f"step:{value.TYPE}"
    if not isinstance(value, Mapping):
        return f"step:{_NOT_A_MAPPING}"
    kind = value.get("type")
    if kind is None:
        return None
    return f"step:{kind}"


Step: TypeAlias = Annotated[
    Annotated[WaitForConditionStep, Tag("step:wait_for_condition")]
    | Annotated[TrueFalseSplitStep, Tag("step:true_false_split")]
    | Annotated[SendToDestinationsStep, Tag("step:send_to_destinations")]
    | Annotated[SendToJourneyStep, Tag("step:send_to_journey")]
    | Annotated[WaitStep, Tag("step:wait")]
    | Annotated[UpdateTraitsStep, Tag("step:update_traits")]
    | Annotated[ExitStep, Tag("step:exit")],
    Discriminator(_step_kind),
]
"""One step of a journey, chosen by its ``type``."""


# -- journeys and the file --------------------------------------------------------------------


class EntryEvent(_Model):
    """The event that enters users: a name, or ``{name, within_days, where}``."""

    name: str = Field(min_length=1)
    within_days: float | None = Field(default=None, gt=0)
    where: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    def as_condition(self) -> PerformedCondition:
        """The same rule as a ``performed`` condition."""
        return PerformedCondition(
            performed=self.name, within_days=self.within_days, where=self.where
        )


class Entry(_Model):
    """How users enter: ``real_time`` or ``scheduled`` (its ``schedule`` is a description that
    send_to_journey ignores), with an event and/or conditions that must all hold."""

    type: Literal["real_time", "scheduled"] = "real_time"
    schedule: str | None = Field(default=None, min_length=1)
    event: EntryEvent | None = None
    conditions: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _schedule_matches_type(self) -> Entry:
        if self.type == "scheduled" and self.schedule is None:
            raise _FieldError("schedule", 'is required for a scheduled entry (e.g. "daily 09:00")')
        if self.type == "real_time" and self.schedule is not None:
            raise _FieldError("schedule", "only a scheduled entry has a schedule")
        return self


class AudienceRule(_Model):
    """Who may be in the journey: conditions that must all hold."""

    conditions: list[Condition] = Field(default_factory=list)


class Journey(_Model):
    """One journey: status, entry rule, audience rule and ordered steps."""

    name: str = Field(min_length=1)
    status: Literal["draft", "idle", "active"] = "draft"
    description: str | None = None
    entry: Entry = Field(default_factory=Entry)
    audience: AudienceRule = Field(default_factory=AudienceRule)
    steps: list[Step] = Field(min_length=1)

    def walk(self) -> Iterator[tuple[str, _Step]]:
        """Every step with its path (``steps[2].if_true[0]``), depth first, in file order."""
        yield from _walk(self.steps, "steps")


def _walk(steps: Sequence[_Step], prefix: str) -> Iterator[tuple[str, _Step]]:
    for index, step in enumerate(steps):
        path = f"{prefix}[{index}]"
        yield path, step
        if isinstance(step, TrueFalseSplitStep):
            yield from _walk(step.if_true, f"{path}.if_true")
            yield from _walk(step.if_false, f"{path}.if_false")


class SpaceInfo(_Model):
    """The Engage space (``spa_...``) whose keys the steps get."""

    id: str = Field(pattern=r"^spa_[A-Za-z0-9_]+$")
    name: str = ""


class JourneyFile(_Model):
    """A journey file: one space and its journeys. Step keys are assigned on load, in file
    order, by the space's :class:`~sdk.KeyRegistry` (stable and unique in the space)."""

    version: Literal[1] = 1
    space: SpaceInfo
    journeys: list[Journey] = Field(min_length=1)
    _space: Space | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_check(self) -> JourneyFile:
        names: dict[str, int] = {}
        for index, journey in enumerate(self.journeys):
            if journey.name in names:
                raise _FieldError(
                    f"journeys[{index}].name",
                    f"{journey.name!r} is already the name of journeys[{names[journey.name]}]",
                )
            names[journey.name] = index
        step_ids: dict[str, str] = {}
        for index, journey in enumerate(self.journeys):
            labels: dict[str, str] = {}
            for path, step in journey.walk():
                where = f"journeys[{index}].{path}"
                if step.name and step.id is None:
                    if step.name in labels:
                        raise _FieldError(
                            f"{where}.name",
                            f"{step.name!r} is already a step of this journey "
                            f"({labels[step.name]}); rename it or give both an id",
                        )
                    labels[step.name] = path
                if step.id is not None:
                    if step.id in step_ids:
                        raise _FieldError(
                            f"{where}.id", f"{step.id!r} is already the id of {step_ids[step.id]}"
                        )
                    step_ids[step.id] = where
                if isinstance(step, SendToJourneyStep):
                    if step.journey == journey.name:
                        raise _FieldError(
                            f"{where}.journey", "a journey cannot send users to itself"
                        )
                    if step.journey not in names:
                        known = ", ".join(repr(n) for n in names)
                        raise _FieldError(
                            f"{where}.journey",
                            f"no journey named {step.journey!r} in this file (known: {known})",
                        )
        self._compile()
        return self

    def _compile(self) -> None:
        space = Space(self.space.id)
        for journey in self.journeys:
            for _, step in journey.walk():
                if isinstance(step, (SendToDestinationsStep, SendToJourneyStep)):
                    step_id = step.id or default_step_id(space.id, journey.name, step.name)
                    destinations = (
                        [d.name for d in step.destinations]
                        if isinstance(step, SendToDestinationsStep)
                        else []
                    )
                    audience_id = (
                        step.audience_id if isinstance(step, SendToDestinationsStep) else None
                    )
                    step._compiled = space.step(
                        journey.name,
                        step.name,
                        step_id=step_id,
                        destinations=destinations,
                        audience_id=audience_id,
                    )
        self._space = space

    @property
    def space_id(self) -> str:
        """The space id (``spa_...``)."""
        return self.space.id

    def journey(self, name: str | None = None) -> Journey:
        """The journey of that name (the first when ``None``); ``InvalidJourney`` if unknown."""
        if name is None:
            return self.journeys[0]
        for journey in self.journeys:
            if journey.name == name:
                return journey
        known = ", ".join(repr(j.name) for j in self.journeys)
        raise InvalidJourney("journey", f"no journey named {name!r} in this file (known: {known})")

    def keys(self) -> dict[str, str]:
        """Every step key of the file: ``"<journey> / <step>"`` -> key."""
        found: dict[str, str] = {}
        for journey in self.journeys:
            for _, step in journey.walk():
                if isinstance(step, (SendToDestinationsStep, SendToJourneyStep)):
                    found[f"{journey.name} / {step.name}"] = step.key
        return found


for _model in (AllCondition, AnyCondition, NotCondition, TrueFalseSplitStep, Journey, JourneyFile):
    _model.model_rebuild()


# -- user profiles -----------------------------------------------------------------------------


class IdentifierValue(_Model):
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
        return None if value is None else _utc(value)


class ProfileEvent(_Model):
    """An event in the user's history."""

    event: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _utc(value)


class UserProfile(_Model):
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
            raise _FieldError("user_id", "one of user_id or anonymous_id is required")
        return self

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)

    @property
    def label(self) -> str:
        """The user id, or ``anonymous <id>``."""
        return self.user_id or f"anonymous {self.anonymous_id}"


# -- loading -----------------------------------------------------------------------------------


def _read_document(path: str | Path, what: str) -> Any:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidJourney(what, f"cannot read {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidJourney(what, f"{file} is not UTF-8 text") from None
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidJourney(
            what, f"{file} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InvalidJourney(what, f"{file} is not valid YAML ({problem}{where})") from None


def parse_journey_file(data: Any) -> JourneyFile:
    """Validate a journey file given as a mapping; ``InvalidJourney`` names the path."""
    if isinstance(data, JourneyFile):
        return data
    if not isinstance(data, Mapping):
        raise InvalidJourney("journey file", "must be a mapping with space and journeys")
    try:
        return JourneyFile.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None


def load_journey_file(path: str | Path) -> JourneyFile:
    """Read and validate a journey file (``.json`` as JSON, anything else as YAML)."""
    return parse_journey_file(_read_document(path, "journey file"))


def parse_user_profile(data: Any) -> UserProfile:
    """Validate a user profile given as a mapping; errors are ``user.<path>: <rule>``."""
    if isinstance(data, UserProfile):
        return data
    if not isinstance(data, Mapping):
        raise InvalidJourney("user", "must be a mapping (user_id, traits, identifiers, events)")
    try:
        return UserProfile.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, "user") from None


def load_user_profile(path: str | Path) -> UserProfile:
    """Read and validate a user profile file (JSON or YAML)."""
    return parse_user_profile(_read_document(path, "user file"))


# -- the preview result -----------------------------------------------------------------------


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
            "at": _iso(self.at),
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
            "entered_at": _iso(self.entered_at),
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
        return list(dict.fromkeys(e.destination for e in self.messages))

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
            "as_of": _iso(self.as_of),
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


# -- running a user through a journey ---------------------------------------------------------


@dataclass
class _UserState:
    """The user at the moment: the clock, traits as updated so far, the journey context."""

    profile: UserProfile
    clock: datetime
    traits: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)

    def entering(self, context: Mapping[str, Any]) -> _UserState:
        """A snapshot for a destination journey: this moment, these traits, its own context.
        The two journeys then run side by side: neither moves the other's clock or traits."""
        return _UserState(self.profile, self.clock, dict(self.traits), dict(context))

    def count(self, event: str, *, within_days: float | None, where: Mapping[str, Any]) -> int:
        start = self.clock - timedelta(days=within_days) if within_days is not None else None
        total = 0
        for item in self.profile.events:
            if item.event != event or item.timestamp > self.clock:
                continue
            if start is not None and item.timestamp <= start:
                continue
            if all(
                name in item.properties and _same(item.properties[name], value)
                for name, value in where.items()
            ):
                total += 1
        return total

    def identifier_values(self, name: str) -> list[tuple[datetime | None, int, str]]:
        values = self.profile.identifiers.get(name, [])
        return [
            (v.at, position, v.value)
            for position, v in enumerate(values)
            if v.at is None or v.at <= self.clock
        ]

    def future_moments(self, until: datetime | None) -> list[datetime]:
        moments = {
            e.timestamp
            for e in self.profile.events
            if e.timestamp > self.clock and (until is None or e.timestamp <= until)
        }
        return sorted(moments)


class _Stop(Exception):
    """The user stops in this run (waiting, or exited)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class _Runner:
    """Runs one user through journeys; ``entered`` makes journey entry one-time per run."""

    def __init__(self, file: JourneyFile) -> None:
        self.file = file
        self.entered: set[str] = set()

    def criteria(self, journey: Journey, state: _UserState) -> list[Criterion]:
        found: list[Criterion] = []
        if journey.entry.event is not None:
            rule = journey.entry.event.as_condition()
            found.append(Criterion(f"entry event: {rule.describe()}", rule.evaluate(state)))
        for condition in journey.entry.conditions:
            found.append(Criterion(f"entry: {condition.describe()}", condition.evaluate(state)))
        for condition in journey.audience.conditions:
            found.append(Criterion(f"audience: {condition.describe()}", condition.evaluate(state)))
        return found

    def run(
        self, journey: Journey, state: _UserState, via: Literal["entry", "send_to_journey"]
    ) -> JourneyRun:
        self.entered.add(journey.name)
        criteria = self.criteria(journey, state)
        run = JourneyRun(
            journey=journey.name,
            status=journey.status,
            via=via,
            eligible=all(c.met for c in criteria),
            entered_at=state.clock,
            criteria=criteria,
            context=dict(state.context),
            notes=_notes(journey, via),
        )
        if not run.eligible:
            run.outcome = "not eligible"
            return run
        try:
            self.steps(journey, journey.steps, "steps", state, run)
        except _Stop as stop:
            run.outcome = stop.outcome
        return run

    def steps(
        self,
        journey: Journey,
        steps: Sequence[_Step],
        prefix: str,
        state: _UserState,
        run: JourneyRun,
    ) -> None:
        for index, step in enumerate(steps):
            path = f"{prefix}[{index}]"
            visit = StepVisit(path, step.TYPE, step.label, state.clock, "", "")
            run.path.append(visit)
            if isinstance(step, SendToDestinationsStep):
                self.send_to_destinations(journey, step, path, state, visit)
            elif isinstance(step, SendToJourneyStep):
                self.send_to_journey(journey, step, state, visit)
            elif isinstance(step, TrueFalseSplitStep):
                holds = step.condition.evaluate(state)
                visit.outcome = "true" if holds else "false"
                branch = step.if_true if holds else step.if_false
                visit.detail = f"{step.condition.describe()}: {'yes' if holds else 'no'}" + (
                    "" if branch else "; no steps on this branch, goes on"
                )
                self.steps(
                    journey, branch, f"{path}.{'if_true' if holds else 'if_false'}", state, run
                )
            elif isinstance(step, WaitForConditionStep):
                self.wait_for_condition(step, state, visit)
            elif isinstance(step, WaitStep):
                state.clock += step.duration
                visit.outcome = "waited"
                visit.detail = f"{_duration(step.duration)}, until {_iso(state.clock)}"
            elif isinstance(step, UpdateTraitsStep):
                for name, value in step.traits.items():
                    if value is None:
                        state.traits.pop(name, None)
                    else:
                        state.traits[name] = value
                visit.outcome = "traits updated"
                visit.detail = "set " + ", ".join(
                    f"{name}={_show(value)}" for name, value in step.traits.items()
                )
            elif isinstance(step, ExitStep):
                visit.outcome = "exited"
                visit.detail = "leaves the journey"
                raise _Stop("exited")

    def wait_for_condition(
        self, step: WaitForConditionStep, state: _UserState, visit: StepVisit
    ) -> None:
        condition = step.condition
        deadline = (
            state.clock + timedelta(days=step.max_wait_days)
            if step.max_wait_days is not None
            else None
        )
        started = state.clock
        for moment in [state.clock, *state.future_moments(deadline)]:
            state.clock = moment
            if condition.evaluate(state):
                waited = moment - started
                visit.outcome = "condition met"
                visit.detail = condition.describe() + (
                    f": met after {_duration(waited)}" if waited else ": met on arrival"
                )
                return
        state.clock = started
        if deadline is None:
            visit.outcome = "waiting"
            visit.detail = f"{condition.describe()}: not met; the user waits here"
            raise _Stop("waiting")
        state.clock = deadline
        visit.outcome = "timed out"
        waited_text = _duration(deadline - started)
        if step.on_timeout == "continue":
            visit.detail = f"{condition.describe()}: not met within {waited_text}; goes on"
            return
        visit.detail = f"{condition.describe()}: not met within {waited_text}; exits"
        raise _Stop("exited")

    def send_to_journey(
        self, source: Journey, step: SendToJourneyStep, state: _UserState, visit: StepVisit
    ) -> None:
        target = self.file.journey(step.journey)
        visit.key = step.key
        if target.name in self.entered:
            visit.outcome = "already entered"
            visit.detail = (
                f"{target.name} earlier in this run (entry is one-time); continues in {source.name}"
            )
            visit.entry = JourneyEntry(
                target.name, target.status, False, False, "already entered (one-time entry)"
            )
            return
        criteria = self.criteria(target, state)
        eligible = all(c.met for c in criteria)
        if not eligible:
            failed = "; ".join(c.rule for c in criteria if not c.met)
            visit.outcome = "not eligible"
            visit.detail = f"for {target.name} ({failed}); continues in {source.name} only"
            visit.entry = JourneyEntry(
                target.name, target.status, False, False, f"not met: {failed}", criteria
            )
            return
        context = {
            **state.context,
            **step.context,
            "source_space_id": self.file.space_id,
            "source_journey": source.name,
            "source_step": step.name,
            "source_step_id": step._compiled.id if step._compiled else "",
            "source_step_key": step.key,
            "entered_at": _iso(state.clock),
        }
        run = self.run(target, state.entering(context), "send_to_journey")
        visit.outcome = "entered"
        visit.detail = (
            f"{target.name} ({target.status}) at its first step; also continues in {source.name}"
        )
        visit.entry = JourneyEntry(
            target.name,
            target.status,
            True,
            True,
            "met entry and audience criteria",
            criteria,
            context,
            run,
        )

    def send_to_destinations(
        self,
        journey: Journey,
        step: SendToDestinationsStep,
        path: str,
        state: _UserState,
        visit: StepVisit,
    ) -> None:
        compiled = step.compiled
        visit.key = compiled.key
        parts: list[str] = []
        for destination in step.destinations:
            emissions, missing = _emit(journey, step, path, destination, state)
            visit.emissions.extend(emissions)
            counts = [
                f"{sum(e.call == call for e in emissions)} {call}" for call in destination.events
            ]
            parts.append(f"{destination.name} ({', '.join(counts)})")
            if missing:
                visit.notes.append(
                    f"{destination.name}: trait enrichment skipped {', '.join(missing)} "
                    "(not on the profile)"
                )
        visit.outcome = "sent"
        visit.detail = "to " + ", ".join(parts)


def _notes(journey: Journey, via: str) -> list[str]:
    notes: list[str] = []
    if via == "send_to_journey":
        if journey.entry.type == "scheduled":
            notes.append(
                f"scheduled entry ({journey.entry.schedule}) ignored: sent users enter at once"
            )
        if journey.status != "active":
            notes.append(f"{journey.status} journey: send_to_journey may enter users into it")
    else:
        if journey.entry.type == "scheduled":
            notes.append(
                f"scheduled entry ({journey.entry.schedule}): previewed as if its window "
                "opened at the preview's start"
            )
        if journey.status != "active":
            notes.append(f"{journey.status} journey: previewed; it enters no one until active")
    return notes


def _emit(
    journey: Journey,
    step: SendToDestinationsStep,
    path: str,
    destination: ConnectedDestination,
    state: _UserState,
) -> tuple[list[Emission], list[str]]:
    """The events one connected destination receives: one per call type, times one per extra
    identifier value that ID Sync sends (Segment sends one event per identifier value)."""
    compiled = step.compiled
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
                [compiled.space.id, compiled.id, destination.name, call, user.label, str(index)]
            )
            message = membership_event(
                call,
                compiled.personas(),
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
                Emission(
                    destination.name, call, journey.name, step.name, path, compiled.key, message
                )
            )
    return emissions, missing


def preview(
    journey_file: JourneyFile | Mapping[str, Any] | str | Path,
    user: UserProfile | Mapping[str, Any] | str | Path,
    journey: str | None = None,
) -> Preview:
    """Run ``user`` through ``journey`` (the file's first when ``None``) and return the path,
    the journeys entered on the way and every event the destinations would receive. Nothing
    is sent."""
    file = (
        load_journey_file(journey_file)
        if isinstance(journey_file, (str, Path))
        else parse_journey_file(journey_file)
    )
    profile = load_user_profile(user) if isinstance(user, (str, Path)) else parse_user_profile(user)
    chosen = file.journey(journey)
    as_of = profile.as_of or datetime.now(UTC)
    state = _UserState(profile=profile, clock=as_of, traits=dict(profile.traits))
    run = _Runner(file).run(chosen, state, "entry")
    return Preview(file.space.id, file.space.name, profile, as_of, run)


# -- sending -----------------------------------------------------------------------------------


def _settings_for(
    destination: Destination[Any], given: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, settings in given.items():
        if name == destination.name or name.lower() in (
            destination.slug.lower(),
            destination.name.lower(),
        ):
            values.update(settings)
    return values


def _destinations(preview: Preview) -> list[Destination[Any]]:
    found: list[Destination[Any]] = []
    for name in preview.destinations:
        destination = get_destination(name)
        if destination.name != name:
            raise InvalidJourney(
                "destinations",
                f"{name!r} must be written as the connector's integrations name "
                f"{destination.name!r}, or its events are filtered at destination",
            )
        found.append(destination)
    return found


def missing_settings(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Required settings that neither ``settings_by_destination`` nor the environment give,
    as ``"<Destination>.<setting>"``, for every destination the preview sends to."""
    given = settings_by_destination or {}
    env = os.environ if environ is None else environ
    missing: list[str] = []
    for destination in _destinations(preview):
        values = _settings_for(destination, given)
        for setting in setting_fields(destination.settings):
            if not setting.required or values.get(setting.name) is not None:
                continue
            if env_var_name(destination.slug, setting.name) in env:
                continue
            missing.append(f"{destination.name}.{setting.name}")
    return missing


def _validated(
    preview: Preview, settings_by_destination: Mapping[str, Mapping[str, Any]] | None
) -> list[tuple[Destination[Any], Any]]:
    missing = missing_settings(preview, settings_by_destination)
    if missing:
        raise InvalidSettings(", ".join(missing), "required to send this preview")
    planned: list[tuple[Destination[Any], Any]] = []
    for destination in _destinations(preview):
        values = _settings_for(destination, settings_by_destination or {})
        try:
            settings = load_settings(destination.settings, values, slug=destination.slug)
        except InvalidSettings as exc:
            raise InvalidSettings(f"{destination.name}.{exc.field}", exc.rule) from None
        planned.append((destination, settings))
    return planned


async def send_preview_async(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_update: Callable[[Lifecycle], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Lifecycle]:
    """Deliver every event of the preview to every destination it names, through
    :class:`~sdk.AsyncDelivery`. Each destination receives all of them and the integrations
    object decides: its own events are delivered, the others' are ``filtered``. Lifecycles come
    back destination by destination, in the preview's order.

    Settings (keyed by destination name or slug) are checked for every destination before
    anything is sent: a missing or bad one is an ``InvalidSettings`` naming it.
    """
    planned = _validated(preview, settings_by_destination)
    messages = [emission.message for emission in preview.messages]
    lifecycles: list[Lifecycle] = []
    for destination, settings in planned:
        async with AsyncDelivery(
            destination,
            settings,
            retry=retry,
            sleep=sleep,
            on_update=on_update,
            transport=transport,
        ) as delivery:
            lifecycles.extend(await delivery.send_many(messages))
    return lifecycles


def send_preview(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    on_update: Callable[[Lifecycle], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Lifecycle]:
    """The synchronous twin of :func:`send_preview_async`: same arguments, same result."""
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    if sleep is not None:
        blocking = sleep

        async def async_sleep(seconds: float) -> None:
            blocking(seconds)

    return asyncio.run(
        send_preview_async(
            preview,
            settings_by_destination,
            retry=retry,
            sleep=async_sleep,
            on_update=on_update,
            transport=transport,
        )
    )
