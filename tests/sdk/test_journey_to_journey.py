"""Journey-to-journey entry, rule by rule as seed 000 (Braze Canvas "Send to Destination")
states them: one test per FAQ answer, plus one-time entry and cycles."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from sdk import InvalidJourney, JourneyRun, Preview, StepVisit, parse_journey_file, preview

SPACE = "spa_j2j"
AS_OF = "2026-11-02T09:00:00Z"
START = datetime.fromisoformat(AS_OF.replace("Z", "+00:00"))


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def send(name: str, destination: str = "Webhook") -> dict[str, Any]:
    return {"type": "send_to_destinations", "name": name, "destinations": [{"name": destination}]}


def to_journey(
    target: str = "Canvas 2", name: str = "Send to Canvas 2", **extra: Any
) -> dict[str, Any]:
    return {"type": "send_to_journey", "name": name, "journey": target, **extra}


def source(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Canvas 1: the source journey."""
    return {
        "name": "Canvas 1",
        "status": "active",
        "entry": {"event": "Signed Up"},
        "steps": list(steps) or [to_journey(), send("After the send")],
        **extra,
    }


def destination(**extra: Any) -> dict[str, Any]:
    """Canvas 2: enters users who ordered an item, as the seed's example does."""
    base: dict[str, Any] = {
        "name": "Canvas 2",
        "status": "active",
        "entry": {"type": "real_time", "event": "Order Completed"},
        "steps": [send("Canvas 2 first step"), send("Canvas 2 second step")],
    }
    base.update(extra)
    return base


def file(*journeys: dict[str, Any]) -> dict[str, Any]:
    return {"space": {"id": SPACE}, "journeys": list(journeys) or [source(), destination()]}


ORDERED = {
    "user_id": "u-ordered",
    "as_of": AS_OF,
    "traits": {"country": "US"},
    "events": [
        {"event": "Signed Up", "timestamp": at(-48)},
        {"event": "Order Completed", "timestamp": at(-24)},
    ],
}
NOT_ORDERED = {
    "user_id": "u-browsing",
    "as_of": AS_OF,
    "traits": {"country": "US"},
    "events": [{"event": "Signed Up", "timestamp": at(-48)}],
}


def run(data: dict[str, Any], user: dict[str, Any] = ORDERED) -> Preview:
    return preview(data, user, journey="Canvas 1")


def sent_visit(result: Preview, name: str = "Send to Canvas 2") -> StepVisit:
    return next(v for v in result.run.path if v.name == name)


def entered_run(result: Preview) -> JourneyRun:
    visit = sent_visit(result)
    assert visit.entry is not None and visit.entry.run is not None, visit.detail
    return visit.entry.run


# -- "Can I set the destination to a draft Canvas? Yes ... draft or idle status." ---------------


def test_draft_destination_journey_is_allowed() -> None:
    result = run(file(source(), destination(status="draft")))
    assert sent_visit(result).outcome == "entered"
    assert entered_run(result).status == "draft"
    assert [v.name for v in entered_run(result).path] == [
        "Canvas 2 first step",
        "Canvas 2 second step",
    ]


def test_idle_destination_journey_is_allowed() -> None:
    result = run(file(source(), destination(status="idle")))
    assert sent_visit(result).outcome == "entered"
    assert entered_run(result).status == "idle"
    assert "Canvas 2" in result.entered_journeys()


# -- "Are context variables preserved? Yes. The context of the source is always passed." --------


def test_source_context_is_passed_to_the_destination_journey() -> None:
    data = file(source(to_journey(context={"offer": "WELCOME10"}), send("After")), destination())
    result = run(data)
    context = entered_run(result).context
    assert context["offer"] == "WELCOME10"
    assert context["source_journey"] == "Canvas 1"
    assert context["source_step"] == "Send to Canvas 2"
    assert context["source_space_id"] == SPACE
    assert context["source_step_key"] == sent_visit(result).key
    assert context["source_step_key"].startswith("j_o_canvas_1__send_to_canvas_2_")
    assert context["entered_at"] == AS_OF


def test_source_context_reaches_the_destination_payloads() -> None:
    result = run(file(source(to_journey(context={"offer": "WELCOME10"})), destination()))
    emissions = entered_run(result).emissions()
    assert emissions
    for emission in emissions:
        journey_context = emission.message.context["journey_context"]
        assert journey_context["source_journey"] == "Canvas 1"
        assert journey_context["offer"] == "WELCOME10"
    # the source journey's own events carry no journey context
    own = [e for e in result.messages if e.journey == "Canvas 1"]
    assert all("journey_context" not in e.message.context for e in own)


