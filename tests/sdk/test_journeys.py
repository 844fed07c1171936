"""Journey files and previews: the file format and its one-line errors, conditions, step types,
the payloads of a "Send to destinations" step with several connected destinations (seeds 001
and 002), Trait Enrichment, ID Sync, and delivery where each destination gets only its own."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from sdk import (
    Emission,
    Identify,
    InvalidJourney,
    InvalidSettings,
    JourneyFile,
    Lifecycle,
    Outcome,
    Preview,
    Space,
    Track,
    load_journey_file,
    missing_settings,
    parse_journey_file,
    parse_user_profile,
    preview,
    route,
    send_preview,
    send_preview_async,
    step_key,
)
from sdk.engage._keys import default_step_id
from sdk.testing._sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "journeys" / "first_purchase.yaml"
ELIGIBLE = ROOT / "examples" / "journeys" / "users" / "eligible.json"
INELIGIBLE = ROOT / "examples" / "journeys" / "users" / "ineligible.json"
SPACE = "spa_test_space"
AS_OF = "2026-11-02T09:00:00Z"


def journey_file(*journeys: dict[str, Any]) -> dict[str, Any]:
    return {"space": {"id": SPACE, "name": "Test"}, "journeys": list(journeys)}


def journey(name: str = "First Purchase", *steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "status": "active", "steps": list(steps), **extra}


def send_step(name: str = "Opened Email", *destinations: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "send_to_destinations",
        "name": name,
        "destinations": list(destinations) or [{"name": "Webhook"}],
    }


def user(**extra: Any) -> dict[str, Any]:
    return {"user_id": "u-1", "as_of": AS_OF, **extra}


def at(hours: float) -> str:
    """An ISO time ``hours`` after AS_OF."""
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(AS_OF.replace("Z", "+00:00")) + timedelta(hours=hours)
    return moment.isoformat().replace("+00:00", "Z")


def run(
    file: dict[str, Any], profile: dict[str, Any] | None = None, name: str | None = None
) -> Preview:
    return preview(file, profile or user(), journey=name)


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidJourney) as caught:
        parse_journey_file(data)
    message = str(caught.value)
    assert "\n" not in message
    assert "validation error" not in message.lower() and "pydantic" not in message.lower()
    return message


# -- the file format ----------------------------------------------------------------------------


def test_the_example_file_loads_with_its_two_journeys() -> None:
    file = load_journey_file(EXAMPLE)
    assert file.space_id.startswith("spa_")
    assert [j.name for j in file.journeys] == ["First Purchase", "Loyalty Welcome"]
    loyalty = file.journey("Loyalty Welcome")
    assert loyalty.status == "draft"
    assert loyalty.entry.type == "scheduled"


def test_a_json_journey_file_loads_like_yaml(tmp_path: Path) -> None:
    data = journey_file(journey("First Purchase", send_step()))
    path = tmp_path / "journeys.json"
    path.write_text(json.dumps(data))
    file = load_journey_file(path)
    assert file.journeys[0].steps[0].type == "send_to_destinations"


def test_step_keys_are_the_sdk_step_keys_and_stable() -> None:
    data = journey_file(journey("First Purchase", send_step("Opened Email")))
    first = parse_journey_file(data)
    second = parse_journey_file(copy.deepcopy(data))
    key = first.keys()["First Purchase / Opened Email"]
    assert key == second.keys()["First Purchase / Opened Email"]
    expected = step_key(
        "First Purchase", "Opened Email", default_step_id(SPACE, "First Purchase", "Opened Email")
    )
    assert key == expected
    assert key.startswith("j_o_first_purchase__opened_email_")


def test_a_step_id_gives_the_key_suffix() -> None:
    step = {**send_step("Opened Email"), "id": "stp_123"}
    file = parse_journey_file(journey_file(journey("First Purchase", step)))
    assert file.keys()["First Purchase / Opened Email"] == step_key(
        "First Purchase", "Opened Email", "stp_123"
    )


def test_keys_are_unique_within_the_space() -> None:
    # Names that snake-case to the same parts still get different keys.
    file = parse_journey_file(
        journey_file(
            journey("First Purchase", send_step("Opened Email"), send_step("Opened email!")),
            journey("First-Purchase", send_step("Opened Email")),
        )
    )
    keys = list(file.keys().values())
    assert len(keys) == 3 and len(set(keys)) == 3


def test_keys_agree_with_a_space_registry_built_in_file_order() -> None:
    file = parse_journey_file(journey_file(journey("J", send_step("A"), send_step("B"))))
    space = Space(SPACE)
    for step_name in ("A", "B"):
        expected = space.step("J", step_name).key
        assert file.keys()[f"J / {step_name}"] == expected


VALIDATION_CASES: list[tuple[str, Any, str]] = [
    (
        "empty destinations",
        lambda d: d["journeys"][0]["steps"].__setitem__(
            2, {"type": "send_to_destinations", "name": "S", "destinations": []}
        ),
        "journeys[0].steps[2].destinations: must not be empty",
    ),
    (
        "unknown step type",
        lambda d: d["journeys"][0]["steps"].__setitem__(1, {"type": "send_sms", "name": "x"}),
        "journeys[0].steps[1].type: unknown step type 'send_sms' (known: wait_for_condition, "
        "true_false_split, send_to_destinations, send_to_journey, wait, update_traits, exit)",
    ),
    (
        "missing step type",
        lambda d: d["journeys"][0]["steps"].__setitem__(0, {"name": "x"}),
        "journeys[0].steps[0].type: is required (one of wait_for_condition, true_false_split, "
        "send_to_destinations, send_to_journey, wait, update_traits, exit)",
    ),
    (
        "a step that is not a mapping",
        lambda d: d["journeys"][0]["steps"].__setitem__(0, "send"),
        "journeys[0].steps[0]: must be a mapping",
    ),
    (
        "duplicate journey names",
        lambda d: d["journeys"].append(journey("First Purchase", send_step())),
        "journeys[2].name: 'First Purchase' is already the name of journeys[0]",
    ),
    (
        "unknown destination journey",
        lambda d: d["journeys"][0]["steps"][1].__setitem__("journey", "Nope"),
        "journeys[0].steps[1].journey: no journey named 'Nope' in this file "
        "(known: 'First Purchase', 'Loyalty Welcome')",
    ),
    (
        "send to itself",
        lambda d: d["journeys"][0]["steps"][1].__setitem__("journey", "First Purchase"),
        "journeys[0].steps[1].journey: a journey cannot send users to itself",
    ),
    (
        "a later destination step",
        lambda d: d["journeys"][0]["steps"][1].__setitem__("step", "Welcome Offer"),
        "journeys[0].steps[1].step: users always enter the destination journey at its first "
        "step; a later step cannot be targeted",
    ),
    (
        "unknown field",
        lambda d: d["journeys"][0]["steps"][2].__setitem__("destination", "Webhook"),
        "journeys[0].steps[2].destination: unknown field (known: audience_id, destinations, "
        "id, name, type)",
    ),
    (
        "bad status",
        lambda d: d["journeys"][0].__setitem__("status", "paused"),
        "journeys[0].status: must be 'draft', 'idle' or 'active'",
    ),
    (
        "bad space id",
        lambda d: d["space"].__setitem__("id", "space-1"),
        "space.id: must look like spa_<letters, digits, _>",
    ),
    (
        "no journeys",
        lambda d: d.__setitem__("journeys", []),
        "journeys: must not be empty",
    ),
    (
        "no steps",
        lambda d: d["journeys"][1].__setitem__("steps", []),
        "journeys[1].steps: must not be empty",
    ),
    (
        "two operators in a condition",
        lambda d: d["journeys"][0]["audience"]["conditions"].append(
            {"trait": "plan", "equals": "pro", "exists": True}
        ),
        "journeys[0].audience.conditions[1]: must have exactly one of equals, exists, gt, lt, in",
    ),
    (
        "a condition of no known kind",
        lambda d: d["journeys"][0]["audience"]["conditions"].append({"traits": "plan"}),
        "journeys[0].audience.conditions[1]: must have one of trait, context, performed, all, "
        "any, not",
    ),
    (
        "a nested condition error",
        lambda d: d["journeys"][0]["steps"].insert(
            0,
            {
                "type": "true_false_split",
                "name": "Split",
                "condition": {"all": [{"performed": "X", "within_days": 0}]},
            },
        ),
        "journeys[0].steps[0].condition.all[0].within_days: must be greater than 0",
    ),
    (
        "a nested step error in a branch",
        lambda d: d["journeys"][0]["steps"].insert(
            0,
            {
                "type": "true_false_split",
                "name": "Split",
                "condition": {"trait": "vip", "exists": True},
                "if_true": [{"type": "send_to_destinations", "name": "T", "destinations": []}],
            },
        ),
        "journeys[0].steps[0].if_true[0].destinations: must not be empty",
    ),
    (
        "scheduled entry without a schedule",
        lambda d: d["journeys"][1]["entry"].pop("schedule"),
        'journeys[1].entry.schedule: is required for a scheduled entry (e.g. "daily 09:00")',
    ),
    (
        "a schedule on a real-time entry",
        lambda d: d["journeys"][0]["entry"].__setitem__("schedule", "daily"),
        "journeys[0].entry.schedule: only a scheduled entry has a schedule",
    ),
    (
        "a limit on most_recent",
        lambda d: d["journeys"][0]["steps"][2]["destinations"][0]["id_sync"].append(
            {"identifier": "phone", "strategy": "most_recent", "limit": 3}
        ),
        "journeys[0].steps[2].destinations[0].id_sync[1].limit: applies to strategy all only "
        "(most_recent sends one value)",
    ),
    (
        "four identifiers with strategy all",
        lambda d: d["journeys"][0]["steps"][2]["destinations"][0].__setitem__(
            "id_sync", [{"identifier": n, "strategy": "all"} for n in ("a", "b", "c", "d")]
        ),
        "journeys[0].steps[2].destinations[0].id_sync: at most 3 identifiers may use strategy all",
    ),
    (
        "a destination connected twice",
        lambda d: d["journeys"][0]["steps"][2]["destinations"].append({"name": "Webhook"}),
        "journeys[0].steps[2].destinations[1].name: 'Webhook' is already connected to this step",
    ),
    (
        "a bad event type",
        lambda d: d["journeys"][0]["steps"][2]["destinations"][0].__setitem__("events", ["page"]),
        "journeys[0].steps[2].destinations[0].events[0]: must be 'track' or 'identify'",
    ),
    (
        "two steps with one name",
        lambda d: d["journeys"][0]["steps"].append(send_step("Opened Email")),
        "journeys[0].steps[3].name: 'Opened Email' is already a step of this journey "
        "(steps[2]); rename it or give both an id",
    ),
    (
        "a reserved context variable",
        lambda d: d["journeys"][0]["steps"][1].__setitem__("context", {"source_journey": "x"}),
        "journeys[0].steps[1].context.source_journey: is set by destkit (the source context); "
        "pick another name",
    ),
    (
        "a wait of no time",
        lambda d: d["journeys"][0]["steps"].append({"type": "wait", "name": "W"}),
        "journeys[0].steps[3].days: a wait needs days, hours or minutes above 0",
    ),
]


def base_file() -> dict[str, Any]:
    return journey_file(
        journey(
            "First Purchase",
            {"type": "wait", "name": "Pause", "hours": 1},
            {"type": "send_to_journey", "name": "To Loyalty", "journey": "Loyalty Welcome"},
            {
                "type": "send_to_destinations",
                "name": "Opened Email",
                "destinations": [{"name": "Webhook", "id_sync": [{"identifier": "email"}]}],
            },
            entry={"type": "real_time", "event": "Order Completed"},
            audience={"conditions": [{"trait": "email_opt_in", "equals": True}]},
        ),
        journey(
            "Loyalty Welcome",
            send_step("Welcome Offer"),
            entry={"type": "scheduled", "schedule": "weekly"},
        ),
    )


def test_the_base_file_of_the_validation_cases_is_valid() -> None:
    assert isinstance(parse_journey_file(base_file()), JourneyFile)


@pytest.mark.parametrize(
    ("change", "expected"),
    [(case[1], case[2]) for case in VALIDATION_CASES],
    ids=[case[0] for case in VALIDATION_CASES],
)
def test_validation_errors_are_one_line_naming_the_path(change: Any, expected: str) -> None:
    data = base_file()
    change(data)
    assert error_of(data) == expected


def test_several_problems_are_counted_not_dumped() -> None:
    data = base_file()
    data["journeys"][0]["status"] = "paused"
    data["journeys"][1]["status"] = "stopped"
    assert error_of(data) == (
        "journeys[0].status: must be 'draft', 'idle' or 'active' (and 1 more problem)"
    )


def test_unreadable_and_malformed_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidJourney, match=r"^journey file: cannot read .*missing.yaml"):
        load_journey_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("space: {id: spa_x\njourneys: [")
    with pytest.raises(InvalidJourney) as caught:
        load_journey_file(bad)
    assert str(caught.value).startswith("journey file: ")
    assert "is not valid YAML" in str(caught.value) and "\n" not in str(caught.value)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(InvalidJourney, match="must be a mapping with space and journeys"):
        load_journey_file(listed)


def test_user_profile_errors_name_the_user_path() -> None:
    with pytest.raises(InvalidJourney) as caught:
        parse_user_profile({"traits": {}})
    assert str(caught.value) == "user.user_id: one of user_id or anonymous_id is required"
    with pytest.raises(InvalidJourney) as caught:
        parse_user_profile({"user_id": "u", "events": [{"event": "X"}]})
    assert str(caught.value) == "user.events[0].timestamp: is required"
    with pytest.raises(InvalidJourney) as caught:
        parse_user_profile({"user_id": "u", "identifiers": {"email": [{"valu": "a"}]}})
    assert str(caught.value).startswith("user.identifiers.email[0].valu: unknown field")


def test_an_unknown_journey_name_is_a_one_line_error() -> None:
    with pytest.raises(InvalidJourney) as caught:
        preview(EXAMPLE, ELIGIBLE, journey="Nope")
    assert str(caught.value) == (
        "journey: no journey named 'Nope' in this file (known: 'First Purchase', 'Loyalty Welcome')"
    )


# -- conditions ---------------------------------------------------------------------------------


def split_outcome(condition: dict[str, Any], profile: dict[str, Any]) -> str:
    file = journey_file(
        journey("J", {"type": "true_false_split", "name": "Split", "condition": condition})
    )
    return run(file, profile).run.path[0].outcome


@pytest.mark.parametrize(
    ("condition", "traits", "expected"),
    [
        ({"trait": "plan", "equals": "pro"}, {"plan": "pro"}, "true"),
        ({"trait": "plan", "equals": "pro"}, {"plan": "free"}, "false"),
        ({"trait": "vip", "equals": True}, {"vip": 1}, "false"),  # true is not 1
        ({"trait": "n", "equals": 1}, {"n": True}, "false"),
        ({"trait": "n", "equals": 3}, {"n": 3.0}, "true"),
        ({"trait": "plan", "exists": True}, {"plan": "x"}, "true"),
        ({"trait": "plan", "exists": True}, {"plan": None}, "false"),
        ({"trait": "plan", "exists": False}, {}, "true"),
        ({"trait": "ltv", "gt": 100}, {"ltv": 100.5}, "true"),
        ({"trait": "ltv", "gt": 100}, {"ltv": 100}, "false"),
        ({"trait": "ltv", "gt": 100}, {"ltv": "200"}, "false"),  # not a number
        ({"trait": "ltv", "lt": 10}, {"ltv": 9}, "true"),
        ({"trait": "ltv", "lt": 10}, {}, "false"),
        ({"trait": "country", "in": ["US", "CA"]}, {"country": "CA"}, "true"),
        ({"trait": "country", "in": ["US", "CA"]}, {"country": "FR"}, "false"),
        (
            {"all": [{"trait": "a", "exists": True}, {"trait": "b", "exists": True}]},
            {"a": 1},
            "false",
        ),
        (
            {"any": [{"trait": "a", "exists": True}, {"trait": "b", "exists": True}]},
            {"a": 1},
            "true",
        ),
        ({"not": {"trait": "a", "exists": True}}, {"a": 1}, "false"),
    ],
)
def test_trait_conditions(condition: dict[str, Any], traits: dict[str, Any], expected: str) -> None:
    assert split_outcome(condition, user(traits=traits)) == expected


def test_performed_conditions_see_history_up_to_the_moment_only() -> None:
    events = [
        {"event": "Order Completed", "properties": {"coupon": "A"}, "timestamp": at(-24 * 40)},
        {"event": "Order Completed", "properties": {"coupon": "B"}, "timestamp": at(-24 * 2)},
        {"event": "Email Opened", "timestamp": at(5)},  # in the future at the split
    ]
    profile = user(events=events)
    assert split_outcome({"performed": "Order Completed"}, profile) == "true"
    assert split_outcome({"performed": "Order Completed", "at_least": 2}, profile) == "true"
    assert split_outcome({"performed": "Order Completed", "at_least": 3}, profile) == "false"
    assert split_outcome({"performed": "Order Completed", "within_days": 30}, profile) == "true"
    within = {"performed": "Order Completed", "within_days": 30, "at_least": 2}
    assert split_outcome(within, profile) == "false"
    where = {"performed": "Order Completed", "where": {"coupon": "A"}, "within_days": 30}
    assert split_outcome(where, profile) == "false"
    assert split_outcome({"performed": "Order Completed", "where": {"coupon": "A"}}, profile) == (
        "true"
    )
    assert split_outcome({"performed": "Email Opened"}, profile) == "false"


# -- steps --------------------------------------------------------------------------------------


def wait_file(**step: Any) -> dict[str, Any]:
    return journey_file(
        journey(
            "J",
            {"type": "wait_for_condition", "name": "Wait", **step},
            send_step("After"),
        )
    )


def test_wait_for_condition_met_on_arrival_goes_on_at_once() -> None:
    profile = user(events=[{"event": "Email Opened", "timestamp": at(-1)}])
    result = run(wait_file(condition={"performed": "Email Opened"}), profile)
    assert [v.outcome for v in result.run.path] == ["condition met", "sent"]
    assert result.run.path[1].at == result.as_of


def test_wait_for_condition_waits_until_the_event_happens() -> None:
    profile = user(events=[{"event": "Email Opened", "timestamp": at(30)}])
    result = run(wait_file(condition={"performed": "Email Opened"}, max_wait_days=3), profile)
    wait, after = result.run.path
    assert wait.outcome == "condition met" and "met after 1d 6h" in wait.detail
    assert after.at.isoformat().startswith("2026-11-03T15:00")
    assert after.emissions[0].message.timestamp == after.at


def test_wait_for_condition_without_max_wait_leaves_the_user_waiting() -> None:
    result = run(wait_file(condition={"performed": "Email Opened"}), user())
    assert [v.outcome for v in result.run.path] == ["waiting"]
    assert result.run.outcome == "waiting"
    assert result.messages == []


def test_wait_for_condition_timeout_exits_by_default() -> None:
    late = user(events=[{"event": "Email Opened", "timestamp": at(24 * 5)}])
    result = run(wait_file(condition={"performed": "Email Opened"}, max_wait_days=3), late)
    assert [v.outcome for v in result.run.path] == ["timed out"]
    assert result.run.outcome == "exited"


def test_wait_for_condition_timeout_can_continue() -> None:
    file = wait_file(
        condition={"performed": "Email Opened"}, max_wait_days=3, on_timeout="continue"
    )
    result = run(file, user())
    assert [v.outcome for v in result.run.path] == ["timed out", "sent"]
    assert (result.run.path[1].at - result.as_of).days == 3


def test_true_false_split_takes_a_branch_then_rejoins() -> None:
    split = {
        "type": "true_false_split",
        "name": "VIP?",
        "condition": {"trait": "vip", "equals": True},
        "if_true": [send_step("VIP Offer")],
        "if_false": [send_step("Regular Offer")],
    }
    file = journey_file(journey("J", split, send_step("Everyone")))
    vip = run(file, user(traits={"vip": True}))
    assert [(v.path, v.name) for v in vip.run.path] == [
        ("steps[0]", "VIP?"),
        ("steps[0].if_true[0]", "VIP Offer"),
        ("steps[1]", "Everyone"),
    ]
    regular = run(file, user(traits={"vip": False}))
    assert [v.name for v in regular.run.path] == ["VIP?", "Regular Offer", "Everyone"]


def test_an_empty_branch_goes_straight_on_and_exit_stops() -> None:
    split = {
        "type": "true_false_split",
        "name": "VIP?",
        "condition": {"trait": "vip", "equals": True},
        "if_false": [{"type": "exit"}],
    }
    file = journey_file(journey("J", split, send_step("VIPs only")))
    assert [v.outcome for v in run(file, user(traits={"vip": True})).run.path] == ["true", "sent"]
    regular = run(file, user())
    assert [v.outcome for v in regular.run.path] == ["false", "exited"]
    assert regular.run.outcome == "exited" and regular.messages == []


def test_update_traits_and_wait_change_the_user_for_later_steps() -> None:
    steps = (
        {"type": "update_traits", "name": "Mark", "traits": {"tier": "gold", "old": None}},
        {"type": "wait", "name": "Pause", "days": 1, "hours": 2},
        {
            "type": "true_false_split",
            "name": "Gold?",
            "condition": {
                "all": [{"trait": "tier", "equals": "gold"}, {"trait": "old", "exists": False}]
            },
        },
    )
    result = run(journey_file(journey("J", *steps)), user(traits={"old": 1}))
    assert [v.outcome for v in result.run.path] == ["traits updated", "waited", "true"]
    assert (result.run.path[2].at - result.as_of).total_seconds() == 26 * 3600


def test_a_user_outside_the_entry_or_audience_rule_does_not_enter() -> None:
    file = journey_file(
        journey(
            "J",
            send_step(),
            entry={"event": "Order Completed"},
            audience={"conditions": [{"trait": "vip", "equals": True}]},
        )
    )
    result = run(file, user(traits={"vip": True}))
    assert not result.run.eligible and result.run.outcome == "not eligible"
    assert result.run.path == [] and result.messages == []
    assert [c.met for c in result.run.criteria] == [False, True]


# -- payloads: seeds 001 and 002, several connected destinations -----------------------------


def several_destinations_file() -> dict[str, Any]:
    return journey_file(
        journey(
            "First Purchase",
            send_step(
                "Opened Email",
                {"name": "Webhook", "events": ["track", "identify"]},
                {"name": "Sandbox", "events": ["track"]},
                {"name": "Segment", "events": ["identify"]},
            ),
        )
    )


def test_each_connected_destination_gets_its_own_events() -> None:
    result = run(several_destinations_file())
    assert [(e.destination, e.call) for e in result.messages] == [
        ("Webhook", "track"),
        ("Webhook", "identify"),
        ("Sandbox", "track"),
        ("Segment", "identify"),
    ]
    for emission in result.messages:
        assert emission.message.integrations == {"All": False, emission.destination: True}


def test_track_payload_is_the_seed_shape_with_boolean_true() -> None:
    result = run(several_destinations_file())
    key = result.messages[0].key
    wire = result.messages[0].message.to_wire()
    assert wire["type"] == "track"
    assert wire["event"] == "Audience Entered"
    assert wire["properties"] == {key: True}
    assert wire["properties"][key] is True
    personas = wire["context"]["personas"]
    assert personas == {
        "computation_class": "audience",
        "computation_id": personas["computation_id"],
        "computation_key": key,
        "namespace": SPACE,
        "space_id": SPACE,
    }
    assert personas["computation_id"].startswith("aud_")
    assert key.startswith("j_o_first_purchase__opened_email_") and len(key.rsplit("_", 1)[1]) == 6


def test_identify_payload_is_the_seed_shape_with_boolean_true() -> None:
    result = run(several_destinations_file())
    identify = result.messages[1]
    wire = identify.message.to_wire()
    assert isinstance(identify.message, Identify)
    assert wire["type"] == "identify"
    assert wire["traits"] == {identify.key: True}
    assert wire["context"]["personas"]["computation_key"] == identify.key
    assert wire["userId"] == "u-1"


def test_every_destination_of_a_step_shares_the_key_and_computation() -> None:
    result = run(several_destinations_file())
    keys = {e.message.context["personas"]["computation_key"] for e in result.messages}
    ids = {e.message.context["personas"]["computation_id"] for e in result.messages}
    assert len(keys) == 1 and len(ids) == 1


def test_an_audience_id_in_the_file_is_the_computation_id() -> None:
    data = several_destinations_file()
    data["journeys"][0]["steps"][0]["audience_id"] = "aud_123"
    result = run(data)
    assert {e.message.context["personas"]["computation_id"] for e in result.messages} == {"aud_123"}


def test_routing_sends_each_event_only_to_its_own_destination() -> None:
    result = run(several_destinations_file())
    names = ["Webhook", "Sandbox", "Segment", "Braze"]
    for emission in result.messages:
        decisions = {name: route(emission.message.integrations, name).delivered for name in names}
        assert decisions == {name: name == emission.destination for name in names}


def test_message_ids_and_timestamps_are_deterministic() -> None:
    first, second = run(several_destinations_file()), run(several_destinations_file())
    assert [e.message.message_id for e in first.messages] == [
        e.message.message_id for e in second.messages
    ]
    assert len({e.message.message_id for e in first.messages}) == len(first.messages)
    assert all(e.message.timestamp == first.as_of for e in first.messages)


def test_an_anonymous_user_is_sent_with_anonymous_id() -> None:
    result = run(several_destinations_file(), {"anonymous_id": "anon-9", "as_of": AS_OF})
    assert all(e.message.anonymous_id == "anon-9" for e in result.messages)
    assert all(e.message.user_id is None for e in result.messages)


# -- Trait Enrichment and ID Sync ---------------------------------------------------------------


PROFILE = user(
    traits={"first_name": "Ada", "plan": "pro", "lifetime_value": 240.5},
    identifiers={
        "email": [
            {"value": "first@example.com", "at": "2025-01-01T00:00:00Z"},
            {"value": "latest@example.com", "at": "2026-10-01T00:00:00Z"},
            {"value": "middle@example.com", "at": "2026-01-01T00:00:00Z"},
            {"value": "future@example.com", "at": at(48)},  # not on the profile yet
        ],
        "phone": [{"value": "+14155550100", "at": "2026-02-01T00:00:00Z"}],
    },
)


def activation(destination: dict[str, Any]) -> list[Emission]:
    file = journey_file(journey("J", send_step("Step", {"name": "Webhook", **destination})))
    return run(file, PROFILE).messages


def test_trait_enrichment_adds_traits_to_track_properties() -> None:
    [track] = activation(
        {"trait_enrichment": ["first_name", {"trait": "lifetime_value", "as": "ltv"}]}
    )
    assert isinstance(track.message, Track)
    assert track.message.properties == {"first_name": "Ada", "ltv": 240.5, track.key: True}


def test_trait_enrichment_adds_traits_to_identify_traits() -> None:
    [identify] = activation({"events": ["identify"], "trait_enrichment": ["plan"]})
    assert isinstance(identify.message, Identify)
    assert identify.message.traits == {"plan": "pro", identify.key: True}


def test_trait_enrichment_skips_a_missing_trait_with_a_note() -> None:
    file = journey_file(
        journey("J", send_step("Step", {"name": "Webhook", "trait_enrichment": ["nope", "plan"]}))
    )
    result = run(file, PROFILE)
    assert result.messages[0].message.properties == {"plan": "pro", result.messages[0].key: True}  # type: ignore[union-attr]
    assert "nope" in result.run.path[0].notes[0]


def test_trait_enrichment_differs_per_destination() -> None:
    file = journey_file(
        journey(
            "J",
            send_step(
                "Step",
                {"name": "Webhook", "trait_enrichment": ["plan"]},
                {"name": "Sandbox", "trait_enrichment": ["first_name"]},
            ),
        )
    )
    webhook, sandbox = run(file, PROFILE).messages
    assert "plan" in webhook.message.properties and "first_name" not in webhook.message.properties  # type: ignore[union-attr]
    assert "first_name" in sandbox.message.properties and "plan" not in sandbox.message.properties  # type: ignore[union-attr]


def test_id_sync_most_recent_sends_the_newest_value_known_at_the_moment() -> None:
    [track] = activation({"id_sync": [{"identifier": "email", "strategy": "most_recent"}]})
    assert track.message.context["traits"] == {"email": "latest@example.com"}


def test_id_sync_first_added_sends_the_oldest_value() -> None:
    [track] = activation({"id_sync": [{"identifier": "email", "strategy": "first_added"}]})
    assert track.message.context["traits"] == {"email": "first@example.com"}


def test_id_sync_all_sends_one_event_per_value_newest_first_up_to_the_limit() -> None:
    emissions = activation({"id_sync": [{"identifier": "email", "strategy": "all", "limit": 2}]})
    assert [e.message.context["traits"]["email"] for e in emissions] == [
        "latest@example.com",
        "middle@example.com",
    ]
    assert len({e.message.message_id for e in emissions}) == 2


def test_id_sync_all_without_a_limit_sends_every_value_on_the_profile() -> None:
    emissions = activation({"id_sync": [{"identifier": "email", "strategy": "all"}]})
    assert [e.message.context["traits"]["email"] for e in emissions] == [
        "latest@example.com",
        "middle@example.com",
        "first@example.com",
    ]


def test_id_sync_puts_email_in_context_traits_and_others_in_properties_for_track() -> None:
    [track] = activation(
        {"id_sync": [{"identifier": "email"}, {"identifier": "phone", "as": "phone_number"}]}
    )
    assert track.message.context["traits"] == {"email": "latest@example.com"}
    assert track.message.properties == {"phone_number": "+14155550100", track.key: True}  # type: ignore[union-attr]


def test_id_sync_puts_identifiers_in_traits_for_identify() -> None:
    [identify] = activation(
        {"events": ["identify"], "id_sync": [{"identifier": "email"}, {"identifier": "phone"}]}
    )
    assert identify.message.traits == {  # type: ignore[union-attr]
        "email": "latest@example.com",
        "phone": "+14155550100",
        identify.key: True,
    }
    assert "traits" not in identify.message.context


def test_without_id_sync_no_identifier_is_added() -> None:
    [track] = activation({})
    assert "traits" not in track.message.context
    assert track.message.properties == {track.key: True}  # type: ignore[union-attr]


def test_an_identifier_the_user_lacks_is_left_out() -> None:
    [track] = activation({"id_sync": [{"identifier": "ios.idfa", "strategy": "all"}]})
    assert track.message.properties == {track.key: True}  # type: ignore[union-attr]


# -- the preview as data -----------------------------------------------------------------------


def test_the_preview_is_json_serialisable() -> None:
    result = preview(EXAMPLE, ELIGIBLE)
    document = json.loads(json.dumps(result.to_dict()))
    assert document["schema"] == "destkit.journey-preview/1"
    assert document["journey"]["journey"] == "First Purchase"
    assert document["entered_journeys"] == ["Loyalty Welcome"]
    assert set(document["destinations"]) == {"Webhook", "Sandbox", "Segment"}
    assert json.loads(result.to_json()) == document


def test_the_example_preview_for_both_users() -> None:
    eligible = preview(EXAMPLE, ELIGIBLE)
    assert eligible.run.outcome == "completed"
    assert eligible.entered_journeys() == ["Loyalty Welcome"]
    ineligible = preview(EXAMPLE, INELIGIBLE)
    assert ineligible.run.outcome == "completed"
    assert ineligible.entered_journeys() == []
    assert "Segment" not in ineligible.destinations


# -- delivery -----------------------------------------------------------------------------------


def by_outcome(lifecycles: list[Lifecycle]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for lifecycle in lifecycles:
        found.setdefault((lifecycle.destination, lifecycle.outcome.value), []).append(
            lifecycle.event["messageId"]
        )
    return found


@pytest.fixture(autouse=True)
def no_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("DESTKIT_"):
            monkeypatch.delenv(name)


def test_send_preview_delivers_own_events_and_others_are_filtered_respx() -> None:
    result = run(several_destinations_file())
    own = {
        name: [e.message.message_id for e in items]
        for name, items in result.by_destination().items()
    }
    with respx.mock(assert_all_called=True) as api:
        webhook = api.post("https://hooks.test/in").mock(return_value=httpx.Response(200))
        sandbox = api.post(url__regex=r"https://sandbox\.test/v1/(event|batch)").mock(
            return_value=httpx.Response(200, json={"ok": True})
        )
        segment = api.post("https://segment.test/v1/batch").mock(
            return_value=httpx.Response(200, json={"success": True})
        )
        lifecycles = send_preview(
            result,
            {
                "Webhook": {"url": "https://hooks.test/in"},
                "sandbox": {"endpoint": "https://sandbox.test"},
                "Segment": {"write_key": "wk", "endpoint": "https://segment.test"},
            },
        )
    outcomes = by_outcome(lifecycles)
    assert len(lifecycles) == 3 * len(result.messages)
    for name in ("Webhook", "Sandbox", "Segment"):
        assert outcomes[(name, "delivered")] == own[name]
        others = [m for n, ids in own.items() if n != name for m in ids]
        assert outcomes[(name, "filtered")] == others
    webhook_bodies = [json.loads(call.request.content) for call in webhook.calls]
    assert [b["integrations"] for b in webhook_bodies] == [{"All": False, "Webhook": True}] * 2
    sandbox_bodies = [json.loads(call.request.content) for call in sandbox.calls]
    sent = [m for body in sandbox_bodies for m in body.get("batch", [body])]
    assert [m["messageId"] for m in sent] == own["Sandbox"]
    segment_sent = [m for c in segment.calls for m in json.loads(c.request.content)["batch"]]
    assert [m["messageId"] for m in segment_sent] == own["Segment"]


def test_send_preview_against_the_sandbox_over_loopback() -> None:
    result = run(several_destinations_file())
    with Sandbox() as server:
        lifecycles = send_preview(
            result,
            {
                "Webhook": {"url": f"{server.url}/hooks"},
                "Sandbox": {"endpoint": server.url},
                "Segment": {"write_key": "wk", "endpoint": server.url},
            },
        )
        requests = server.requests
    assert all(lc.outcome in (Outcome.DELIVERED, Outcome.FILTERED) for lc in lifecycles)
    filtered = [lc for lc in lifecycles if lc.outcome is Outcome.FILTERED]
    assert len(filtered) == 2 * len(result.messages)
    assert all(
        lc.routing and lc.routing["decision"] == "filtered at destination" for lc in filtered
    )
    hooks = [r for r in requests if r.path == "/hooks"]
    assert [r.json["integrations"] for r in hooks] == [{"All": False, "Webhook": True}] * 2
    received = [
        message
        for r in requests
        for message in (r.json.get("batch", [r.json]) if isinstance(r.json, dict) else r.json)
    ]
    # Every event reached the server once: through its own destination's connector only.
    assert sorted(m["messageId"] for m in received) == sorted(
        e.message.message_id for e in result.messages
    )


async def test_send_preview_async_is_the_same_call() -> None:
    result = run(several_destinations_file())
    with respx.mock(assert_all_called=False) as api:
        api.post(url__regex=r"https://.*").mock(return_value=httpx.Response(200, json={}))
        lifecycles = await send_preview_async(
            result,
            {
                "Webhook": {"url": "https://hooks.test/in"},
                "Sandbox": {"endpoint": "https://sandbox.test"},
                "Segment": {"write_key": "wk", "endpoint": "https://segment.test"},
            },
        )
    assert sum(lc.delivered for lc in lifecycles) == len(result.messages)


def test_send_preview_names_every_missing_setting_before_sending() -> None:
    result = run(several_destinations_file())
    with respx.mock(assert_all_called=False) as api, pytest.raises(InvalidSettings) as caught:
        send_preview(result, {"Sandbox": {"endpoint": "https://sandbox.test"}})
    assert str(caught.value) == "Webhook.url, Segment.write_key: required to send this preview"
    assert api.calls.call_count == 0


def test_send_preview_names_a_bad_setting_with_its_destination() -> None:
    result = run(several_destinations_file())
    with pytest.raises(InvalidSettings) as caught:
        send_preview(
            result,
            {"Webhook": {"url": "not a url"}, "Segment": {"write_key": "wk"}},
        )
    assert str(caught.value).startswith("Webhook.url: ")


def test_a_destination_named_unlike_its_connector_is_refused() -> None:
    file = journey_file(journey("J", send_step("S", {"name": "webhook"})))
    with pytest.raises(InvalidJourney) as caught:
        send_preview(run(file), {"webhook": {"url": "https://hooks.test"}})
    assert str(caught.value) == (
        "destinations: 'webhook' must be written as the connector's integrations name "
        "'Webhook', or its events are filtered at destination"
    )


def test_preview_type_is_exported() -> None:
    assert isinstance(run(several_destinations_file()), Preview)


# -- destination names, one step's send, list destinations ------------------------------------


def test_a_destination_name_that_send_refuses_is_noted_in_the_preview() -> None:
    file = journey_file(
        journey(
            "J", send_step("S", {"name": "NoSuchDest"}, {"name": "webhook"}, {"name": "Sandbox"})
        )
    )
    result = run(file)
    visit = result.run.path[0]
    unknown, miscased = visit.notes
    assert unknown.startswith("NoSuchDest: no connector named 'NoSuchDest' (known: ")
    assert "'Webhook'" in unknown and unknown.endswith("; --send refuses this preview")
    assert miscased == (
        "webhook: 'webhook' must be written as the connector's integrations name 'Webhook', "
        "or its events are filtered at destination; --send refuses this preview"
    )
    assert result.to_dict()["journey"]["path"][0]["notes"] == visit.notes
    # send_preview refuses with the same words.
    with pytest.raises(InvalidJourney) as caught:
        send_preview(result, {})
    assert str(caught.value) == "destinations: " + unknown.split(": ", 1)[1].removesuffix(
        "; --send refuses this preview"
    )


def test_well_named_destinations_get_no_note() -> None:
    assert all(not visit.notes for visit in run(several_destinations_file()).run.path)


def test_a_list_destination_is_counted_in_list_adds() -> None:
    file = journey_file(
        journey(
            "J",
            send_step(
                "S",
                {"name": "Facebook Custom Audiences", "events": ["track", "identify"]},
                {"name": "Webhook"},
            ),
        )
    )
    detail = run(file).run.path[0].detail
    assert detail == "to Facebook Custom Audiences (2 list adds), Webhook (1 track)"


def two_steps_file() -> dict[str, Any]:
    return journey_file(
        journey(
            "J",
            send_step("First", {"name": "Webhook", "events": ["track", "identify"]}),
            send_step("Second", {"name": "Sandbox"}),
        )
    )


def test_one_step_of_a_preview_can_be_sent_on_its_own() -> None:
    result = run(two_steps_file())
    assert [e.step for e in result.messages_of(("J", "steps[1]"))] == ["Second"]
    assert result.destinations_of(("J", "steps[1]")) == ["Sandbox"]
    assert result.messages_of(None) == result.messages
    # The step's destinations only: the Webhook's url is not needed to send the second step.
    assert missing_settings(result, {}, environ={}, step=("J", "steps[1]")) == []
    assert missing_settings(result, {}, environ={}) == ["Webhook.url"]
    with respx.mock(assert_all_called=True) as api:
        sandbox = api.post(url__regex=r"https://sandbox\.test/v1/(event|batch)").mock(
            return_value=httpx.Response(200, json={"ok": True})
        )
        lifecycles = send_preview(
            result, {"Sandbox": {"endpoint": "https://sandbox.test"}}, step=("J", "steps[1]")
        )
    assert [(lc.destination, lc.outcome.value) for lc in lifecycles] == [("Sandbox", "delivered")]
    assert len(sandbox.calls) == 1
    with pytest.raises(InvalidJourney, match="J / steps\\[5\\] sent no events"):
        send_preview(result, {}, step=("J", "steps[5]"))


# -- real-time entry and the preview's start ---------------------------------------------------


def entry_file(entry: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return journey_file(
        journey("J", send_step("Welcomed", {"name": "Sandbox"}), entry=entry, **extra)
    )


def test_real_time_entry_at_the_start_when_the_history_has_the_event() -> None:
    profile = user(events=[{"event": "Order Completed", "timestamp": at(-2)}])
    result = run(entry_file({"event": "Order Completed"}), profile)
    assert result.run.eligible and result.run.entered_at == result.as_of
    assert not any("real-time entry" in note for note in result.run.notes)


def test_real_time_entry_waits_for_an_entry_event_after_the_start() -> None:
    # The same rule as wait_for_condition: events after as_of are what the user will do.
    profile = user(events=[{"event": "Order Completed", "timestamp": at(5)}])
    result = run(entry_file({"event": "Order Completed"}), profile)
    assert result.run.eligible
    assert result.run.entered_at.isoformat().startswith("2026-11-02T14:00")
    assert result.run.path[0].at == result.run.entered_at
    assert result.messages[0].message.timestamp == result.run.entered_at
    note = next(n for n in result.run.notes if n.startswith("real-time entry"))
    assert note.endswith(
        "enters at the first later event that meets them: Order Completed at 2026-11-02T14:00:00Z"
    )


def test_real_time_entry_needs_every_criterion_at_one_moment() -> None:
    events = [
        {"event": "Order Completed", "timestamp": at(-24 * 40)},  # too old for the window
        {"event": "Order Completed", "timestamp": at(24)},
    ]
    file = entry_file(
        {"event": {"name": "Order Completed", "within_days": 30}},
        audience={"conditions": [{"trait": "vip", "equals": True}]},
    )
    assert run(file, user(events=events, traits={"vip": True})).run.entered_at.isoformat()[:13] == (
        "2026-11-03T09"
    )
    never = run(file, user(events=events))
    assert not never.run.eligible and never.run.outcome == "not eligible"
    assert [c.met for c in never.run.criteria] == [True, False]  # as of the last event
    assert any("hold at no moment from the preview's start" in n for n in never.run.notes)
    assert never.run.entered_at == never.as_of


def test_a_scheduled_entry_is_checked_at_the_start_only() -> None:
    profile = user(events=[{"event": "Order Completed", "timestamp": at(5)}])
    file = entry_file({"type": "scheduled", "schedule": "daily", "event": "Order Completed"})
    result = run(file, profile)
    assert not result.run.eligible and result.run.entered_at == result.as_of
