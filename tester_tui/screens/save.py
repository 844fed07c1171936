"""Ask for a file path: where to save a lifecycle record as JSON, or which journey file to
open."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

__all__ = ["SavePathScreen"]


class SavePathScreen(ModalScreen[str | None]):
    """An Input pre-filled with a file name; enter saves, escape cancels."""

    DEFAULT_CSS = """
    SavePathScreen {
        align: center middle;
        #save {
            width: 70; max-width: 100%; height: auto;
            border: thick $primary; background: $surface; padding: 0 1;
        }
        #save-hint { color: $text-muted; }
    }
    """

    AUTO_FOCUS = "#save-path"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, default_path: str, *, hint: str = "enter saves · escape cancels"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.default_path = default_path
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Static(self.title_text)
            yield Input(self.default_path, id="save-path")
            yield Static(self.hint, id="save-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        self.dismiss(path or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
