"""The "Event lifecycle" pane: routing decision, attempts with status badges, retry waits and
timings, then the request and response of the chosen attempt in tabs.

It draws an ``sdk.Lifecycle`` and nothing else (the renderables are in
:mod:`tester_tui.lifecycle_render`); the record arrives already redacted, so what is on screen is
exactly what ``destkit send --json`` would print, with control characters shown as escapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static, TabbedContent, TabPane

from tester_tui.lifecycle_render import (
    Palette,
    attempt_line,
    body_renderable,
    error_text,
    notes_text,
    palette_of,
    plain_error,
    request_renderable,
    response_renderable,
    routing_text,
    section,
    summary_text,
)

if TYPE_CHECKING:
    from sdk import Attempt, Exchange, Lifecycle

__all__ = ["LifecycleView"]


class LifecycleView(Vertical):
    """Draws one lifecycle; call :meth:`show` each time it changes."""

    DEFAULT_CSS = """
    LifecycleView {
        height: 1fr;
        #lc-summary { height: auto; padding: 0 1; }
        #lc-routing { height: auto; padding: 0 1; }
        #lc-notes { height: auto; padding: 0 1; }
        #lc-attempts { height: auto; max-height: 60%; border: none; padding: 0 1; }
        #lc-error { height: auto; padding: 0 1; }
        TabbedContent { height: 1fr; }
        TabPane { padding: 0; }
        VerticalScroll { height: 1fr; padding: 0 1; }
        Static.body { width: 1fr; }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lifecycle: Lifecycle | None = None
        self._chosen_attempt: int | None = None  # None: follow the latest attempt
        self._tabs_started = False
        self._tabs_ready = False
        self._pending_tab: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="lc-summary")
        yield Static(id="lc-routing")
        yield Static(id="lc-notes")
        yield OptionList(id="lc-attempts")
        yield Static(id="lc-error")
        # The request/response tabs are mounted with the first lifecycle (a faster first frame).

    @staticmethod
    def _tabs() -> TabbedContent:
        panes = [
            TabPane(
                title, VerticalScroll(Static(id=f"lc-{name}", classes="body")), id=f"lc-tab-{name}"
            )
            for title, name in (
                ("Request", "request"),
                ("Response", "response"),
                ("Event", "event"),
                ("Record", "record"),
            )
        ]
        tabs = TabbedContent(id="lc-tabs")
        for pane in panes:
            tabs.compose_add_child(pane)  # what ``with TabbedContent():`` does in compose
        return tabs

    async def _mount_tabs(self) -> None:
        await self.mount(self._tabs())
        self._tabs_ready = True
        if self._pending_tab is not None:
            self.show_tab(self._pending_tab)
        self._draw_exchange()

    def on_mount(self) -> None:
        self.show(None)

    @property
    def palette(self) -> Palette:
        return palette_of(self.app)

    def show(self, lifecycle: Lifecycle | None, *, reset: bool = False) -> None:
        """Draw ``lifecycle`` (or the empty state); ``reset`` follows the latest attempt again."""
        if reset or lifecycle is not self.lifecycle:
            self._chosen_attempt = None
        self.lifecycle = lifecycle
        palette = self.palette
        self.query_one("#lc-summary", Static).update(summary_text(lifecycle, palette))
        routing = self.query_one("#lc-routing", Static)
        routing.update(routing_text(lifecycle, palette))
        routing.display = bool(lifecycle and lifecycle.routing)
        notes = self.query_one("#lc-notes", Static)
        notes.update(notes_text(lifecycle, palette))
        notes.display = bool(lifecycle and lifecycle.notes)
        error = self.query_one("#lc-error", Static)
        error.update(error_text(lifecycle, palette))
        error.display = bool(lifecycle and lifecycle.error)
        attempts = self.query_one("#lc-attempts", OptionList)
        items = lifecycle.attempts if lifecycle is not None else []
        attempts.set_options([attempt_line(a, palette) for a in items])
        attempts.display = bool(items)
        if items:
            index = self._chosen_attempt
            if index is None or index >= len(items):
                index = len(items) - 1
            attempts.highlighted = index
        if lifecycle is not None and not self._tabs_started:
            self._tabs_started = True
            self.run_worker(self._mount_tabs(), group="lifecycle-tabs")
        self._draw_exchange()

    def _selected_attempt(self) -> Attempt | None:
        if self.lifecycle is None or not self.lifecycle.attempts:
            return None
        attempts = self.lifecycle.attempts
        index = self._chosen_attempt
        if index is None or index >= len(attempts):
            index = len(attempts) - 1
        return attempts[index]

    def selected_exchange(self) -> Exchange | None:
        """The HTTP exchange shown in the tabs (the chosen attempt's last one)."""
        attempt = self._selected_attempt()
        return attempt.exchanges[-1] if attempt is not None and attempt.exchanges else None

    def _draw_exchange(self) -> None:
        lifecycle = self.lifecycle
        exchange = self.selected_exchange()
        if not self._tabs_ready:
            return  # not mounted yet: drawn once it is
        palette = self.palette
        request = self.query_one("#lc-request", Static)
        response = self.query_one("#lc-response", Static)
        if lifecycle is None:
            request.update(Text("Send an event to see its request.", style="dim"))
            response.update(Text("Send an event to see its response.", style="dim"))
        elif exchange is None and lifecycle.outcome.value != "pending":
            reason = (
                "filtered at destination"
                if lifecycle.outcome.value == "filtered"
                else (
                    plain_error(lifecycle.error.message)
                    if lifecycle.error is not None
                    else "nothing was sent"
                )
            )
            request.update(Text(f"Not sent: {reason}", style="dim"))
            response.update(Text(f"Not sent: {reason}", style="dim"))
        else:
            request.update(request_renderable(exchange))
            response.update(response_renderable(exchange, palette))
        event = self.query_one("#lc-event", Static)
        record = self.query_one("#lc-record", Static)
        if lifecycle is None:
            event.update("")
            record.update("")
            return
        parts: list[RenderableType] = [
            section("event (as received)"),
            body_renderable(lifecycle.event, "json"),
        ]
        if lifecycle.payload is not None:
            parts += [
                section(f"mapped payload ({lifecycle.action})"),
                body_renderable(lifecycle.payload, "json"),
            ]
        event.update(Group(*parts))
        record.update(body_renderable(lifecycle.to_dict(), "json"))

    @on(OptionList.OptionHighlighted, "#lc-attempts")
    def _attempt_chosen(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        count = len(self.lifecycle.attempts) if self.lifecycle is not None else 0
        # Choosing the latest attempt means "follow the latest" again.
        self._chosen_attempt = None if event.option_index >= count - 1 else event.option_index
        self._draw_exchange()

    def show_tab(self, tab: str) -> None:
        """Switch to ``request``, ``response``, ``event`` or ``record``."""
        if self._tabs_ready:
            self.query_one("#lc-tabs", TabbedContent).active = f"lc-tab-{tab}"
        else:
            self._pending_tab = tab
