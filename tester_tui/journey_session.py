"""The glue between journey mode and ``sdk``'s journeys API: where the test users are, a
generated user, what a preview's destinations are sent with, and the words the screen uses.

Plain functions, no widgets (as ``session.py`` is for the tester). The screen draws a preview from
``Preview.to_dict()``, the documented ``destkit.journey-preview/1`` form, so these read dicts;
every rule (eligibility, payloads, required settings, delivery) is a call into ``sdk``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdk import Destination, JourneyFile, Lifecycle, Preview, UserProfile

__all__ = [
    "USER_SUFFIXES",
    "Focus",
    "delivery_counts",
    "emission_label",
    "entered_summary",
    "file_summary",
    "find_visits",
    "generated_user",
    "profile_summary",
    "reachable_journeys",
    "redact_with",
    "send_problem",
    "send_settings",
    "shown_path",
    "user_files",
    "users_folder",
    "walk_runs",
]

USER_SUFFIXES = (".json", ".yaml", ".yml")

Focus = tuple[str, str]  # (journey name, step path such as "steps[2].if_true[0]")


def shown_path(path: str | Path) -> str:
    """``path`` relative to the working directory when it is inside it, else as given."""
    given = Path(path).expanduser()
    try:
        return str(given.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(given)


def users_folder(journey_file: str | Path) -> Path | None:
    """The ``users/`` folder next to the journey file, when there is one."""
    folder = Path(journey_file).expanduser().parent / "users"
    return folder if folder.is_dir() else None


def user_files(folder: Path | None) -> list[Path]:
    """The user profiles (JSON or YAML) of ``folder``, by name."""
    if folder is None:
        return []
    try:
        return sorted(
            (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in USER_SUFFIXES),
            key=lambda p: p.name,
        )
    except OSError:
        return []


def generated_user(user_id: str) -> dict[str, Any]:
    """A minimal test user: an id and nothing else (no traits, identifiers or events)."""
    return {"user_id": user_id.strip()}


def file_summary(file: JourneyFile) -> str:
    """``Demo Store (spa_demo_store) · 2 journeys``."""
    space = f"{file.space.name} ({file.space_id})" if file.space.name else file.space_id
    count = len(file.journeys)
    return f"{space} · {count} journey{'s' if count != 1 else ''}"


def profile_summary(profile: UserProfile) -> str:
    """``user-1001 · 6 traits · 2 ids · 3 events · as of 2026-11-02 09:00Z``."""
    parts = [
        profile.label,
        f"{len(profile.traits)} traits",
        f"{len(profile.identifiers)} ids",
        f"{len(profile.events)} events",
        "as of " + (profile.as_of.strftime("%Y-%m-%d %H:%MZ") if profile.as_of else "now"),
    ]
    return " · ".join(parts)


def reachable_journeys(file: JourneyFile, start: str) -> set[str]:
    """``start`` and every journey its send-to-journey steps can lead to (any depth)."""
    by_name = {journey.name: journey for journey in file.journeys}
    found: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in found or name not in by_name:
            continue
        found.add(name)
        for _, step in by_name[name].walk():
            if getattr(step, "type", "") == "send_to_journey":
                todo.append(str(getattr(step, "journey", "")))
    return found


# -- a preview, as Preview.to_dict() gives it -----------------------------------------------------


def walk_runs(run: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """A run (``document["journey"]``) and every run it entered, depth first."""
    yield run
    for visit in run.get("path", []):
        entry = visit.get("entry")
        if entry and entry.get("run"):
            yield from walk_runs(entry["run"])


def find_visits(document: Mapping[str, Any], focus: Focus) -> list[Mapping[str, Any]]:
    """The visits of the focused step in the preview (none when the user never reached it)."""
    journey, path = focus
    return [
        visit
        for run in walk_runs(document["journey"])
        if run["journey"] == journey
        for visit in run.get("path", [])
        if visit["path"] == path
    ]


def entered_summary(document: Mapping[str, Any]) -> tuple[str, str]:
    """The preview's verdict as ``(text, kind)`` (kind: ``ok``, ``retry`` or ``muted``); the
    same words as the ``Entered`` line of ``destkit journey preview``."""
    run = document["journey"]
    entered = list(document.get("entered_journeys", []))
    if not run["eligible"]:
        failed = "; ".join(c["rule"] for c in run.get("criteria", []) if not c["met"])
        return f"Not eligible for {run['journey']} ({failed})", "retry"
    if entered:
        return f"Enters {', '.join(entered)} (and continues in {run['journey']})", "ok"
    return f"Enters no other journey (continues in {run['journey']} only)", "muted"


def emission_label(emission: Mapping[str, Any], journey: str | None = None) -> str:
    """``track "Audience Entered" · Opened Email``; the step's journey is named when it is not
    ``journey`` (the one previewed): ``identify · Welcome Offer (Loyalty Welcome)``."""
    message = emission["message"]
    what = f'track "{message.get("event")}"' if emission["call"] == "track" else emission["call"]
    where = "" if emission["journey"] == journey else f" ({emission['journey']})"
    return f"{what} · {emission['step']}{where}"


# -- sending ----------------------------------------------------------------------------------


def settings_for(
    destination: Destination[Any],
    store: Mapping[str, Mapping[str, Any]],
    *,
    environ: Mapping[str, str],
    file_values: Mapping[str, Mapping[str, Any]],
    sandbox_url: str | None,
) -> dict[str, Any]:
    """One destination's settings: what the user filled in (``store``, by slug, shared with
    the tester), else the tester's pre-fills (environment, settings file); the sandbox
    destination points at the running sandbox unless it has an endpoint."""
    from tester_tui.session import initial_settings

    values = store.get(destination.slug)
    if values is None:
        values = initial_settings(
            destination, environ, file_values.get(destination.slug, {}), sandbox_url
        )
    values = dict(values)
    if destination.slug == "sandbox" and not values.get("endpoint") and sandbox_url:
        values["endpoint"] = sandbox_url
    return values


def send_settings(
    preview: Preview,
    store: Mapping[str, Mapping[str, Any]],
    *,
    environ: Mapping[str, str],
    file_values: Mapping[str, Mapping[str, Any]],
    sandbox_url: str | None,
    step: Focus | None = None,
) -> dict[str, dict[str, Any]]:
    """The settings of every destination the preview sends to (``step``'s events go to, when
    given), by destination name (see :func:`settings_for`). Raises ``sdk.InputError`` for a
    destination not in the registry."""
    from sdk import get_destination

    return {
        destination.name: settings_for(
            destination, store, environ=environ, file_values=file_values, sandbox_url=sandbox_url
        )
        for destination in (get_destination(name) for name in preview.destinations_of(step))
    }


def send_problem(
    preview: Preview, settings: Mapping[str, Mapping[str, Any]], step: Focus | None = None
) -> str | None:
    """Why the preview (``step``'s events only, when given) cannot be sent with ``settings``
    (one line naming the settings), or None. The form is the single source: the environment
    was read when it was filled in."""
    from sdk import InputError, env_var_name, get_destination, load_settings, missing_settings

    try:
        missing = missing_settings(preview, settings, environ={}, step=step)
    except InputError as exc:
        return exc.message
    if missing:
        hint = missing[0]
        name, _, field = hint.rpartition(".")
        variable = env_var_name(get_destination(name).slug, field)
        return (
            f"missing {', '.join(missing)} to send this preview "
            f"(fill {'them' if len(missing) > 1 else 'it'} in Settings, or set {variable})"
        )
    for name, values in settings.items():
        destination = get_destination(name)
        try:
            load_settings(destination.settings, dict(values), slug=destination.slug, environ={})
        except InputError as exc:
            return f"{destination.name}.{exc.message}"
    return None


def redact_with(settings: Mapping[str, Mapping[str, Any]], text: str) -> str:
    """``text`` with every secret of ``settings`` (by destination name or slug) masked; a
    destination not in the registry, or settings that do not load, add no secret."""
    from sdk import InputError, Redactor, get_destination, load_settings, secret_values

    secrets: list[str] = []
    for name, values in settings.items():
        try:
            destination = get_destination(name)
            loaded = load_settings(destination.settings, dict(values), environ={})
        except (InputError, ValueError, TypeError):
            continue
        secrets.extend(secret_values(loaded))
    return Redactor(secrets).text(text)


def delivery_counts(lifecycles: list[Lifecycle]) -> dict[str, dict[str, int]]:
    """``{destination: {outcome: count}}``: destinations in the order the lifecycles came,
    outcomes in ``sdk.Outcome``'s order (delivered first)."""
    counts: dict[str, dict[str, int]] = {}
    for lifecycle in lifecycles:
        per = counts.setdefault(lifecycle.destination, {})
        per[lifecycle.outcome.value] = per.get(lifecycle.outcome.value, 0) + 1
    order = [outcome.value for outcome in type(lifecycles[0].outcome)] if lifecycles else []
    return {
        destination: dict(sorted(per.items(), key=lambda item: order.index(item[0])))
        for destination, per in counts.items()
    }
