"""Jump mode: one key shows a letter for each pane; the letter moves the focus there (as
Posting's jump mode does for its panes). Escape, or any other key, leaves it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["JumpScreen"]


class JumpScreen(ModalScreen[str | None]):
    """``targets``: ``(letter, pane name, title)``; dismissed with the chosen pane's name."""

    DEFAULT_CSS = """
    JumpScreen {
        align: center top;
        background: $background 40%;
        #jump {
            width: auto; max-width: 100%; height: auto; margin-top: 2;
            border: thick $accent; background: $surface; padding: 0 1;
        }
        #jump-hint { color: $text-muted; }
    }
    """

    def __init__(self, targets: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.targets = targets

    def compose(self) -> ComposeResult:
        line = Text()
        for index, (letter, _name, title) in enumerate(self.targets):
            if index:
                line.append("   ")
            line.append(f" {letter} ", style="bold reverse")
            line.append(f" {title}")
        with Vertical(id="jump"):
            yield Static(line, id="jump-targets")
            yield Static("press a letter to jump there · escape stays", id="jump-hint")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        for letter, name, _title in self.targets:
            if event.character is not None and event.character.lower() == letter:
                self.dismiss(name)
                return
        self.dismiss(None)
