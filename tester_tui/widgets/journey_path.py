"""The user's path through a journey, drawn from ``Preview.to_dict()``: each step visited with
its outcome badge (splits taken, waits, sends), and at each send-to-journey step whether the user
enters the other journey and why: every entry and audience criterion met or not, the notes
(scheduled entry ignored, draft or idle journey allowed), the context passed along, and the
other journey's own run, behind a bar. Wrapped lines keep their indent at any width."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from tester_tui.journey_session import Focus, entered_summary, find_visits
from tester_tui.lifecycle_render import Palette, badge, palette_of

__all__ = ["OUTCOME_KINDS", "JourneyPathView", "path_renderable"]

#: Badge colour of each step and run outcome (``ok``, ``retry`` (amber), ``fail`` or muted).
OUTCOME_KINDS = {
    "sent": "ok",
    "entered": "ok",
    "condition met": "ok",
    "completed": "ok",
    "not eligible": "retry",
    "already entered": "retry",
    "timed out": "retry",
    "waiting": "retry",
    "exited": "fail",
}


class _Bar:
    """``renderable`` behind a vertical bar, on every line (wrapped ones too)."""

    def __init__(self, renderable: RenderableType, style: str) -> None:
        self.renderable = renderable
        self.style = Style.parse(style)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width - 2, 1)
        lines = console.render_lines(self.renderable, options.update_width(width), pad=False)
        bar = Segment("┃ ", self.style)
        for line in lines:
            yield bar
            yield from line
            yield Segment.line()


def _at(value: str) -> str:
    """``2026-11-03T07:15:00Z`` -> ``11-03 07:15Z`` (the year is in the header)."""
    if len(value) >= 16 and value[4] == "-" and value[10] == "T":
        return f"{value[5:10]} {value[11:16]}Z"
    return value


def _when(value: str) -> str:
    """``2026-11-02T09:00:00Z`` -> ``2026-11-02 09:00Z``."""
    return f"{value[:10]} {_at(value)[6:]}" if _at(value) != value else value


def _indent(text: Text, by: int) -> RenderableType:
    return Padding(text, (0, 0, 0, by)) if by else text


def _criteria(criteria: Iterable[Mapping[str, Any]], by: int, p: Palette) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for criterion in criteria:
        met = bool(criterion["met"])
        line = Text.assemble(
            ("✓ " if met else "✗ ", f"bold {p.ok if met else p.fail}"),
            (criterion["rule"], "" if met else p.fail),
        )
        if not met:
            line.append("  not met", style=f"bold {p.fail}")
        lines.append(_indent(line, by))
    return lines


def _notes(notes: Iterable[str], by: int, p: Palette) -> list[RenderableType]:
    return [_indent(Text.assemble(("note ", f"bold {p.retry}"), note), by) for note in notes]


def _run(
    run: Mapping[str, Any], focus: Focus | None, p: Palette, *, show_criteria: bool
) -> list[RenderableType]:
    how = "its entry rule" if run["via"] == "entry" else "send_to_journey"
    verdict = "entered by" if run["eligible"] else "not eligible by"
    parts: list[RenderableType] = [
        Text.assemble(
            (run["journey"], "bold"),
            (f" ({run['status']})", p.muted),
            (f" {verdict} {how} at {_at(run['entered_at'])}", p.muted),
        )
    ]
    if show_criteria:
        parts += _criteria(run.get("criteria", []), 2, p)
    parts += _notes(run.get("notes", []), 2, p)
    if run.get("context"):
        context = json.dumps(run["context"], ensure_ascii=False, default=str)
        parts.append(_indent(Text.assemble(("context ", "bold"), (context, p.muted)), 2))
    for number, visit in enumerate(run.get("path", []), start=1):
        parts += _visit(run["journey"], number, visit, focus, p)
    outcome = run["outcome"]
    parts.append(
        _indent(
            Text.assemble(("outcome ", "bold"), badge(outcome, OUTCOME_KINDS.get(outcome, ""), p)),
            2,
        )
    )
    return parts


def _visit(
    journey: str, number: int, visit: Mapping[str, Any], focus: Focus | None, p: Palette
) -> list[RenderableType]:
    focused = focus is not None and focus == (journey, visit["path"])
    outcome = visit["outcome"]
    head = Text.assemble(
        (f"{number}. ", "bold"),
        badge(outcome, OUTCOME_KINDS.get(outcome, ""), p),
        " ",
        (visit["name"], "bold reverse" if focused else "bold"),
        (f"  {visit['type']}", p.muted),
    )
    branch = visit["path"].rpartition(".")[2] if "." in visit["path"] else ""
    if branch:
        head.append(f" · in {branch.split('[')[0]}", style=p.muted)
    if focused:
        head.append("  ◆ focus", style=f"bold {p.retry}")
    parts: list[RenderableType] = [_indent(head, 2)]
    at = Text(f"{_at(visit['at'])} · ", style=p.muted)
    entry = visit.get("entry")
    key = [_indent(Text(f"key {visit['key']}", style=p.muted), 6)] if visit.get("key") else []
    if visit["type"] == "send_to_journey" and entry is not None:
        verdict, *why = _entry(journey, entry, visit, at, focus, p)
        parts += [verdict, *key, *why]
    else:
        parts += [_indent(Text.assemble(at, visit["detail"]), 6), *key]
    parts += _notes(visit.get("notes", []), 6, p)
    return parts


def _entry(
    source: str,
    entry: Mapping[str, Any],
    visit: Mapping[str, Any],
    at: Text,
    focus: Focus | None,
    p: Palette,
) -> list[RenderableType]:
    """Whether the user enters the destination journey, and why."""
    target = f"{entry['journey']} ({entry['status']})"
    if entry["entered"]:
        line = Text.assemble(
            at,
            ("eligible: enters ", f"bold {p.ok}"),
            (target, "bold"),
            f" at its first step, now; also continues in {source}",
        )
    elif visit["outcome"] == "already entered":
        line = Text.assemble(
            at,
            ("already entered: ", f"bold {p.retry}"),
            "does not enter ",
            (target, "bold"),
            f" again (entry is one-time); continues in {source}",
        )
    else:
        line = Text.assemble(
            at,
            ("not eligible: ", f"bold {p.retry}"),
            "does not enter ",
            (target, "bold"),
            f" at this moment; continues in {source} only",
        )
    parts: list[RenderableType] = [_indent(line, 6)]
    parts += _criteria(entry.get("criteria", []), 6, p)
    run = entry.get("run")
    if run is not None:
        # The run's criteria are the ones above (the same evaluation): not repeated.
        nested = Group(*_run(run, focus, p, show_criteria=False))
        parts.append(Padding(_Bar(nested, f"bold {p.ok}"), (0, 0, 0, 6)))
    return parts


def path_renderable(
    document: Mapping[str, Any], focus: Focus | None, palette: Palette
) -> RenderableType:
    """The whole preview path (it wraps to the pane's width, keeping indents)."""
    p = palette
    user = document["user"]
    label = user.get("user_id") or f"anonymous {user.get('anonymous_id')}"
    space = document["space"]
    where = f"{space['name']} ({space['id']})" if space.get("name") else space["id"]
    parts: list[RenderableType] = [
        Text.assemble(
            ("User ", "bold"), (f"{label} · as of {_when(document['as_of'])} · {where}", p.muted)
        )
    ]
    summary, kind = entered_summary(document)
    colour = {"ok": p.ok, "retry": p.retry}.get(kind, "")
    parts.append(Text(summary, style=f"bold {colour}".strip()))
    if focus is not None:
        visits = find_visits(document, focus)
        if visits:
            first = visits[0]
            parts.append(
                Text.assemble(
                    ("Focus ", "bold"),
                    f"{first['name']} ({focus[0]} / {focus[1]}): ",
                    (first["outcome"], "bold"),
                    (f" at {_at(first['at'])}", p.muted),
                )
            )
        else:
            parts.append(
                Text.assemble(
                    ("Focus ", "bold"),
                    (f"{focus[0]} / {focus[1]}: not reached by this user", p.retry),
                )
            )
    parts.append(Text(""))
    parts += _run(document["journey"], focus, p, show_criteria=True)
    return Group(*parts)


class JourneyPathView(Static):
    """The Path pane's text: the preview's path, or what is happening instead (previewing,
    an error, the file did not load, press f5)."""

    def show(
        self,
        document: Mapping[str, Any] | None,
        focus: Focus | None,
        *,
        previewing: bool = False,
        stale: bool = False,
        error: str | None = None,
        file_loaded: bool = True,
    ) -> None:
        """Draw ``document`` (``Preview.to_dict()``) with ``focus`` marked; ``stale``: the
        file, user or journey changed since it was made."""
        palette = palette_of(self.app)
        if previewing:
            self.update(Text("Previewing…", style="bold"))
        elif document is not None:
            drawn = path_renderable(document, focus, palette)
            if stale:
                head = Text(
                    "⚠ the file, user or journey changed since this preview: f5 previews again",
                    style=f"bold {palette.retry}",
                )
                drawn = Group(head, drawn)
            self.update(drawn)
        elif error is not None:
            self.update(Text(f"✗ {error}", style=f"bold {palette.fail}"))
        elif not file_loaded:
            self.update(
                Text(
                    "✗ the journey file did not load (the error is under its path in Setup)",
                    style=palette.fail,
                )
            )
        else:
            self.update(
                Text.assemble(
                    ("Press f5 to preview", "bold"),
                    (
                        ": the user's path through the journey step by step, the other journeys "
                        "they enter, and every payload each destination would receive. Nothing "
                        "is sent before ctrl+s.",
                        palette.muted,
                    ),
                )
            )
