"""Choose the destination: every connector in the registry, in a type-to-search ``Select``."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Select, Static

from tester_tui.widgets.field_row import FieldRow

__all__ = ["DestinationPicker"]


class DestinationPicker(Vertical):
    """The destination menu and a line describing the chosen one."""

    DEFAULT_CSS = """
    DestinationPicker {
        height: auto;
        #destination-about { color: $text-muted; height: auto; }
    }
    """

    class Chosen(Message):
        """The user chose the destination with this slug."""

        def __init__(self, slug: str) -> None:
            super().__init__()
            self.slug = slug

    def __init__(
        self, options: list[tuple[str, str]], value: str | None = None, **kwargs: Any
    ) -> None:
        """``options`` are ``(label, slug)`` pairs, ``value`` the slug chosen first.

        The app mounts the picker once the registry is loaded, so the menu starts with its
        options and has no blank entry: a "Loading…" line that could be chosen would leave no
        destination chosen while the form still shows the last one.
        """
        super().__init__(**kwargs)
        self._options = list(options)
        self._value = value if any(slug == value for _, slug in options) else None

    def compose(self) -> ComposeResult:
        if self._options:
            select = Select[str](
                self._options,
                value=self._value if self._value is not None else self._options[0][1],
                id="destination",
                allow_blank=False,
                compact=True,
            )
        else:  # no connector loaded at all: a prompt that says so (nothing to choose)
            select = Select[str]([], id="destination", prompt="(no destinations)", compact=True)
        yield FieldRow("Name", select, tooltip="Every connector in the registry; type to search")
        yield Static(id="destination-about")

    def set_destinations(self, options: list[tuple[str, str]], value: str | None) -> None:
        """Fill the menu with ``(label, slug)`` pairs (at least one) and choose ``value``."""
        select = self.query_one("#destination", Select)
        select.set_options(options)
        if value is not None:
            select.value = value

    def describe(self, text: str) -> None:
        """Show a short description of the chosen destination."""
        self.query_one("#destination-about", Static).update(text)

    @property
    def value(self) -> str | None:
        value = self.query_one("#destination", Select).value
        return None if value is Select.NULL else str(value)

    @value.setter
    def value(self, slug: str) -> None:
        self.query_one("#destination", Select).value = slug

    @on(Select.Changed, "#destination")
    def _changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self.post_message(self.Chosen(str(event.value)))