def test_source_context_is_available_to_destination_conditions() -> None:
    split = {
        "type": "true_false_split",
        "name": "Came from Canvas 1?",
        "condition": {"context": "source_journey", "equals": "Canvas 1"},
        "if_true": [send("From Canvas 1")],
        "if_false": [send("From elsewhere")],
    }
    result = run(file(source(), destination(steps=[split])))
    assert [v.name for v in entered_run(result).path] == ["Came from Canvas 1?", "From Canvas 1"]


def test_context_is_passed_along_a_chain_of_journeys() -> None:
    canvas_3 = {
        "name": "Canvas 3",
        "steps": [send("Canvas 3 step")],
    }
    canvas_2 = destination(
        steps=[to_journey("Canvas 3", "Send to Canvas 3", context={"tier": "gold"})]
    )
    result = run(file(source(to_journey(context={"offer": "A"})), canvas_2, canvas_3))
    third = entered_run(result).path[0].entry
    assert third is not None and third.run is not None
    assert third.run.context["offer"] == "A"  # from Canvas 1, passed on by Canvas 2
    assert third.run.context["tier"] == "gold"
    assert third.run.context["source_journey"] == "Canvas 2"


# -- "Do users enter at the start? Immediately at the first step; no linking to a later step." --


def test_eligible_user_enters_at_the_first_step_immediately() -> None:
    result = run(file())
    visit = sent_visit(result)
    destination_run = entered_run(result)
    assert destination_run.path[0].path == "steps[0]"
    assert destination_run.path[0].name == "Canvas 2 first step"
    assert destination_run.entered_at == visit.at
    assert destination_run.path[0].at == visit.at


def test_a_later_destination_step_cannot_be_targeted() -> None:
    data = file(source(to_journey(step="Canvas 2 second step")), destination())
    with pytest.raises(InvalidJourney) as caught:
        parse_journey_file(data)
    assert str(caught.value) == (
        "journeys[0].steps[0].step: users always enter the destination journey at its first "
        "step; a later step cannot be targeted"
    )


# -- "Does it respect a scheduled destination entry schedule? No." -----------------------------


def test_scheduled_entry_window_is_ignored() -> None:
    scheduled = destination(
        entry={"type": "scheduled", "schedule": "every Monday at 09:00", "event": "Order Completed"}
    )
    waiting = {"type": "wait", "name": "Two days", "days": 2}
    result = run(file(source(waiting, to_journey()), scheduled))
    visit = sent_visit(result)
    destination_run = entered_run(result)
    assert visit.at == START + timedelta(days=2)  # a Wednesday: no Monday window waited for
    assert destination_run.entered_at == visit.at
    assert destination_run.path[0].at == visit.at
    assert any("scheduled entry" in note and "ignored" in note for note in destination_run.notes)


# -- "How does advancement work? Users continue in the source; eligible ones also enter." -------


def test_eligible_user_continues_in_the_source_journey_too() -> None:
    result = run(file())
    assert [v.name for v in result.run.path] == ["Send to Canvas 2", "After the send"]
    assert result.run.outcome == "completed"
    assert sent_visit(result).entry is not None
    assert sent_visit(result).entry.to_dict()["continues_in_source"] is True  # type: ignore[union-attr]
    assert result.entered_journeys() == ["Canvas 2"]


def test_ineligible_user_continues_in_the_source_journey() -> None:
    result = run(file(), NOT_ORDERED)
    assert [v.name for v in result.run.path] == ["Send to Canvas 2", "After the send"]
    assert result.run.outcome == "completed"


def test_ineligible_user_only_continues_in_the_source() -> None:
    result = run(file(), NOT_ORDERED)
    visit = sent_visit(result)
    assert visit.outcome == "not eligible"
    assert visit.entry is not None and not visit.entry.entered and visit.entry.run is None
    assert result.entered_journeys() == []
    assert {e.journey for e in result.messages} == {"Canvas 1"}
    assert "continues in Canvas 1 only" in visit.detail


def test_destination_audience_criteria_are_checked_too() -> None:
    strict = destination(audience={"conditions": [{"trait": "country", "in": ["CA"]}]})
    result = run(file(source(), strict))
    visit = sent_visit(result)
    assert visit.outcome == "not eligible"
    assert visit.entry is not None
    assert [(c.rule, c.met) for c in visit.entry.criteria] == [
        ('entry event: performed "Order Completed"', True),
        ('audience: trait country in ["CA"]', False),
    ]


