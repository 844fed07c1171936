"""Running one user through a journey: the preview engine.

:func:`preview` moves the user through the steps at the moments they are reached: waits move
the clock, a wait_for_condition step waits for the events the profile holds for later, a
split takes its branch, update_traits changes the traits later steps see, and a
send_to_destinations step emits each connected destination's events
(:mod:`sdk.journeys._payloads`).

A send_to_journey step evaluates the user *at that moment* against the destination journey's
entry and audience criteria; an eligible user enters it at its first step at once (a scheduled
entry window is ignored, a draft or idle destination is fine) with the source context, and in
every case continues in the source journey. Entry is one-time per run. Nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sdk._errors import InvalidJourney
from sdk.journeys._conditions import show
from sdk.journeys._files import (
    Journey,
    JourneyFile,
    load_journey_file,
    load_user_profile,
    parse_journey_file,
    parse_user_profile,
)
from sdk.journeys._payloads import Emission, connector_kind, connector_problem, emit
from sdk.journeys._results import Criterion, JourneyEntry, JourneyRun, Preview, StepVisit, iso
from sdk.journeys._steps import (
    BaseStep,
    ExitStep,
    SendToDestinationsStep,
    SendToJourneyStep,
    TrueFalseSplitStep,
    UpdateTraitsStep,
    WaitForConditionStep,
    WaitStep,
)
from sdk.journeys._users import UserProfile, UserState

__all__ = ["MAX_JOURNEY_CHAIN", "preview"]

#: How many journeys deep send_to_journey may chain in one run (each enters the next).
MAX_JOURNEY_CHAIN = 32


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts) or "0m"


class _Stop(Exception):
    """The user stops in this run (waiting, or exited)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _later(clock: datetime, delta: timedelta, journey: Journey, path: str) -> datetime:
    """``clock + delta``; past the calendar's end is one ``InvalidJourney`` line."""
    try:
        return clock + delta
    except OverflowError:
        raise InvalidJourney(
            f"{journey.name} {path}", "waits past the year 9999, beyond any preview clock"
        ) from None


