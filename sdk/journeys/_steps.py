"""The step vocabulary of a journey: what each ``type`` of step holds and checks.

Waits (``wait``, ``wait_for_condition``), a ``true_false_split`` with its branches,
``update_traits``, ``exit``, and the two steps that have a key in the space:
``send_to_destinations`` (its connected destinations) and ``send_to_journey`` (another journey
of the file, always entered at its first step, with extra context). What the steps *do* is
:mod:`sdk.journeys._run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import Discriminator, Field, PrivateAttr, Tag, field_validator, model_validator

from sdk.engage._spaces import JourneyStep, Space
from sdk.journeys._conditions import NOT_A_MAPPING, Condition
from sdk.journeys._payloads import ConnectedDestination
from sdk.journeys._schema import MAX_DAYS, FieldError, JourneyModel

__all__ = [
    "SOURCE_CONTEXT_FIELDS",
    "STEP_TYPES",
    "BaseStep",
    "ExitStep",
    "KeyedStep",
    "SendToDestinationsStep",
    "SendToJourneyStep",
    "Step",
    "TrueFalseSplitStep",
    "UpdateTraitsStep",
    "WaitForConditionStep",
    "WaitStep",
]

#: Names the source context always carries into a destination journey.
SOURCE_CONTEXT_FIELDS = (
    "source_space_id",
    "source_journey",
    "source_step",
    "source_step_id",
    "source_step_key",
    "entered_at",
)


class BaseStep(JourneyModel):
    """What every step has: an optional name and stable ``id``; ``TYPE`` is its ``type``."""

    TYPE: ClassVar[str] = ""

    name: str = ""
    id: str | None = Field(default=None, min_length=1)

    @property
    def label(self) -> str:
        """The step's name, or its type when it has none."""
        return self.name or self.TYPE.replace("_", " ")


class WaitForConditionStep(BaseStep):
    """Wait until the condition holds; ``max_wait_days`` bounds the wait, after which the user
    exits (``on_timeout: exit``) or continues (``on_timeout: continue``)."""

    TYPE: ClassVar[str] = "wait_for_condition"
    type: Literal["wait_for_condition"]
    condition: Condition
    max_wait_days: float | None = Field(default=None, gt=0, le=MAX_DAYS)
    on_timeout: Literal["exit", "continue"] = "exit"


class WaitStep(BaseStep):
    """Wait a fixed time (the preview clock moves on)."""

    TYPE: ClassVar[str] = "wait"
    type: Literal["wait"]
    days: float = Field(default=0, ge=0)
    hours: float = Field(default=0, ge=0)
    minutes: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _some_time(self) -> WaitStep:
        if self.days + self.hours / 24 + self.minutes / 1440 > MAX_DAYS:
            raise FieldError("days", f"a wait must be at most {MAX_DAYS} days (100 years)")
        if self.duration <= timedelta(0):
            raise FieldError("days", "a wait needs days, hours or minutes above 0")
        return self

    @property
    def duration(self) -> timedelta:
        """How long the user waits."""
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


class KeyedStep(BaseStep):
    """A step with a key in the space (send_to_destinations, send_to_journey): the
    :class:`JourneyFile` that holds it gives it one on load, in file order."""

    _compiled: JourneyStep | None = PrivateAttr(default=None)

    def compile(self, space: Space, journey: str) -> None:
        """Take this step's key in ``space`` (its ``id``, or one derived from the names)."""
        self._compiled = space.step(journey, self.name, step_id=self.id)

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
        """The step key (``j_o_<journey>__<step>_<suffix>``); a destination journey sees a
        send_to_journey step's key as ``source_step_key``."""
        return self.compiled.key


class TrueFalseSplitStep(BaseStep):
    """Users for whom the condition holds take ``if_true``, the others ``if_false``; a branch
    left out (or empty) goes straight on. After its branch the user continues with the step
    after the split, unless the branch exits."""

    TYPE: ClassVar[str] = "true_false_split"
    type: Literal["true_false_split"]
    condition: Condition
    if_true: list[Step] = Field(default_factory=list)
    if_false: list[Step] = Field(default_factory=list)


class SendToDestinationsStep(KeyedStep):
    """Send the user, keyed by the step key, to the connected destinations."""

    TYPE: ClassVar[str] = "send_to_destinations"
    type: Literal["send_to_destinations"]
    name: str = Field(min_length=1)
    audience_id: str | None = Field(default=None, pattern=r"^aud_[A-Za-z0-9_]+$")
    destinations: list[ConnectedDestination] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_destinations(self) -> SendToDestinationsStep:
        names: list[str] = []
        for index, destination in enumerate(self.destinations):
            if destination.name in names:
                raise FieldError(
                    f"destinations[{index}].name",
                    f"{destination.name!r} is already connected to this step",
                )
            names.append(destination.name)
        return self

    def compile(self, space: Space, journey: str) -> None:
        """Take this step's key in ``space``, with its destinations and audience id."""
        self._compiled = space.step(
            journey,
            self.name,
            step_id=self.id,
            destinations=[d.name for d in self.destinations],
            audience_id=self.audience_id,
        )


class SendToJourneyStep(KeyedStep):
    """Send the user into another journey of the file (Braze Canvas "Send to Destination")."""

    TYPE: ClassVar[str] = "send_to_journey"
    type: Literal["send_to_journey"]
    name: str = Field(min_length=1)
    journey: str = Field(min_length=1)
    context: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _first_step_only(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for name in ("step", "at_step", "entry_step", "destination_step"):
                if name in data:
                    raise FieldError(
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
                raise FieldError(name, "is set by destkit (the source context); pick another name")
        return value


class UpdateTraitsStep(BaseStep):
    """Set profile traits (``null`` removes one), as a Braze User Update step does."""

    TYPE: ClassVar[str] = "update_traits"
    type: Literal["update_traits"]
    traits: dict[str, Any] = Field(min_length=1)


class ExitStep(BaseStep):
    """Leave the journey here."""

    TYPE: ClassVar[str] = "exit"
    type: Literal["exit"]


_STEP_CLASSES: tuple[type[BaseStep], ...] = (
    WaitForConditionStep,
    TrueFalseSplitStep,
    SendToDestinationsStep,
    SendToJourneyStep,
    WaitStep,
    UpdateTraitsStep,
    ExitStep,
)
#: The ``type`` of every step, in the order error messages list them.
STEP_TYPES = tuple(cls.TYPE for cls in _STEP_CLASSES)


def _step_kind(value: Any) -> str | None:
    if isinstance(value, BaseStep):
        return f"step:{value.TYPE}"
    if not isinstance(value, Mapping):
        return f"step:{NOT_A_MAPPING}"
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


TrueFalseSplitStep.model_rebuild()