# -- "evaluated ... at that moment" -------------------------------------------------------------


def test_evaluated_against_event_history_at_the_moment_the_step_is_reached() -> None:
    orders_tomorrow = {
        **NOT_ORDERED,
        "events": [*NOT_ORDERED["events"], {"event": "Order Completed", "timestamp": at(24)}],
    }
    at_once = run(file(source(to_journey()), destination()), orders_tomorrow)
    assert sent_visit(at_once).outcome == "not eligible"  # no order yet at that moment
    waiting = {"type": "wait", "name": "Wait", "days": 2}
    later = run(file(source(waiting, to_journey()), destination()), orders_tomorrow)
    assert sent_visit(later).outcome == "entered"  # ordered by the time the step is reached


def test_evaluated_with_traits_as_changed_by_an_earlier_step() -> None:
    gold_only = destination(audience={"conditions": [{"trait": "tier", "equals": "gold"}]})
    before = run(file(source(to_journey()), gold_only))
    assert sent_visit(before).outcome == "not eligible"
    upgrade = {"type": "update_traits", "name": "Upgrade", "traits": {"tier": "gold"}}
    after = run(file(source(upgrade, to_journey()), gold_only))
    assert sent_visit(after).outcome == "entered"


def test_a_within_days_window_is_measured_from_the_moment_of_the_step() -> None:
    recent = destination(entry={"event": {"name": "Order Completed", "within_days": 2}})
    at_once = run(file(source(to_journey()), recent))
    assert sent_visit(at_once).outcome == "entered"  # ordered 1 day before
    later = run(file(source({"type": "wait", "name": "W", "days": 3}, to_journey()), recent))
    assert sent_visit(later).outcome == "not eligible"  # 4 days before by then


def test_the_destination_run_does_not_move_the_source_clock() -> None:
    slow = destination(steps=[{"type": "wait", "name": "Week", "days": 7}, send("Late")])
    result = run(file(source(to_journey(), send("Right after")), slow))
    after = next(v for v in result.run.path if v.name == "Right after")
    assert after.at == START
    assert entered_run(result).path[1].at == START + timedelta(days=7)


# -- one-time entry and cycles ------------------------------------------------------------------


def test_entry_is_one_time_per_run() -> None:
    twice = source(to_journey(), to_journey(name="Again to Canvas 2"))
    result = run(file(twice, destination()))
    first, second = result.run.path
    assert first.outcome == "entered"
    assert second.outcome == "already entered"
    assert result.entered_journeys() == ["Canvas 2"]
    canvas_2_events = [e for e in result.messages if e.journey == "Canvas 2"]
    assert len(canvas_2_events) == 2  # its two steps, once


def test_a_cycle_between_journeys_ends() -> None:
    back = destination(steps=[to_journey("Canvas 1", "Back to Canvas 1"), send("Canvas 2 step")])
    result = run(file(source(), back))
    back_visit = entered_run(result).path[0]
    assert back_visit.outcome == "already entered"  # Canvas 1 is the journey being previewed
    assert entered_run(result).outcome == "completed"


def test_sending_a_journey_to_itself_is_refused() -> None:
    with pytest.raises(InvalidJourney, match=r"journeys\[0\]\.steps\[0\]\.journey: a journey"):
        parse_journey_file(file(source(to_journey("Canvas 1")), destination()))


def test_an_unknown_destination_journey_is_refused() -> None:
    with pytest.raises(InvalidJourney) as caught:
        parse_journey_file(file(source(to_journey("Canvas 9")), destination()))
    assert str(caught.value) == (
        "journeys[0].steps[0].journey: no journey named 'Canvas 9' in this file "
        "(known: 'Canvas 1', 'Canvas 2')"
    )


# -- the preview shows both answers -------------------------------------------------------------


def test_the_preview_shows_the_source_path_and_the_destination_payloads() -> None:
    document = run(file()).to_dict()
    visit = document["journey"]["path"][0]
    assert visit["outcome"] == "entered"
    assert visit["entry"]["entered"] is True and visit["entry"]["continues_in_source"] is True
    assert visit["entry"]["run"]["via"] == "send_to_journey"
    assert [v["name"] for v in visit["entry"]["run"]["path"]] == [
        "Canvas 2 first step",
        "Canvas 2 second step",
    ]
    assert document["entered_journeys"] == ["Canvas 2"]
    keys = {m["key"] for m in document["destinations"]["Webhook"]}
    assert len(keys) == 3  # Canvas 2's two steps and Canvas 1's "After the send"
