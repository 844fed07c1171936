"""A journey preview and its deliveries as text: what ``destkit journey preview`` prints and what
the event tester's journey mode shows (one rendering for both faces).

Names, traits and vendor answers come from outside: the text is passed through
:func:`sdk.terminal_safe`, so a control sequence in them is shown, never sent to the terminal."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sdk._terminal import terminal_safe
from sdk.journeys._conditions import show
from sdk.journeys._payloads import Emission
from sdk.journeys._results import JourneyRun, Preview, iso
from sdk.spec._messages import Track
from sdk.transport._lifecycle import Lifecycle, Outcome

__all__ = ["render_deliveries", "render_preview"]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _render_run(run: JourneyRun, indent: str) -> list[str]:
    how = "its entry rule" if run.via == "entry" else "send_to_journey"
    verdict = "entered by" if run.eligible else "not eligible by"
    lines = [f"{indent}{run.journey} ({run.status}): {verdict} {how} at {iso(run.entered_at)}"]
    inner = indent + "  "
    for criterion in run.criteria:
        lines.append(f"{inner}criterion  {criterion.rule}: {_yes(criterion.met)}")
    for note in run.notes:
        lines.append(f"{inner}note       {note}")
    if run.context:
        lines.append(f"{inner}context    {show(run.context)}")
    for number, visit in enumerate(run.path, start=1):
        lines.append(
            f"{inner}{number}. {visit.path}  {visit.type}  {visit.name!r}  at {iso(visit.at)}"
        )
        lines.append(f"{inner}     {visit.outcome}: {visit.detail}")
        if visit.key:
            lines.append(f"{inner}     key {visit.key}")
        for note in visit.notes:
            lines.append(f"{inner}     note: {note}")
        if visit.entry is not None and visit.entry.run is not None:
            lines.extend(_render_run(visit.entry.run, inner + "   | "))
    lines.append(f"{inner}outcome    {run.outcome}")
    return lines


def _describe(emission: Emission) -> str:
    message = emission.message
    what = f'track "{message.event}"' if isinstance(message, Track) else "identify"
    return f"{what} from {emission.journey} / {emission.step} ({emission.path})"


def render_preview(result: Preview) -> str:
    """The preview as text: the path, the journeys entered, the payloads per destination."""
    space = f"{result.space_id} ({result.space_name})" if result.space_name else result.space_id
    as_of = iso(result.as_of)
    lines = [
        f"Space    {space}",
        f"User     {result.user.label}, as of {as_of}",
        "",
        "Path",
    ]
    lines.extend(_render_run(result.run, "  "))
    entered = result.entered_journeys()
    lines.append("")
    if not result.run.eligible:
        lines.append(f"Entered  nothing: not eligible for {result.run.journey}")
    elif entered:
        lines.append(f"Entered  {', '.join(entered)} (and continued in {result.run.journey})")
    else:
        lines.append(f"Entered  no other journey (continued in {result.run.journey} only)")
    grouped = result.by_destination()
    total = sum(len(items) for items in grouped.values())
    lines.append("")
    lines.append(
        f"Payloads ({total} event{'s' if total != 1 else ''}; each destination receives only "
        "its own, the others filter them out)"
    )
    if not grouped:
        lines.append("  (none)")
    for name, emissions in grouped.items():
        lines.append(f"  {name}: {len(emissions)} event{'s' if len(emissions) != 1 else ''}")
        for number, emission in enumerate(emissions, start=1):
            lines.append(f"    [{number}] {_describe(emission)}")
            body = json.dumps(emission.message.to_wire(), indent=2, ensure_ascii=False)
            lines.extend("        " + line for line in body.splitlines())
    return terminal_safe("\n".join(lines), keep_newlines=True)


def render_deliveries(lifecycles: Sequence[Lifecycle]) -> str:
    """One line per lifecycle, then a count per destination and outcome."""
    lines = [f"Delivery ({len(lifecycles)} lifecycles)"]
    counts: dict[str, dict[str, int]] = {}
    for lifecycle in lifecycles:
        event = lifecycle.event
        what = str(event.get("type", "?"))
        if "event" in event:
            what += f' "{event["event"]}"'
        outcome = lifecycle.outcome.value
        response = lifecycle.last_response
        if lifecycle.outcome is Outcome.DELIVERED and response is not None:
            outcome += f" ({terminal_safe(response.status_line)})"
        elif lifecycle.outcome is Outcome.FILTERED and lifecycle.routing:
            outcome = str(lifecycle.routing.get("decision", outcome))
        elif lifecycle.error is not None:
            outcome += terminal_safe(f" ({lifecycle.error.cls}: {lifecycle.error.message})")
        lines.append(
            f"  {lifecycle.destination:<12} {what:<28} {event.get('messageId', '-')}  {outcome}"
        )
        per = counts.setdefault(lifecycle.destination, {})
        per[lifecycle.outcome.value] = per.get(lifecycle.outcome.value, 0) + 1
    order = [outcome.value for outcome in Outcome]
    for destination, per in counts.items():
        ranked = sorted(per.items(), key=lambda item: order.index(item[0]))
        summary = ", ".join(f"{n} {outcome}" for outcome, n in ranked)
        lines.append(f"Summary  {destination}: {summary}")
    return terminal_safe("\n".join(lines), keep_newlines=True)
