"""Ask a yes/no question before something that cannot be taken back (copying secrets
unmasked): ``y`` or enter on "Yes" confirms; ``n`` or escape cancels, and cancelling is the
default."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """A question with "No" focused: only ``y`` or "Yes" confirms."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        #confirm {
            width: 70; max-width: 100%; height: auto;
            border: thick $error; background: $surface; padding: 0 1;
        }
        #confirm-hint { color: $text-muted; }
        #confirm-buttons { height: auto; margin-top: 1; }
        #confirm-buttons Button { margin-right: 2; }
    }
    """

    AUTO_FOCUS = "#confirm-no"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
    ]

    def __init__(self, question: str, *, hint: str = "y confirms · n or escape cancels") -> None:
        super().__init__()
        self.question = question
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="confirm-question")
            yield Static(self.hint, id="confirm-hint")
            with Horizontal(id="confirm-buttons"):
                yield Button("No", id="confirm-no", compact=True)
                yield Button("Yes", id="confirm-yes", variant="error", compact=True)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")
