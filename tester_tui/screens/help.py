"""The help screen: every key binding of the tester, from the same table the Footer and the
command palette use, plus how the tester works in a few lines."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["ABOUT", "JOURNEY_ABOUT", "HelpScreen"]

ABOUT = (
    "Choose a destination and fill its settings; choose an event type (a test user id is "
    "generated); check or edit the JSON payload; send. The lifecycle shows the routing "
    "decision, every attempt with its status, the waits between retries, and the request and "
    "response. Secrets are masked everywhere on screen and in saved records."
)

JOURNEY_ABOUT = (
    "Journey mode: pick a journey in the tree (or the menu) and a test user (a user file, or a "
    "generated user whose id you can edit), then preview (f5): the path the user takes, "
    "whether each send-to-journey step enters them into the other journey and why, and every "
    "payload each destination would receive. Fill the destinations' settings and send (ctrl+s): "
    "each destination delivers its own events and filters out the others'. Nothing is sent "
    "before you press ctrl+s."
)


class HelpScreen(ModalScreen[None]):
    """Lists ``(keys, description)`` rows."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help {
            width: 76; max-width: 100%; height: auto; max-height: 90%;
            border: thick $primary; background: $surface; padding: 0 1;
        }
        #help-title { text-style: bold; width: 1fr; content-align: center middle; }
        #help-about { color: $text-muted; margin-bottom: 1; }
        #help-close { color: $text-muted; width: 1fr; content-align: center middle; }
        VerticalScroll { height: auto; max-height: 100%; }
    }
    """

    AUTO_FOCUS = "#help-scroll"
    BINDINGS = [
        Binding("escape,f1,q", "app.pop_screen", "Close help"),
    ]

    def __init__(
        self,
        rows: list[tuple[str, str]],
        *,
        title: str = "destkit event tester — keys",
        about: str = ABOUT,
    ) -> None:
        super().__init__()
        self.rows = rows
        self.title_text = title
        self.about = about

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, description in self.rows:
            table.add_row(keys, description)
        with Vertical(id="help"):
            yield Static(self.title_text, id="help-title")
            # Under the title, so no terminal is too short to show how to close it.
            yield Static("escape, q or f1 closes · ↑ ↓ scroll", id="help-close")
            with VerticalScroll(id="help-scroll"):
                yield Static(Text(self.about), id="help-about")
                yield Static(table, id="help-keys")
