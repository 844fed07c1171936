"""Integrations-object routing: the full truth table (``All`` absent/true/false x the
destination's own entry absent/true/false/options/other destination only), exact name matching,
and the reason strings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk import RoutingDecision, route

DEST = "Braze"
_ABSENT = object()

ALL_STATES: dict[str, Any] = {"all-absent": _ABSENT, "all-true": True, "all-false": False}
OWN_STATES: dict[str, dict[str, Any]] = {
    "own-absent": {},
    "own-true": {DEST: True},
    "own-false": {DEST: False},
    "own-options": {DEST: {"appId": "abc"}},
    "own-empty-options": {DEST: {}},
    "other-only": {"Amplitude": True},
}

_NAMED_TRUE = (True, 'integrations["Braze"] is true')
_NAMED_FALSE = (False, 'integrations["Braze"] is false')
_OPTIONS = (True, 'integrations["Braze"] is an object of options')
_DEFAULT = (True, '"Braze" is not named and integrations.All defaults to true')
_ALL_TRUE = (True, '"Braze" is not named and integrations.All is true')
_ALL_FALSE = (False, 'integrations.All is false and "Braze" is not enabled')

# Written out row by row (not computed from a rule), so a wrong row or a missing one shows.
EXPECTED: dict[tuple[str, str], tuple[bool, str]] = {
    ("all-absent", "own-absent"): _DEFAULT,
    ("all-absent", "own-true"): _NAMED_TRUE,
    ("all-absent", "own-false"): _NAMED_FALSE,
    ("all-absent", "own-options"): _OPTIONS,
    ("all-absent", "own-empty-options"): _OPTIONS,
    ("all-absent", "other-only"): _DEFAULT,
    ("all-true", "own-absent"): _ALL_TRUE,
    ("all-true", "own-true"): _NAMED_TRUE,
    ("all-true", "own-false"): _NAMED_FALSE,
    ("all-true", "own-options"): _OPTIONS,
    ("all-true", "own-empty-options"): _OPTIONS,
    ("all-true", "other-only"): _ALL_TRUE,
    ("all-false", "own-absent"): _ALL_FALSE,
    ("all-false", "own-true"): _NAMED_TRUE,
    ("all-false", "own-false"): _NAMED_FALSE,
    ("all-false", "own-options"): _OPTIONS,
    ("all-false", "own-empty-options"): _OPTIONS,
    ("all-false", "other-only"): _ALL_FALSE,
}


def _integrations(all_name: str, own_name: str) -> dict[str, Any]:
    integrations = dict(OWN_STATES[own_name])
    if ALL_STATES[all_name] is not _ABSENT:
        integrations["All"] = ALL_STATES[all_name]
    return integrations


TRUTH_TABLE = [
    pytest.param(_integrations(a, o), *EXPECTED[a, o], id=f"{a}-{o}") for a, o in EXPECTED
]


def test_the_truth_table_is_complete() -> None:
    # Every combination of All's state and the destination's own entry has exactly one row ...
    combinations = {(a, o) for a in ALL_STATES for o in OWN_STATES}
    assert set(EXPECTED) == combinations
    assert len(EXPECTED) == len(combinations) == 18
    # ... and the rows between them reach every decision route() can make.
    assert {route(_integrations(a, o), DEST) for a, o in EXPECTED} == {
        RoutingDecision(*row)
        for row in (_NAMED_TRUE, _NAMED_FALSE, _OPTIONS, _DEFAULT, _ALL_TRUE, _ALL_FALSE)
    }


@pytest.mark.parametrize(("integrations", "delivered", "reason"), TRUTH_TABLE)
def test_truth_table(integrations: dict[str, Any], delivered: bool, reason: str) -> None:
    decision = route(integrations, DEST)
    assert decision == RoutingDecision(delivered, reason)
    label = "delivered" if delivered else "filtered at destination"
    assert decision.label == label
    assert str(decision) == f"{label}: {reason}"
    assert decision.to_dict() == {"decision": label, "delivered": delivered, "reason": reason}


def test_the_journey_payload_shape() -> None:
    integrations = {"All": False, "Braze": True}
    assert str(route(integrations, "Braze")) == 'delivered: integrations["Braze"] is true'
    assert str(route(integrations, "Amplitude")) == (
        'filtered at destination: integrations.All is false and "Amplitude" is not enabled'
    )


@pytest.mark.parametrize("integrations", [None, {}], ids=["none", "empty"])
def test_no_integrations_object_means_everyone(integrations: dict[str, Any] | None) -> None:
    assert route(integrations, DEST) == RoutingDecision(
        True, '"Braze" is not named and integrations.All defaults to true'
    )


@pytest.mark.parametrize(
    "name",
    ["braze", "BRAZE", "Braze ", " Braze", "Braze Cloud Mode"],
)
def test_names_match_exactly(name: str) -> None:
    integrations = {"All": False, DEST: True}
    decision = route(integrations, name)
    assert not decision.delivered
    assert decision.reason == f'integrations.All is false and "{name}" is not enabled'


def test_an_exact_false_entry_beats_all_true_but_not_other_spellings() -> None:
    integrations = {"All": True, "Braze": False}
    assert not route(integrations, "Braze").delivered
    assert route(integrations, "braze").delivered


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "null"), (0, "0"), ("", "''")],
    ids=["null", "zero", "empty-string"],
)
def test_other_falsy_own_entries_filter(value: Any, shown: str) -> None:
    decision = route({DEST: value}, DEST)
    assert decision == RoutingDecision(False, f'integrations["Braze"] is {shown}')


@pytest.mark.parametrize(
    ("value", "delivered", "shown"),
    [(None, False, "null"), (0, False, "0"), ({}, True, None), ({"x": 1}, True, None)],
    ids=["null", "zero", "empty-options", "options"],
)
def test_all_values_other_than_booleans(value: Any, delivered: bool, shown: str | None) -> None:
    decision = route({"All": value}, DEST)
    assert decision.delivered is delivered
    if shown is not None:
        assert decision.reason == f'integrations.All is {shown} and "Braze" is not enabled'


@settings(max_examples=300, deadline=None)
@given(
    integrations=st.dictionaries(
        st.sampled_from(["All", "Braze", "braze", "Amplitude"]),
        st.one_of(
            st.booleans(),
            st.none(),
            st.integers(-1, 1),
            st.text(max_size=2),
            st.dictionaries(st.text(max_size=2), st.booleans(), max_size=1),
            st.lists(st.booleans(), max_size=1),
        ),
    ),
    name=st.sampled_from(["All", "Braze", "braze", "Amplitude", "Mixpanel"]),
)
def test_any_integrations_object_follows_the_rule(integrations: dict[str, Any], name: str) -> None:
    def enabled(value: Any) -> bool:
        return isinstance(value, dict) or bool(value)

    expected = (
        enabled(integrations[name])
        if name in integrations
        else enabled(integrations.get("All", True))
    )
    decision = route(integrations, name)
    assert decision.delivered is expected
    assert decision.reason and "\n" not in decision.reason


def test_a_destination_named_all_follows_its_own_entry() -> None:
    # "All" is both the switch and, here, the destination's own entry: the entry wins.
    assert route({"All": False}, "All") == RoutingDecision(False, 'integrations["All"] is false')
