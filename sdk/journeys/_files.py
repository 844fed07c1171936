"""Journey files and user files: the schema of a file, its one-line errors, reading it.

A journey file (YAML or JSON, ``docs/journeys.md`` is the reference) holds a space and its
journeys: each with a status (``draft``, ``idle``, ``active``), an entry rule (an event and/or
conditions, ``real_time`` or ``scheduled``), an audience rule and ordered steps
(:mod:`sdk.journeys._steps`). Loading one checks it across journeys (unique names and ids,
send_to_journey targets) and gives every keyed step its key in the space, in file order.

Errors are one line naming the path in the file (``journeys[0].steps[2].destinations: must not
be empty``), never a pydantic dump.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from sdk._documents import read_document
from sdk._errors import InvalidJourney
from sdk.engage._spaces import Space
from sdk.journeys._conditions import CONDITION_KINDS, NOT_A_MAPPING, Condition, PerformedCondition
from sdk.journeys._schema import MAX_DAYS, FieldError, JourneyModel
from sdk.journeys._steps import (
    STEP_TYPES,
    BaseStep,
    KeyedStep,
    SendToJourneyStep,
    Step,
    TrueFalseSplitStep,
)
from sdk.journeys._users import UserProfile

__all__ = [
    "AudienceRule",
    "Entry",
    "EntryEvent",
    "Journey",
    "JourneyFile",
    "SpaceInfo",
    "load_journey_file",
    "load_user_profile",
    "parse_journey_file",
    "parse_user_profile",
]


class EntryEvent(JourneyModel):
    """The event that enters users: a name, or ``{name, within_days, where}``."""

    name: str = Field(min_length=1)
    within_days: float | None = Field(default=None, gt=0, le=MAX_DAYS)
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


class Entry(JourneyModel):
    """How users enter: ``real_time`` or ``scheduled`` (its ``schedule`` is a description that
    send_to_journey ignores), with an event and/or conditions that must all hold."""

    type: Literal["real_time", "scheduled"] = "real_time"
    schedule: str | None = Field(default=None, min_length=1)
    event: EntryEvent | None = None
    conditions: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _schedule_matches_type(self) -> Entry:
        if self.type == "scheduled" and self.schedule is None:
            raise FieldError("schedule", 'is required for a scheduled entry (e.g. "daily 09:00")')
        if self.type == "real_time" and self.schedule is not None:
            raise FieldError("schedule", "only a scheduled entry has a schedule")
        return self


class AudienceRule(JourneyModel):
    """Who may be in the journey: conditions that must all hold."""

    conditions: list[Condition] = Field(default_factory=list)


class Journey(JourneyModel):
    """One journey: status, entry rule, audience rule and ordered steps."""

    name: str = Field(min_length=1)
    status: Literal["draft", "idle", "active"] = "draft"
    description: str | None = None
    entry: Entry = Field(default_factory=Entry)
    audience: AudienceRule = Field(default_factory=AudienceRule)
    steps: list[Step] = Field(min_length=1)

    def walk(self) -> Iterator[tuple[str, BaseStep]]:
        """Every step with its path (``steps[2].if_true[0]``), depth first, in file order."""
        yield from _walk(self.steps, "steps")


def _walk(steps: Sequence[BaseStep], prefix: str) -> Iterator[tuple[str, BaseStep]]:
    for index, step in enumerate(steps):
        path = f"{prefix}[{index}]"
        yield path, step
        if isinstance(step, TrueFalseSplitStep):
            yield from _walk(step.if_true, f"{path}.if_true")
            yield from _walk(step.if_false, f"{path}.if_false")


class SpaceInfo(JourneyModel):
    """The Engage space (``spa_...``) whose keys the steps get."""

    id: str = Field(pattern=r"^spa_[A-Za-z0-9_]+$")
    name: str = ""


class JourneyFile(JourneyModel):
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
                raise FieldError(
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
                        raise FieldError(
                            f"{where}.name",
                            f"{step.name!r} is already a step of this journey "
                            f"({labels[step.name]}); rename it or give both an id",
                        )
                    labels[step.name] = path
                if step.id is not None:
                    if step.id in step_ids:
                        raise FieldError(
                            f"{where}.id", f"{step.id!r} is already the id of {step_ids[step.id]}"
                        )
                    step_ids[step.id] = where
                if isinstance(step, SendToJourneyStep):
                    if step.journey == journey.name:
                        raise FieldError(
                            f"{where}.journey", "a journey cannot send users to itself"
                        )
                    if step.journey not in names:
                        known = ", ".join(repr(n) for n in names)
                        raise FieldError(
                            f"{where}.journey",
                            f"no journey named {step.journey!r} in this file (known: {known})",
                        )
        self._compile()
        return self

    def _compile(self) -> None:
        space = Space(self.space.id)
        for journey in self.journeys:
            for _, step in journey.walk():
                if isinstance(step, KeyedStep):
                    step.compile(space, journey.name)
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
                if isinstance(step, KeyedStep):
                    found[f"{journey.name} / {step.name}"] = step.key
        return found


# -- one-line errors ---------------------------------------------------------------------------


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
    """The extra path (from a :class:`FieldError`) and the rule of one pydantic error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    exc = ctx.get("error")
    if isinstance(exc, FieldError):
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
        if value == NOT_A_MAPPING:
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


# -- reading files -----------------------------------------------------------------------------


def _read_document(path: str | Path, what: str) -> Any:
    return read_document(path, what, InvalidJourney)


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
