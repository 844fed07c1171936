"""Sending a preview: the settings of each destination it names (the tester's own
:class:`~tester_tui.widgets.settings_form.SettingsForm`, one destination at a time), a one-line
status (what will be sent, or why it cannot be), then every lifecycle of the send, each drawn
with the tester's :class:`~tester_tui.widgets.lifecycle_view.LifecycleView`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Select, Static, TabbedContent, TabPane

from tester_tui.journey_session import delivery_counts
from tester_tui.screens.history import history_line
from tester_tui.widgets.field_row import FieldRow
from tester_tui.widgets.lifecycle_view import LifecycleView, Palette, badge, palette_of
from tester_tui.widgets.settings_form import SettingsForm

if TYPE_CHECKING:
    from sdk import Lifecycle

__all__ = ["JourneySend"]

_KINDS = {"delivered": "ok", "filtered": "muted", "pending": "retry"}


class JourneySend(Vertical):
    """Settings and deliveries; the screen decides what to send and when."""

    DEFAULT_CSS = """
    JourneySend {
        height: 1fr;
        #js-status { height: auto; padding: 0 1; color: $text-muted; }
        #js-status.-error { color: $error; }
        #js-status.-ok { color: $success; }
        #js-tabs { height: 1fr; }
        #js-tabs TabPane { padding: 0; }
        #js-settings-scroll { height: 1fr; padding: 0 1; }
        #js-summary { height: auto; padding: 0 1; }
        #js-lifecycles { height: auto; max-height: 30%; border: none; padding: 0; }
        #js-lifecycle { height: 1fr; }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lifecycles: list[Lifecycle] = []
        self._follow = True  # show the latest lifecycle until one is chosen
        self._auto: set[int] = set()  # highlights this widget moved itself (not a choice)

    def compose(self) -> ComposeResult:
        yield Static("Preview first (f5): the destinations come from the preview.", id="js-status")
        with TabbedContent(id="js-tabs"):
            with TabPane("Settings", id="js-tab-settings"), VerticalScroll(id="js-settings-scroll"):
                yield FieldRow(
                    "Settings",
                    Select[str]([], id="js-destination", prompt="(preview first)", compact=True),
                    tooltip="Each destination the preview sends to has its own settings",
                )
                yield SettingsForm(id="js-settings")
            with TabPane("Deliveries", id="js-tab-deliveries"):
                yield Static(
                    Text("Nothing sent yet: ctrl+s sends the preview.", style="dim"),
                    id="js-summary",
                )
                yield OptionList(id="js-lifecycles")
                yield LifecycleView(id="js-lifecycle")

    @property
    def palette(self) -> Palette:
        return palette_of(self.app)

    def set_status(self, text: str, kind: str = "") -> None:
        """One line: ``error``, ``ok`` or plain (muted)."""
        status = self.query_one("#js-status", Static)
        mark = {"error": "✗ ", "ok": "✓ "}.get(kind, "")
        status.update(Text(mark + text))
        status.set_class(kind == "error", "-error")
        status.set_class(kind == "ok", "-ok")

    def set_destinations(self, options: list[tuple[str, str]], value: str | None) -> None:
        """The preview's destinations as ``(label, slug)``; choose ``value``."""
        select = self.query_one("#js-destination", Select)
        select.set_options(options)
        if value is not None:
            select.value = value

    @property
    def form(self) -> SettingsForm:
        return self.query_one("#js-settings", SettingsForm)

    def show_tab(self, name: str) -> None:
        """``settings`` or ``deliveries``."""
        self.query_one("#js-tabs", TabbedContent).active = f"js-tab-{name}"

    # -- deliveries ----------------------------------------------------------------------------

    def start(self) -> None:
        """A new send begins: forget the last one's lifecycles."""
        self.lifecycles = []
        self._follow = True
        self._auto.clear()
        self.query_one("#js-lifecycles", OptionList).clear_options()
        self.query_one("#js-lifecycle", LifecycleView).show(None, reset=True)
        self._summary()
        self.show_tab("deliveries")

    def update(self, lifecycle: Lifecycle) -> None:
        """A lifecycle of the send changed (or is new)."""
        options = self.query_one("#js-lifecycles", OptionList)
        for index, known in enumerate(self.lifecycles):
            if known is lifecycle:
                options.replace_option_prompt_at_index(index, history_line(index + 1, lifecycle))
                break
        else:
            self.lifecycles.append(lifecycle)
            options.add_option(history_line(len(self.lifecycles), lifecycle))
        view = self.query_one("#js-lifecycle", LifecycleView)
        if self._follow:
            index = self.lifecycles.index(lifecycle)
            if options.highlighted != index:
                self._auto.add(index)
                options.highlighted = index
            view.show(lifecycle)
        elif view.lifecycle is lifecycle:
            view.show(lifecycle)  # the one shown changed: redraw it
        self._summary()

    def finish(self, lifecycles: list[Lifecycle]) -> None:
        """The send is over: ``lifecycles`` in sdk's order (destination by destination)."""
        for lifecycle in lifecycles:
            if not any(known is lifecycle for known in self.lifecycles):
                self.update(lifecycle)
        options = self.query_one("#js-lifecycles", OptionList)
        for index, lifecycle in enumerate(self.lifecycles):  # every line in its final state
            options.replace_option_prompt_at_index(index, history_line(index + 1, lifecycle))
        view = self.query_one("#js-lifecycle", LifecycleView)
        if view.lifecycle is not None:
            view.show(view.lifecycle)
        self._summary()

    def _summary(self) -> None:
        summary = self.query_one("#js-summary", Static)
        if not self.lifecycles:
            summary.update(Text("Nothing sent yet: ctrl+s sends the preview.", style="dim"))
            return
        palette = self.palette
        text = Text()
        for destination, per in delivery_counts(self.lifecycles).items():
            if text:
                text.append("  ")
            text.append(f"{destination} ", style="bold")
            for outcome, count in per.items():
                kind = _KINDS.get(outcome, "fail")
                text.append_text(badge(f"{count} {outcome}", kind, palette))
                text.append(" ")
        summary.update(text)

    @on(OptionList.OptionHighlighted, "#js-lifecycles")
    def _chosen(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        index = event.option_index
        if index >= len(self.lifecycles):
            return
        if index in self._auto:  # moved here by update(): keep following
            self._auto.discard(index)
            return
        self._follow = index == len(self.lifecycles) - 1
        view = self.query_one("#js-lifecycle", LifecycleView)
        if view.lifecycle is not self.lifecycles[index]:
            view.show(self.lifecycles[index], reset=True)
