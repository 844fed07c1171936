"""``destkit journey preview FILE --user USER.json [--journey NAME] [--send] [--json]``.

Prints a user's path through a journey (and the journeys a send_to_journey step entered them
into) and the payloads each destination would receive; ``--send`` delivers them and prints one
line per lifecycle. Exit codes follow ``destkit``: 0 done (every delivery delivered or filtered),
1 a delivery failed, 2 bad input (file, user, settings), reported as one
``destkit: error: ...`` line by :func:`sdk.cli.main`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sdk._errors import InvalidSettings
from sdk._journey_conditions import show
from sdk._journey_files import load_journey_file, load_user_profile
from sdk._journey_payloads import Emission
from sdk._journey_results import JourneyRun, Preview, StepRef, iso
from sdk._journey_run import preview
from sdk._journey_send import missing_settings, send_preview
from sdk._lifecycle import Lifecycle, Outcome
from sdk._messages import Track
from sdk._registry import get_destination
from sdk._settings import env_var_name

__all__ = ["render_deliveries", "render_preview", "run_journey_command"]

EXIT_OK = 0
EXIT_FAILED = 1


def run_journey_command(args: argparse.Namespace) -> int:
    """Run ``destkit journey <command>``; input errors propagate as ``InputError``."""
    if args.journey_command != "preview":  # argparse allows no other today
        raise InvalidSettings("journey", f"unknown journey command {args.journey_command!r}")
    settings = _settings_by_destination(args.setting)
    if settings and not args.send:
        raise InvalidSettings("setting", "--setting is only used with --send")
    journey_file = load_journey_file(args.file)
    user = load_user_profile(args.user)
    result = preview(journey_file, user, journey=args.journey)
    lifecycles: list[Lifecycle] | None = None
    step = getattr(args, "step", None)
    if step is not None and not args.send:
        raise InvalidSettings("step", "--step is only used with --send")
    only = resolve_step(result, step) if step is not None else None
    if args.send:
        missing = missing_settings(result, settings, step=only)
        if missing:
            hint = missing[0]
            slug = get_destination(hint.rpartition(".")[0]).slug
            variable = env_var_name(slug, hint.rpartition(".")[2])
            raise InvalidSettings(
                "setting",
                f"missing {', '.join(missing)} to send this preview "
                f"(give --setting {hint}=VALUE or set {variable})",
            )
        with _sandboxes(result, settings) as ready:
            lifecycles = send_preview(result, ready, step=only)
    if args.json:
        document = result.to_dict()
        if lifecycles is not None:
            document["deliveries"] = [lifecycle.to_dict() for lifecycle in lifecycles]
        print(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    else:
        print(render_preview(result))
        if lifecycles is not None:
            print()
            print(render_deliveries(lifecycles))
    if lifecycles is not None and any(_failed(lifecycle) for lifecycle in lifecycles):
        return EXIT_FAILED
    return EXIT_OK


def resolve_step(result: Preview, text: str) -> StepRef:
    """The ``(journey, path)`` of the step ``text`` names among the steps that emitted events
    in this preview: by its name, its path (``steps[1]``) or ``JOURNEY/STEP``."""
    steps = list(dict.fromkeys((e.journey, e.path, e.step) for e in result.messages))
    found = [
        (journey, path)
        for journey, path, name in steps
        if text in (name, path, f"{journey}/{name}", f"{journey}/{path}")
    ]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{journey}/{name}" for journey, _, name in steps) or "none"
    if not found:
        raise InvalidSettings(
            "step", f"no step {text!r} sent events in this preview (steps that did: {known})"
        )
    choices = ", ".join(f"{journey}/{path}" for journey, path in found)
    raise InvalidSettings("step", f"{text!r} names several steps: write one of {choices}")


def _failed(lifecycle: Lifecycle) -> bool:
    return lifecycle.outcome not in (Outcome.DELIVERED, Outcome.FILTERED)


def _settings_by_destination(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """``[("Webhook.url", "https://...")]`` -> ``{"Webhook": {"url": "https://..."}}``.

    The destination part is matched by slug or name; the last ``.`` splits it from the setting
    (names like ``Customer.io`` keep their dot). Values are never echoed: they may be secrets.
    """
    settings: dict[str, dict[str, Any]] = {}
    for name, value in pairs:
        destination, dot, key = name.rpartition(".")
        if not dot or not destination.strip() or not key.strip():
            raise InvalidSettings(
                "setting", f"{name!r} must look like DEST.KEY=VALUE (e.g. Webhook.url=https://...)"
            )
        connector = get_destination(destination.strip())
        settings.setdefault(connector.name, {})[key.strip()] = value
    return settings


@contextlib.contextmanager
def _sandboxes(
    result: Preview, settings: dict[str, dict[str, Any]]
) -> Iterator[dict[str, dict[str, Any]]]:
    """Settings where a sandbox destination without an endpoint gets a loopback server."""
    from sdk.cli import sandbox_endpoint

    ready = {name: dict(values) for name, values in settings.items()}
    with contextlib.ExitStack() as stack:
        for name in result.destinations:
            destination = get_destination(name)
            values = ready.get(destination.name, {})
            ready[destination.name] = stack.enter_context(
                sandbox_endpoint(destination.slug, values)
            )
        yield ready


# -- text ----------------------------------------------------------------------------------------


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
    return "\n".join(lines)


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
            outcome += f" ({response.status_line})"
        elif lifecycle.outcome is Outcome.FILTERED and lifecycle.routing:
            outcome = str(lifecycle.routing.get("decision", outcome))
        elif lifecycle.error is not None:
            outcome += f" ({lifecycle.error.cls}: {lifecycle.error.message})"
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
    return "\n".join(lines)
