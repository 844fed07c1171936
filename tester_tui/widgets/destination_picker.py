"""Choose the destination: every connector in the registry, in a ``Select``, and a filter.

Typing on the menu (or in the filter) filters as you type: the matches (name or slug, any
part) are listed under the filter; enter or a click chooses the highlighted one, escape clears
the filter. The registry grows; a jump to the first match is not enough.
"""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from tester_tui.widgets.field_row import FieldRow

__all__ = ["DestinationPicker"]


class DestinationPicker(Vertical):
    """The destination menu and a line describing the chosen one."""

    DEFAULT_CSS = """
    DestinationPicker {
        height: auto;
        #destination { width: 1fr; }
        #destination-about { color: $text-muted; height: auto; }
        #destination-matches { height: auto; max-height: 8; border: none; display: none; }
        #destination-matches.-shown { display: block; }
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
        # The menu spans the pane (no label beside it): open, it covers whole lines, so no
        # fragment of the text under it shows beside it.
        select.tooltip = "Every connector in the registry; type to filter"
        yield select
        yield Static(id="destination-about")
        yield FieldRow(
            "Filter",
            Input(
                placeholder=f"type to filter ({len(self._options)} destinations)",
                id="destination-filter",
                compact=True,
                select_on_focus=False,
            ),
            tooltip="Type part of a name or slug; enter chooses the highlighted match",
        )
        yield OptionList(id="destination-matches")

    def matches(self, query: str) -> list[tuple[str, str]]:
        """The ``(label, slug)`` options whose label or slug contains ``query`` (any case)."""
        needle = query.strip().lower()
        return [(label, slug) for label, slug in self._options if needle in label.lower()]

    @on(Input.Changed, "#destination-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        found = self.query_one("#destination-matches", OptionList)
        query = event.value.strip()
        found.clear_options()
        if not query:
            found.remove_class("-shown")
            return
        hits = self.matches(query)
        if hits:
            found.add_options([Option(label, id=slug) for label, slug in hits])
            found.highlighted = 0
        else:
            found.add_option(Option(f"no destination matches {query!r}", disabled=True))
        found.add_class("-shown")

    def on_key(self, event: events.Key) -> None:
        filter_input = self.query_one("#destination-filter", Input)
        found = self.query_one("#destination-matches", OptionList)
        select = self.query_one("#destination", Select)
        if self.app.focused is select and not select.expanded and event.is_printable:
            # Typing on the closed menu filters: the keys go to the filter.
            event.stop()
            event.prevent_default()
            filter_input.focus()
            filter_input.insert_text_at_cursor(event.character or "")
            return
        if self.app.focused is filter_input and found.has_class("-shown"):
            if event.key in ("down", "up"):
                event.stop()
                event.prevent_default()
                if event.key == "down":
                    found.action_cursor_down()
                else:
                    found.action_cursor_up()
            elif event.key == "escape":
                event.stop()
                filter_input.value = ""

    @on(Input.Submitted, "#destination-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        found = self.query_one("#destination-matches", OptionList)
        if found.highlighted is not None:
            self._choose_match(found.get_option_at_index(found.highlighted))

    @on(OptionList.OptionSelected, "#destination-matches")
    def _match_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose_match(event.option)

    def _choose_match(self, option: Option) -> None:
        if option.id is None or option.disabled:
            return
        self.query_one("#destination-filter", Input).value = ""
        select = self.query_one("#destination", Select)
        select.value = option.id
        select.focus()

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
