"""The "Event lifecycle" pane: routing decision, attempts with status badges, retry waits and
timings, then the request and response of the chosen attempt in tabs.

It draws an ``sdk.Lifecycle`` and nothing else (the renderables are in
:mod:`tester_tui.lifecycle_render`); the record arrives already redacted, so what is on screen is
exactly what ``destkit send --json`` would print, with control characters shown as escapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    lines,
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
        self._drawn: dict[str, tuple[object, ...]] = {}  # what each tab shows now
        self._texts: dict[str, Text] = {}  # what each line above the tabs shows now
        self._attempt_lines: list[Text] | None = None  # what the attempts list shows now

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
        """Draw ``lifecycle`` (or the empty state); ``reset`` follows the latest attempt again.

        Only what changed is drawn again: a loopback send reports the same finished lifecycle
        several times (its last update, then the delivery's end), and each widget updated for
        nothing costs a layout pass and a repaint."""
        if reset or lifecycle is not self.lifecycle:
            self._chosen_attempt = None
        self.lifecycle = lifecycle
        palette = self.palette
        self._put("#lc-summary", summary_text(lifecycle, palette))
        self._put(
            "#lc-routing", routing_text(lifecycle, palette), bool(lifecycle and lifecycle.routing)
        )
        self._put("#lc-notes", notes_text(lifecycle, palette), bool(lifecycle and lifecycle.notes))
        self._put("#lc-error", error_text(lifecycle, palette), bool(lifecycle and lifecycle.error))
        attempts = self.query_one("#lc-attempts", OptionList)
        items = lifecycle.attempts if lifecycle is not None else []
        lines = [attempt_line(a, palette) for a in items]
        if lines != self._attempt_lines:
            self._attempt_lines = lines
            attempts.set_options(lines)
        if attempts.display != bool(items):
            attempts.display = bool(items)
        if items:
            index = self._chosen_attempt
            if index is None or index >= len(items):
                index = len(items) - 1
            if attempts.highlighted != index:
                attempts.highlighted = index
        if lifecycle is not None and not self._tabs_started:
            self._tabs_started = True
            self.run_worker(self._mount_tabs(), group="lifecycle-tabs")
        self._draw_exchange()

    def _put(self, selector: str, text: Text, display: bool | None = None) -> None:
        """Update the ``Static`` at ``selector`` (and show or hide it), if that changes it."""
        static = self.query_one(selector, Static)
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            static.update(text)
        if display is not None and static.display != display:
            static.display = display

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

    def _signature(self, tab: str) -> tuple[object, ...]:
        """What the ``tab`` shows depends on: unchanged, it is not drawn again."""
        lifecycle = self.lifecycle
        if lifecycle is None:
            return (None,)
        if tab == "event":
            return (id(lifecycle), lifecycle.payload is None)
        attempt = self._selected_attempt()
        exchange = self.selected_exchange()
        return (
            id(lifecycle),
            lifecycle.outcome,
            len(lifecycle.attempts),
            id(attempt),
            id(exchange),
            exchange is not None and exchange.response is not None,
            attempt is not None and attempt.retry is not None,
        )

    def _active_tab(self) -> str:
        active = self.query_one("#lc-tabs", TabbedContent).active
        return active.removeprefix("lc-tab-") or "request"

    def _draw_exchange(self) -> None:
        """Draw the tab on screen (the others when they are shown), each only when what it
        shows changed: pretty-printing bodies and laying them out is the costly part of a
        lifecycle update."""
        if not self._tabs_ready:
            return  # not mounted yet: drawn once it is
        tab = self._active_tab()
        signature = self._signature(tab)
        if self._drawn.get(tab) == signature:
            return
        self._drawn[tab] = signature
        {
            "request": self._draw_request,
            "response": self._draw_response,
            "event": self._draw_event,
            "record": self._draw_record,
        }[tab]()

    def _not_sent(self) -> str | None:
        """Why nothing was sent (a finished lifecycle without an exchange), else None."""
        lifecycle = self.lifecycle
        if lifecycle is None or self.selected_exchange() is not None:
            return None
        outcome = lifecycle.outcome.value
        if outcome == "pending":
            return None
        if outcome == "filtered":
            return "filtered at destination"
        if lifecycle.error is not None:
            return plain_error(lifecycle.error.message)
        return "nothing was sent"

    def _draw_request(self) -> None:
        request = self.query_one("#lc-request", Static)
        reason = self._not_sent()
        if self.lifecycle is None:
            request.update(Text("Send an event to see its request.", style="dim"))
        elif reason is not None:
            request.update(Text(f"Not sent: {reason}", style="dim"))
        else:
            request.update(request_renderable(self.selected_exchange()))

    def _draw_response(self) -> None:
        response = self.query_one("#lc-response", Static)
        reason = self._not_sent()
        if self.lifecycle is None:
            response.update(Text("Send an event to see its response.", style="dim"))
        elif reason is not None:
            response.update(Text(f"Not sent: {reason}", style="dim"))
        else:
            response.update(response_renderable(self.selected_exchange(), self.palette))

    def _draw_event(self) -> None:
        lifecycle = self.lifecycle
        event = self.query_one("#lc-event", Static)
        if lifecycle is None:
            event.update("")
            return
        parts: list[Text] = [
            section("event (as received)"),
            body_renderable(lifecycle.event, "json"),
        ]
        if lifecycle.payload is not None:
            parts += [
                section(f"mapped payload ({lifecycle.action})"),
                body_renderable(lifecycle.payload, "json"),
            ]
        event.update(lines(*parts))

    def _draw_record(self) -> None:
        lifecycle = self.lifecycle
        record = self.query_one("#lc-record", Static)
        record.update("" if lifecycle is None else body_renderable(lifecycle.to_dict(), "json"))

    @on(TabbedContent.TabActivated, "#lc-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self._draw_exchange()

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
