"""Integrations-object routing: the full truth table (``All`` absent/true/false x the
destination's own entry absent/true/false/options/other destination only), exact name matching,
and the reason strings."""

from __future__ import annotations

from typing import Any

import pytest

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

NOT_NAMED = {
    "all-absent": (True, '"Braze" is not named and integrations.All defaults to true'),
    "all-true": (True, '"Braze" is not named and integrations.All is true'),
    "all-false": (False, 'integrations.All is false and "Braze" is not enabled'),
}
OWN_ENTRY = {
    "own-true": (True, 'integrations["Braze"] is true'),
    "own-false": (False, 'integrations["Braze"] is false'),
    "own-options": (True, 'integrations["Braze"] is an object of options'),
    "own-empty-options": (True, 'integrations["Braze"] is an object of options'),
}


def _cases() -> list[Any]:
    cases = []
    for all_name, all_value in ALL_STATES.items():
        for own_name, own in OWN_STATES.items():
            integrations = dict(own)
            if all_value is not _ABSENT:
                integrations["All"] = all_value
            if own_name in OWN_ENTRY:
                delivered, reason = OWN_ENTRY[own_name]  # the own entry wins over All
            else:
                delivered, reason = NOT_NAMED[all_name]
            cases.append(pytest.param(integrations, delivered, reason, id=f"{all_name}-{own_name}"))
    return cases


TRUTH_TABLE = _cases()


def test_the_truth_table_is_complete() -> None:
    assert len(TRUTH_TABLE) == len(ALL_STATES) * len(OWN_STATES) == 18


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


def test_a_destination_named_all_follows_its_own_entry() -> None:
    # "All" is both the switch and, here, the destination's own entry: the entry wins.
    assert route({"All": False}, "All") == RoutingDecision(False, 'integrations["All"] is false')
