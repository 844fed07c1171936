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
from sdk._terminal import terminal_safe_json
from sdk.connector._registry import get_destination
from sdk.connector._settings import env_var_name
from sdk.journeys._files import load_journey_file, load_user_profile
from sdk.journeys._render import render_deliveries, render_preview
from sdk.journeys._results import Preview, StepRef
from sdk.journeys._run import preview
from sdk.journeys._send import missing_settings, send_preview
from sdk.transport._lifecycle import Lifecycle, Outcome

__all__ = ["run_journey_command"]

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
        print(terminal_safe_json(json.dumps(document, indent=2, ensure_ascii=False, default=str)))
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
    from sdk.cli._send import sandbox_endpoint

    ready = {name: dict(values) for name, values in settings.items()}
    with contextlib.ExitStack() as stack:
        for name in result.destinations:
            destination = get_destination(name)
            values = ready.get(destination.name, {})
            ready[destination.name] = stack.enter_context(
                sandbox_endpoint(destination.slug, values)
            )
        yield ready