class _Runner:
    """Runs one user through journeys; ``entered`` makes journey entry one-time per run."""

    def __init__(self, file: JourneyFile) -> None:
        self.file = file
        self.entered: set[str] = set()
        self.chain = 0

    def criteria(self, journey: Journey, state: UserState) -> list[Criterion]:
        found: list[Criterion] = []
        if journey.entry.event is not None:
            rule = journey.entry.event.as_condition()
            found.append(Criterion(f"entry event: {rule.describe()}", rule.evaluate(state)))
        for condition in journey.entry.conditions:
            found.append(Criterion(f"entry: {condition.describe()}", condition.evaluate(state)))
        for condition in journey.audience.conditions:
            found.append(Criterion(f"audience: {condition.describe()}", condition.evaluate(state)))
        return found

    def real_time_entry(self, journey: Journey, state: UserState) -> tuple[list[Criterion], str]:
        """When a real-time journey enters the user: at the preview's start if the criteria
        hold with the history up to then, else at the first later event of the profile at which
        they all hold (the clock moves there), as wait_for_condition waits for one. Returns the
        criteria at that moment (at the last event looked at, when they never hold) and a note
        saying so ("" when the user enters at the start)."""
        started = state.clock
        moments = [started, *state.future_moments(None)]
        criteria: list[Criterion] = []
        for moment in moments:
            state.clock = moment
            criteria = self.criteria(journey, state)
            if all(c.met for c in criteria):
                if moment == started:
                    return criteria, ""
                done = sorted({e.event for e in state.profile.events if e.timestamp == moment})
                return criteria, (
                    f"real-time entry: the criteria did not hold at the preview's start "
                    f"({iso(started)}); enters at the first later event that meets them: "
                    f"{', '.join(done)} at {iso(moment)}"
                )
        last = state.clock
        state.clock = started
        if last == started:
            return criteria, ""
        return criteria, (
            f"real-time entry: the criteria hold at no moment from the preview's start "
            f"({iso(started)}) to the profile's last event ({iso(last)}); shown as of then"
        )

    def run(
        self, journey: Journey, state: UserState, via: Literal["entry", "send_to_journey"]
    ) -> JourneyRun:
        self.entered.add(journey.name)
        notes = _notes(journey, via)
        if via == "entry" and journey.entry.type == "real_time":
            criteria, note = self.real_time_entry(journey, state)
            notes += [note] if note else []
        else:  # scheduled (the window opens at the start), or sent: at this moment only
            criteria = self.criteria(journey, state)
        run = JourneyRun(
            journey=journey.name,
            status=journey.status,
            via=via,
            eligible=all(c.met for c in criteria),
            entered_at=state.clock,
            criteria=criteria,
            context=dict(state.context),
            notes=notes,
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
        steps: Sequence[BaseStep],
        prefix: str,
        state: UserState,
        run: JourneyRun,
    ) -> None:
        for index, step in enumerate(steps):
            path = f"{prefix}[{index}]"
            visit = StepVisit(path, step.TYPE, step.label, state.clock, "", "")
            run.path.append(visit)
            if isinstance(step, SendToDestinationsStep):
                self.send_to_destinations(step, path, state, visit)
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
                self.wait_for_condition(journey, step, state, visit)
            elif isinstance(step, WaitStep):
                state.clock = _later(state.clock, step.duration, journey, path)
                visit.outcome = "waited"
                visit.detail = f"{_duration(step.duration)}, until {iso(state.clock)}"
            elif isinstance(step, UpdateTraitsStep):
                for name, value in step.traits.items():
                    if value is None:
                        state.traits.pop(name, None)
                    else:
                        state.traits[name] = value
                visit.outcome = "traits updated"
                visit.detail = "set " + ", ".join(
                    f"{name}={show(value)}" for name, value in step.traits.items()
                )
            elif isinstance(step, ExitStep):
                visit.outcome = "exited"
                visit.detail = "leaves the journey"
                raise _Stop("exited")

    def wait_for_condition(
        self, journey: Journey, step: WaitForConditionStep, state: UserState, visit: StepVisit
    ) -> None:
        condition = step.condition
        deadline = (
            _later(state.clock, timedelta(days=step.max_wait_days), journey, visit.path)
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
        self, source: Journey, step: SendToJourneyStep, state: UserState, visit: StepVisit
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
            visit.detail = (
                f"does not enter {target.name} ({failed}); continues in {source.name} only"
            )
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
            "source_step_id": step.compiled.id,
            "source_step_key": step.key,
            "entered_at": iso(state.clock),
        }
        if self.chain >= MAX_JOURNEY_CHAIN:
            raise InvalidJourney(
                f"{source.name} {visit.path}.journey",
                f"send_to_journey chains more than {MAX_JOURNEY_CHAIN} journeys deep (the limit)",
            )
        self.chain += 1
        try:
            run = self.run(target, state.entering(context), "send_to_journey")
        finally:
            self.chain -= 1
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
        self, step: SendToDestinationsStep, path: str, state: UserState, visit: StepVisit
    ) -> None:
        compiled = step.compiled
        visit.key = compiled.key
        parts: list[str] = []
        for destination in step.destinations:
            emissions, missing = emit(compiled, path, destination, state)
            visit.emissions.extend(emissions)
            parts.append(
                f"{destination.name} ({_counts(destination.name, destination.events, emissions)})"
            )
            problem = connector_problem(destination.name)
            if problem is not None:  # the same check send_preview makes before sending
                visit.notes.append(f"{destination.name}: {problem}; --send refuses this preview")
            if missing:
                visit.notes.append(
                    f"{destination.name}: trait enrichment skipped {', '.join(missing)} "
                    "(not on the profile)"
                )
        visit.outcome = "sent"
        visit.detail = "to " + ", ".join(parts)


def _counts(name: str, calls: Sequence[str], emissions: Sequence[Emission]) -> str:
    """``2 track, 1 identify``; for a list destination ``2 list adds`` (journey lists are
    add-only: each event adds the user to the step's list)."""
    if connector_kind(name) == "list":
        count = len(emissions)
        return f"{count} list add{'s' if count != 1 else ''}"
    return ", ".join(f"{sum(e.call == call for e in emissions)} {call}" for call in calls)


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
    state = UserState(profile=profile, clock=as_of, traits=dict(profile.traits))
    run = _Runner(file).run(chosen, state, "entry")
    return Preview(file.space.id, file.space.name, profile, as_of, run)
