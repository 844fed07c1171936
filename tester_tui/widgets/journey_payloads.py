"""The payloads of a preview, per destination: a list of every event each connected destination
would receive (with the step that emits it), and the chosen one as highlighted JSON in the
read-only :class:`~tester_tui.widgets.json_area.JsonTextArea`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tester_tui.journey_session import Focus, emission_label
from tester_tui.widgets.json_area import JsonTextArea

__all__ = ["JourneyPayloads"]

EMPTY = "Preview first (f5): every event each destination would receive appears here."


class JourneyPayloads(Vertical):
    """Call :meth:`show` with ``Preview.to_dict()`` (or None) and the focused step."""

    DEFAULT_CSS = """
    JourneyPayloads {
        height: 1fr;
        #jp-head { height: auto; padding: 0 1; }
        #jp-emissions { height: auto; max-height: 40%; border: none; padding: 0 1; }
        #jp-about { height: auto; padding: 0 1; color: $text-muted; }
        #jp-json { height: 1fr; border: none; }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.emissions: list[Mapping[str, Any] | None] = []  # by option index (None: a header)
        self.destinations: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="jp-head")
        yield OptionList(id="jp-emissions")
        yield Static(id="jp-about")
        yield JsonTextArea("", id="jp-json", read_only=True)

    def on_mount(self) -> None:
        self.show(None, None)

    def show(self, document: Mapping[str, Any] | None, focus: Focus | None) -> None:
        """List the preview's payloads (only the focused step's, when it emits any)."""
        head = self.query_one("#jp-head", Static)
        options = self.query_one("#jp-emissions", OptionList)
        self.emissions = []
        if document is None:
            head.update(Text(EMPTY, style="dim"))
            options.clear_options()
            options.display = False
            self._draw(None)
            return
        grouped: Mapping[str, list[Mapping[str, Any]]] = document["destinations"]
        source = document["journey"]["journey"]
        self.destinations = list(grouped)
        total = sum(len(items) for items in grouped.values())
        chosen = {name: list(items) for name, items in grouped.items()}
        note = ""
        if focus is not None:
            focused = {
                name: [e for e in items if (e["journey"], e["path"]) == focus]
                for name, items in grouped.items()
            }
            count = sum(len(items) for items in focused.values())
            if count:
                chosen = {name: items for name, items in focused.items() if items}
                note = f"{count} of {total}: the focused step's; ctrl+s sends these, f7 all {total}"
            else:
                note = "the focused step sends nothing to destinations; all shown (f7 sends them)"
        elif total:
            note = "ctrl+s sends them all"
        head.update(
            Text.assemble(
                (f"{total} event{'s' if total != 1 else ''}", "bold"),
                " · each destination keeps only its own, filters out the rest",
                (f" · {note}" if note else "", "bold"),
            )
        )
        items: list[Option] = []
        for name, emissions in chosen.items():
            items.append(
                Option(
                    Text.assemble(
                        (name, "bold"),
                        f" · {len(emissions)} event{'s' if len(emissions) != 1 else ''}",
                    ),
                    disabled=True,
                )
            )
            self.emissions.append(None)
            for number, emission in enumerate(emissions, start=1):
                items.append(Option(Text(f"  [{number}] {emission_label(emission, source)}")))
                self.emissions.append(emission)
        options.set_options(items)
        options.display = bool(items)
        first = next((i for i, e in enumerate(self.emissions) if e is not None), None)
        if first is not None:
            options.highlighted = first
        self._draw(self.emissions[first] if first is not None else None)

    def _draw(self, emission: Mapping[str, Any] | None) -> None:
        area = self.query_one("#jp-json", JsonTextArea)
        about = self.query_one("#jp-about", Static)
        area.display = emission is not None  # an empty editor would show a lone line "1"
        if emission is None:
            about.update("")
            area.load_text("")
            return
        message = emission["message"]
        others = [name for name in self.destinations if name != emission["destination"]]
        integrations = json.dumps(message.get("integrations", {}))
        line = Text.assemble(
            (emission["destination"], "bold"),
            f" receives it (integrations {integrations})",
        )
        if others:
            line.append(f"; {', '.join(others)} filter it out")
        line.append(
            f" · from {emission['journey']} / {emission['step']} ({emission['path']})"
            f" · key {emission['key']}"
        )
        about.update(line)
        area.load_text(json.dumps(message, indent=2, ensure_ascii=False, default=str))

    @property
    def shown(self) -> Mapping[str, Any] | None:
        """The emission whose JSON is shown."""
        index = self.query_one("#jp-emissions", OptionList).highlighted
        if index is None or index >= len(self.emissions):
            return None
        return self.emissions[index]

    @on(OptionList.OptionHighlighted, "#jp-emissions")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index < len(self.emissions):
            emission = self.emissions[event.option_index]
            if emission is not None:
                self._draw(emission)

    @on(OptionList.OptionSelected, "#jp-emissions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#jp-json", JsonTextArea).focus()
