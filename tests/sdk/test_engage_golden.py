"""Golden tests: the seeds' track and identify payloads (Segment docs, "Send Journeys data to a
Destination"), reproduced whole, with the boolean ``true``, the full ``context.personas`` object and
the integrations object; audiences exit, journey steps never do."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

import sdk
from sdk import (
    AUDIENCE_ENTERED,
    AUDIENCE_EXITED,
    ComputationClass,
    Identify,
    InvalidEvent,
    PersonasContext,
    Space,
    Track,
    integrations_for,
    membership_event,
    membership_of,
    message_to_json,
    parse_message,
    route,
)

SEED_KEY = "j_o_first_purchase__opened_email_dje83h"

# Copied from the seed (comments removed). Its ``computation_key`` placeholder "j_o_###" stands
# for the step key itself, which the goldens below fill in.
SEED_PERSONAS = {
    "computation_class": "audience",
    "computation_id": "aud_###",
    "computation_key": "j_o_###",
    "namespace": "spa_###",
    "space_id": "spa_###",
}
SEED_TRACK = {
    "context": {"personas": SEED_PERSONAS},
    "type": "track",
    "event": "Audience Entered",
    "properties": {SEED_KEY: "true"},
}
SEED_IDENTIFY = {
    "context": {"personas": SEED_PERSONAS},
    "type": "identify",
    "traits": {SEED_KEY: "true"},
}

GENERATED = ("messageId", "timestamp")


def seed_personas() -> PersonasContext:
    return PersonasContext(
        computation_class=ComputationClass.AUDIENCE,
        computation_id="aud_###",
        computation_key=SEED_KEY,
        space_id="spa_###",
    )


def expected_from_seed(seed: dict[str, Any], value: bool = True) -> dict[str, Any]:
    """The seed as destkit emits it: boolean value, real key, user id and integrations."""
    expected = copy.deepcopy(seed)
    expected["context"]["personas"]["computation_key"] = SEED_KEY
    values = expected["properties" if seed["type"] == "track" else "traits"]
    values[SEED_KEY] = value
    expected["userId"] = "user-1"
    expected["integrations"] = {"All": False, "Braze": True}
    return expected


def without_generated(wire: dict[str, Any]) -> dict[str, Any]:
    for name in GENERATED:
        assert wire.get(name), f"{name} must be generated"
    return {name: value for name, value in wire.items() if name not in GENERATED}


@pytest.mark.parametrize(("call", "seed"), [("track", SEED_TRACK), ("identify", SEED_IDENTIFY)])
def test_the_seed_payload_is_reproduced_whole(call: str, seed: dict[str, Any]) -> None:
    event = membership_event(
        call,  # type: ignore[arg-type]
        seed_personas(),
        user_id="user-1",
        destinations=["Braze"],
    )
    wire = json.loads(message_to_json(event))
    assert without_generated(wire) == expected_from_seed(seed)


@pytest.mark.parametrize(("call", "field"), [("track", "properties"), ("identify", "traits")])
def test_the_value_is_the_boolean_true_not_the_string(call: str, field: str) -> None:
    event = membership_event(call, seed_personas(), user_id="u")  # type: ignore[arg-type]
    assert event.to_wire()[field][SEED_KEY] is True
    assert f'"{field}":{{"{SEED_KEY}":true}}'.encode() in message_to_json(event)


def test_personas_has_the_five_fields_in_the_seeds_order() -> None:
    wire = membership_event("track", seed_personas(), user_id="u").to_wire()
    assert list(wire["context"]["personas"]) == list(SEED_PERSONAS)
    assert wire["context"]["personas"]["namespace"] == "spa_###"  # defaults to the space id


def test_an_explicit_namespace_is_kept() -> None:
    personas = PersonasContext(ComputationClass.AUDIENCE, "aud_1", "k", "spa_1", namespace="ns")
    assert personas.to_dict()["namespace"] == "ns"
    assert personas.to_dict()["space_id"] == "spa_1"


def test_given_message_id_and_timestamp_are_used() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    event = membership_event(
        "identify", seed_personas(), user_id="u", message_id="m-1", timestamp=when
    )
    assert event.message_id == "m-1"
    assert event.timestamp == when


def test_extra_values_sit_beside_the_key() -> None:
    event = membership_event(
        "identify", seed_personas(), user_id="u", extra={"email": "a@example.com"}
    )
    assert isinstance(event, Identify)
    assert event.traits == {"email": "a@example.com", SEED_KEY: True}


def test_integrations_name_every_connected_destination_exactly() -> None:
    assert integrations_for(["Braze", "Facebook Custom Audiences", "braze"]) == {
        "All": False,
        "Braze": True,
        "Facebook Custom Audiences": True,
        "braze": True,
    }
    assert integrations_for(None) == {}
    assert integrations_for([]) == {"All": False}


def test_the_payload_routes_only_to_connected_destinations() -> None:
    event = membership_event(
        "track", seed_personas(), user_id="u", destinations=["Braze", "Amplitude"]
    )
    integrations = event.to_wire()["integrations"]
    assert route(integrations, "Braze").delivered
    assert route(integrations, "Amplitude").delivered
    assert not route(integrations, "Mixpanel").delivered
    assert not route(integrations, "braze").delivered


# ---------------------------------------------------------------- built from a space


@pytest.mark.parametrize(("call", "field"), [("track", "properties"), ("identify", "traits")])
def test_a_journey_step_event_has_the_seed_structure(call: str, field: str) -> None:
    space = Space("spa_golden")
    step = space.step(
        "First Purchase",
        "Opened Email",
        step_id="stp_1",
        audience_id="aud_42",
        destinations=["Braze", "Amplitude"],
    )
    wire = without_generated(step.event(call, user_id="user-1").to_wire())  # type: ignore[arg-type]
    expected: dict[str, Any] = {
        "context": {
            "personas": {
                "computation_class": "audience",
                "computation_id": "aud_42",
                "computation_key": step.key,
                "namespace": "spa_golden",
                "space_id": "spa_golden",
            }
        },
        "type": call,
        field: {step.key: True},
        "userId": "user-1",
        "integrations": {"All": False, "Braze": True, "Amplitude": True},
    }
    if call == "track":
        expected["event"] = "Audience Entered"
    assert wire == expected
    assert step.key.startswith("j_o_first_purchase__opened_email_")


def test_a_step_without_an_audience_id_gets_a_stable_aud_id() -> None:
    one = Space("spa_a").step("J", "S", step_id="stp_1").personas().computation_id
    two = Space("spa_a").step("J", "S", step_id="stp_1").personas().computation_id
    other = Space("spa_a").step("J", "S", step_id="stp_2").personas().computation_id
    assert one.startswith("aud_")
    assert one == two
    assert one != other


# ---------------------------------------------------------------- reading membership back


@pytest.mark.parametrize("value", ["true", True, "TRUE", " true "])
@pytest.mark.parametrize(("seed", "field"), [(SEED_TRACK, "properties"), (SEED_IDENTIFY, "traits")])
def test_the_seed_as_printed_with_the_string_true_is_membership_true(
    seed: dict[str, Any], field: str, value: Any
) -> None:
    document = copy.deepcopy(seed)
    document["userId"] = "user-1"
    document["context"]["personas"]["computation_key"] = SEED_KEY  # the seed's "j_o_###"
    document[field][SEED_KEY] = value
    membership = membership_of(parse_message(document))
    assert membership is not None
    assert membership.member is True
    assert membership.key == SEED_KEY
    assert membership.user_id == "user-1"
    assert membership.values[SEED_KEY] == value


@pytest.mark.parametrize("value", ["false", False])
def test_the_string_or_boolean_false_is_membership_false(value: Any) -> None:
    document = {
        "type": "identify",
        "userId": "u",
        "traits": {"vip": value},
        "context": {"personas": {**SEED_PERSONAS, "computation_key": "vip"}},
    }
    membership = membership_of(parse_message(document))
    assert membership is not None
    assert membership.member is False


def test_a_built_event_reads_back_as_the_same_membership() -> None:
    event = membership_event("track", seed_personas(), user_id="user-1", destinations=["Braze"])
    membership = membership_of(parse_message(event.to_wire()))
    assert membership is not None
    assert membership.member is True
    assert membership.personas.to_dict() == seed_personas().to_dict()
    assert membership.is_journey


@pytest.mark.parametrize("value", ["yes", 1, None, "maybe"])
def test_a_value_that_is_not_true_or_false_is_one_line(value: Any) -> None:
    document = copy.deepcopy(SEED_IDENTIFY)
    document["userId"] = "u"
    document["context"]["personas"]["computation_key"] = SEED_KEY
    document["traits"][SEED_KEY] = value
    with pytest.raises(InvalidEvent) as caught:
        membership_of(parse_message(document))
    assert str(caught.value).startswith(f"traits.{SEED_KEY}: must be true or false")
    assert "\n" not in str(caught.value)


def test_a_message_without_personas_is_not_a_membership() -> None:
    assert membership_of(parse_message({"type": "track", "userId": "u", "event": "x"})) is None


def test_missing_personas_fields_are_one_line_naming_the_field() -> None:
    document = copy.deepcopy(SEED_TRACK)
    document["userId"] = "u"
    del document["context"]["personas"]["space_id"]
    with pytest.raises(InvalidEvent) as caught:
        membership_of(parse_message(document))
    assert str(caught.value) == "context.personas.space_id: is required (a non-empty string)"


@pytest.mark.parametrize(
    "computation_class", ["audience", "journey_step", "computed_trait", "trait"]
)
def test_every_computation_class_is_accepted(computation_class: str) -> None:
    personas = PersonasContext.from_dict({**SEED_PERSONAS, "computation_class": computation_class})
    assert personas.computation_class.value == computation_class


def test_an_unknown_computation_class_is_refused() -> None:
    with pytest.raises(InvalidEvent) as caught:
        PersonasContext.from_dict({**SEED_PERSONAS, "computation_class": "segment"})
    assert str(caught.value).startswith("context.personas.computation_class: must be one of")


# ---------------------------------------------------------------- exits


@pytest.mark.parametrize(("call", "field"), [("track", "properties"), ("identify", "traits")])
def test_audiences_send_entries_and_exits(call: str, field: str) -> None:
    audience = Space("spa_aud").audience("VIP Users", audience_id="aud_7", destinations=["Braze"])
    entered = audience.event(call, user_id="u")  # type: ignore[arg-type]
    exited = audience.event(call, user_id="u", entered=False)  # type: ignore[arg-type]
    assert entered.to_wire()[field] == {"vip_users": True}
    assert exited.to_wire()[field] == {"vip_users": False}
    if call == "track":
        assert isinstance(entered, Track) and isinstance(exited, Track)
        assert entered.event == AUDIENCE_ENTERED
        assert exited.event == AUDIENCE_EXITED == "Audience Exited"
    wire = without_generated(exited.to_wire())
    assert wire["context"]["personas"] == {
        "computation_class": "audience",
        "computation_id": "aud_7",
        "computation_key": "vip_users",
        "namespace": "spa_aud",
        "space_id": "spa_aud",
    }
    assert wire["integrations"] == {"All": False, "Braze": True}
    membership = membership_of(parse_message(exited.to_wire()))
    assert membership is not None and membership.member is False
    assert not membership.is_journey


@pytest.mark.parametrize("call", ["track", "identify"])
def test_a_journey_step_never_exits(call: str) -> None:
    step = Space("spa_j").step("First Purchase", "Opened Email", step_id="stp_1")
    with pytest.raises(InvalidEvent) as caught:
        membership_event(call, step.personas(), user_id="u", entered=False)  # type: ignore[arg-type]
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("entered: journey steps are add-only")


def test_a_journey_class_computation_never_exits_whatever_its_key() -> None:
    personas = PersonasContext(ComputationClass.JOURNEY_STEP, "aud_1", "plain_key", "spa_1")
    assert personas.is_journey
    with pytest.raises(InvalidEvent, match="add-only"):
        membership_event("track", personas, user_id="u", entered=False)


def test_a_journey_step_has_no_exit_parameter() -> None:
    step = Space("spa_j").step("J", "S", step_id="stp_1")
    with pytest.raises(TypeError):
        step.event("track", user_id="u", entered=False)  # type: ignore[call-arg]


def test_an_exit_with_a_contradicting_value_is_refused() -> None:
    document = {
        "type": "track",
        "userId": "u",
        "event": "Audience Exited",
        "properties": {"vip": True},
        "context": {"personas": {**SEED_PERSONAS, "computation_key": "vip"}},
    }
    with pytest.raises(InvalidEvent, match=r"^properties\.vip: contradicts the event name"):
        membership_of(parse_message(document))


def test_a_step_with_no_connected_destination_reaches_none() -> None:
    """A step (or audience) connected to nothing sends to nobody: ``{"All": false}``, never the
    empty object that would route it to every destination on the source."""
    space = sdk.Space("spa_none")
    step = space.step("First Purchase", "Opened Email")
    audience = space.audience("Big Spenders")
    for event in (step.event("track", user_id="u1"), audience.event("identify", user_id="u1")):
        assert event.integrations == {"All": False}
        assert not sdk.route(event.integrations, "Braze").delivered


# ---------------------------------------------------------------- built many times, fast


def _step() -> sdk.JourneyStep:
    return Space("spa_fast").step(
        "First Purchase", "Opened Email", step_id="stp_f", destinations=["Braze", "Amplitude"]
    )


@pytest.mark.parametrize("call", ["track", "identify"])
def test_events_of_a_step_share_nothing_mutable(call: str) -> None:
    step = _step()
    first = step.event(call, user_id="u1", extra={"plan": "pro"})  # type: ignore[arg-type]
    first.context["personas"]["computation_key"] = "tampered"
    first.context["ip"] = "203.0.113.9"
    first.integrations["Mixpanel"] = True
    first.integrations["Braze"] = False
    values = first.properties if isinstance(first, Track) else first.traits
    values[step.key] = False
    values["plan"] = "free"

    second = step.event(call, user_id="u2", extra={"plan": "pro"})  # type: ignore[arg-type]

    assert second.context == {"personas": step.personas().to_dict()}
    assert second.integrations == {"All": False, "Braze": True, "Amplitude": True}
    second_values = second.properties if isinstance(second, Track) else second.traits
    assert second_values == {"plan": "pro", step.key: True}
    assert second.message_id != first.message_id


def test_audience_events_share_nothing_mutable() -> None:
    audience = Space("spa_fast").audience("VIP Users", destinations=["Braze"])
    first = audience.event("track", user_id="u1", entered=False)
    first.context["personas"].clear()
    first.integrations.clear()
    second = audience.event("track", user_id="u2")
    assert second.context["personas"]["computation_key"] == "vip_users"
    assert second.integrations == {"All": False, "Braze": True}
    assert second.properties == {"vip_users": True}


def test_the_callers_extra_is_not_changed() -> None:
    extra = {"plan": "pro"}
    event = _step().event("track", user_id="u1", extra=extra)
    assert extra == {"plan": "pro"}
    assert isinstance(event, Track)
    event.properties["plan"] = "free"
    assert extra == {"plan": "pro"}


@pytest.mark.parametrize("call", ["track", "identify"])
def test_a_built_event_is_a_validated_message(call: str) -> None:
    event = _step().event(call, user_id="u1")  # type: ignore[arg-type]
    assert type(event) is (Track if call == "track" else Identify)
    assert event.model_fields_set >= {"user_id", "context", "integrations", "message_id"}
    wire = json.loads(message_to_json(event))
    assert parse_message(wire).to_wire() == wire


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({}, "userId", "one of userId or anonymousId is required"),
        ({"user_id": ""}, "userId", "one of userId or anonymousId is required"),
        ({"user_id": 42}, "userId", "valid string"),
        ({"user_id": "u1", "extra": {1: "not a name"}}, "properties[1]", "key that must be text"),
    ],
    ids=["no-identity", "empty-user-id", "user-id-not-text", "extra-key-not-text"],
)
def test_a_bad_field_of_a_built_event_is_one_line(
    kwargs: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        _step().event("track", **kwargs)
    assert caught.value.field == field
    assert rule in caught.value.rule
    with pytest.raises(InvalidEvent):
        membership_event("track", seed_personas(), **kwargs)


def test_a_blank_audience_name_is_refused_like_a_blank_step() -> None:
    space = Space("spa_fast")
    for name in ("", "   "):
        with pytest.raises(sdk.InvalidJourney) as caught:
            space.audience(name)
        assert str(caught.value) == "audience: must not be empty"
