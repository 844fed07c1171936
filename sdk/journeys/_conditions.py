"""The condition vocabulary of journey files, and its evaluation at a moment.

A condition tests a profile trait (``{trait: plan, equals: gold}``), a journey context variable
(``{context: source_journey, equals: ...}``) or the event history (``{performed: ...,
within_days: 30}``), or combines others (``all``, ``any``, ``not``). Each one evaluates against
a :class:`~sdk.journeys._users.UserState` and describes itself in words for the preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeAlias

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from sdk.journeys._schema import MAX_DAYS, JourneyModel
from sdk.journeys._users import UserState, same

__all__ = [
    "CONDITION_KINDS",
    "NOT_A_MAPPING",
    "AllCondition",
    "AnyCondition",
    "Condition",
    "ContextCondition",
    "NotCondition",
    "PerformedCondition",
    "TraitCondition",
    "show",
]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def show(value: Any) -> str:
    """A value as the preview's descriptions write it (JSON: ``"gold"``, ``true``, ``[1, 2]``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


class _Operators(JourneyModel):
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
            return present and same(value, self.equals)
        if operator == "in":
            return present and any(same(value, item) for item in self.in_ or [])
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
            return f"equals {show(self.equals)}"
        if operator == "in":
            return f"in {show(self.in_)}"
        return f"{'>' if operator == 'gt' else '<'} {self.gt if operator == 'gt' else self.lt:g}"


class TraitCondition(_Operators):
    """A profile trait test: ``{trait: plan, equals: gold}``."""

    trait: str = Field(min_length=1)

    def evaluate(self, state: UserState) -> bool:
        """True when the trait, as it is at the moment, passes the test."""
        return self.test(self.trait in state.traits, state.traits.get(self.trait))

    def describe(self) -> str:
        """The condition in words."""
        return f"trait {self.trait} {self.describe_test()}"


class ContextCondition(_Operators):
    """A journey context test: ``{context: source_journey, equals: First Purchase}``."""

    context: str = Field(min_length=1)

    def evaluate(self, state: UserState) -> bool:
        """True when the context variable passes the test."""
        return self.test(self.context in state.context, state.context.get(self.context))

    def describe(self) -> str:
        """The condition in words."""
        return f"context {self.context} {self.describe_test()}"


class PerformedCondition(JourneyModel):
    """An event in the user's history: ``{performed: Order Completed, within_days: 30}``."""

    performed: str = Field(min_length=1)
    within_days: float | None = Field(default=None, gt=0, le=MAX_DAYS)
    where: dict[str, Any] = Field(default_factory=dict)
    at_least: int = Field(default=1, ge=1)

    def evaluate(self, state: UserState) -> bool:
        """True when the user did it (at least ``at_least`` times) by the moment."""
        return (
            state.count(self.performed, within_days=self.within_days, where=self.where)
            >= self.at_least
        )

    def describe(self) -> str:
        """The condition in words."""
        text = f"performed {show(self.performed)}"
        if self.at_least > 1:
            text += f" at least {self.at_least} times"
        if self.within_days is not None:
            text += f" within {self.within_days:g} days"
        if self.where:
            text += f" where {show(self.where)}"
        return text


class AllCondition(JourneyModel):
    """Every condition holds: ``{all: [...]}``."""

    all: list[Condition] = Field(min_length=1)

    def evaluate(self, state: UserState) -> bool:
        """True when every condition holds."""
        return all(c.evaluate(state) for c in self.all)

    def describe(self) -> str:
        """The condition in words."""
        return "(" + " and ".join(c.describe() for c in self.all) + ")"


class AnyCondition(JourneyModel):
    """At least one condition holds: ``{any: [...]}``."""

    any: list[Condition] = Field(min_length=1)

    def evaluate(self, state: UserState) -> bool:
        """True when one condition holds."""
        return any(c.evaluate(state) for c in self.any)

    def describe(self) -> str:
        """The condition in words."""
        return "(" + " or ".join(c.describe() for c in self.any) + ")"


class NotCondition(JourneyModel):
    """The condition does not hold: ``{not: {...}}``."""

    not_: Condition = Field(alias="not")

    def evaluate(self, state: UserState) -> bool:
        """True when the inner condition does not hold."""
        return not self.not_.evaluate(state)

    def describe(self) -> str:
        """The condition in words."""
        return f"not {self.not_.describe()}"


#: The key that says what a condition is, in the order error messages list them.
CONDITION_KINDS = ("trait", "context", "performed", "all", "any", "not")
#: The union tag given to a step or condition that is not a mapping, so its error says so.
NOT_A_MAPPING = "<not a mapping>"


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
        return f"condition:{NOT_A_MAPPING}"
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


for _model in (AllCondition, AnyCondition, NotCondition):
    _model.model_rebuild()
