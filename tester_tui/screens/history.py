"""The session history: every send (and credentials check) of this session; enter reopens one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

if TYPE_CHECKING:
    from sdk import Lifecycle

__all__ = ["HistoryScreen", "history_line"]


def history_line(index: int, lifecycle: Lifecycle) -> Text:
    """``#3 12:04:05 Sandbox track "Audience Entered" → 200 OK delivered``."""
    event = lifecycle.event
    what = (
        lifecycle.action
        if lifecycle.action == "test_authentication"
        else (str(event.get("type", "?")) + (f' "{event["event"]}"' if "event" in event else ""))
    )
    clock = lifecycle.started_at[11:19] if len(lifecycle.started_at) >= 19 else ""
    response = lifecycle.last_response
    status = f"{response.status_line} " if response is not None else ""
    return Text.assemble(
        (f"#{index} ", "bold"),
        (f"{clock} ", "dim"),
        f"{lifecycle.destination} {what} → ",
        (f"{status}{lifecycle.outcome.value}", "bold"),
    )


class HistoryScreen(ModalScreen[int | None]):
    """Pick a past send; dismisses with its index in the history."""

    DEFAULT_CSS = """
    HistoryScreen {
        align: center middle;
        #history {
            width: 90%; max-width: 120; height: auto; max-height: 80%;
            border: thick $primary; background: $surface; padding: 0 1;
        }
        #history-title { text-style: bold; }
        #history-hint { color: $text-muted; }
        OptionList { height: auto; max-height: 20; }
    }
    """

    AUTO_FOCUS = "#history-list"
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, lifecycles: list[Lifecycle]) -> None:
        super().__init__()
        self.lifecycles = lifecycles

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Static("Session history", id="history-title")
            if self.lifecycles:
                yield OptionList(
                    *[history_line(i + 1, lc) for i, lc in enumerate(self.lifecycles)],
                    id="history-list",
                )
                yield Static("enter reopens · escape closes", id="history-hint")
            else:
                yield Static("Nothing sent yet in this session.", id="history-hint")

    def on_mount(self) -> None:
        if self.lifecycles:
            options = self.query_one(OptionList)
            options.highlighted = len(self.lifecycles) - 1
            options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_close(self) -> None:
        self.dismiss(None)
