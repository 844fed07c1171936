"""The "Event lifecycle" pane: routing decision, attempts with status badges, retry waits and
timings, then the request and response of the chosen attempt in tabs.

It draws an ``sdk.Lifecycle`` and nothing else; the record arrives already redacted, so what is
on screen is exactly what ``destkit send --json`` would print.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static, TabbedContent, TabPane

if TYPE_CHECKING:
    from textual.app import App

    from sdk import Attempt, Exchange, Lifecycle

__all__ = [
    "LifecycleView",
    "Palette",
    "attempt_line",
    "badge",
    "notes_text",
    "palette_of",
    "status_kind",
    "summary_text",
]


@dataclass(frozen=True, slots=True)
class Palette:
    """Badge colours, taken from the app's theme."""

    ok: str = "#4EBF71"
    retry: str = "#ffa62b"
    fail: str = "#ba3c5b"
    muted: str = "grey62"


def palette_of(app: App[Any]) -> Palette:
    """The badge colours of ``app``'s current theme."""
    theme = app.current_theme
    default = Palette()
    return Palette(
        ok=theme.success or default.ok,
        retry=theme.warning or default.retry,
        fail=theme.error or default.fail,
    )


def status_kind(status: int | None, retryable: bool = False) -> str:
    """``ok`` (2xx/3xx), ``retry`` (a status or error the runtime retries) or ``fail``."""
    if status is None:
        return "retry" if retryable else "fail"
    if status < 400:
        return "ok"
    from sdk import classify_status

    error = classify_status(status)
    return "retry" if error is not None and error.retryable else "fail"


def _badge(label: str, kind: str, palette: Palette) -> Text:
    colour = {"ok": palette.ok, "retry": palette.retry, "fail": palette.fail}.get(
        kind, palette.muted
    )
    return Text(f" {label} ", style=f"bold #000000 on {colour}")


badge = _badge  # for the journey views: the same badges


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _attempt_status(attempt: Attempt) -> tuple[str, str]:
    response = attempt.last_response
    if response is not None:
        retryable = attempt.error.retryable if attempt.error is not None else False
        kind = status_kind(response.status, retryable)
        return response.status_line, kind
    if attempt.error is not None:
        return attempt.error.cls, "retry" if attempt.error.retryable else "fail"
    return "…", "pending"


def attempt_line(attempt: Attempt, palette: Palette) -> Text:
    """One attempt: number, status badge, time, then what the runtime decided."""
    label, kind = _attempt_status(attempt)
    text = Text.assemble(f"#{attempt.number} ", _badge(label, kind, palette))
    if attempt.batch_size > 1:
        text.append(f" batch of {attempt.batch_size}", style=palette.muted)
    totals = [e.timings.total_ms for e in attempt.exchanges if e.timings.total_ms is not None]
    if totals:
        text.append(f" {_ms(sum(totals))}")
    if attempt.wait_before_s:
        text.append(f" after {attempt.wait_before_s:.2f}s wait", style=palette.muted)
    if attempt.retry is not None:
        decision = attempt.retry
        wait = f" in {decision.wait_s:.2f}s" if decision.wait_s else ""
        style = {"done": palette.ok, "retry": palette.retry}.get(decision.decision, palette.fail)
        text.append(f"\n   → {decision.decision}{wait}", style=f"bold {style}")
        text.append(f": {decision.reason}", style=palette.muted)
    elif kind == "pending":
        text.append(" sending…", style=palette.muted)
    if attempt.error is not None and attempt.last_response is None:
        text.append(f"\n   {attempt.error.message}", style=palette.fail)
    return text


def summary_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """The headline: outcome badge (``200 OK`` on success), destination, action, duration."""
    if lifecycle is None:
        return Text.assemble(
            ("No event sent yet. ", "bold"),
            ("Press ctrl+s to send the payload.", palette.muted),
        )
    outcome = lifecycle.outcome.value
    response = lifecycle.last_response
    if outcome == "pending":
        number = len(lifecycle.attempts)
        text = _badge("SENDING", "retry", palette)
        text.append(f" attempt {number}…" if number else " preparing…")
    elif outcome == "delivered":
        label = response.status_line if response is not None else "delivered"
        text = Text.assemble(_badge(label, "ok", palette), " delivered")
    elif outcome == "filtered":
        text = Text.assemble(_badge("FILTERED", "retry", palette), " filtered at destination")
    else:  # failed: the last status line, else the error class
        error = lifecycle.error
        if response is not None:
            label = response.status_line
        else:
            label = error.cls if error is not None else "FAILED"
        kind = "retry" if outcome.startswith("failed: retryable") else "fail"
        text = Text.assemble(_badge(label, kind, palette), f" {outcome}")
    what = lifecycle.destination + (f" · {lifecycle.action}" if lifecycle.action else "")
    text.append(f"  {what}", style=palette.muted)
    if lifecycle.duration_ms is not None:
        text.append(f"  {_ms(lifecycle.duration_ms)}", style=palette.muted)
    return text


def routing_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """The routing decision with its reason, or nothing yet."""
    if lifecycle is None or not lifecycle.routing:
        return Text("")
    routing = lifecycle.routing
    style = palette.ok if routing.get("delivered") else palette.retry
    return Text.assemble(
        ("Routing ", "bold"),
        (str(routing.get("decision", "")), f"bold {style}"),
        (f" · {routing.get('reason', '')}", palette.muted),
    )


def notes_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """The connector's notes on the event (what it left out of what it delivered), amber."""
    if lifecycle is None or not lifecycle.notes:
        return Text("")
    text = Text("Notes", style=f"bold {palette.retry}")
    for note in lifecycle.notes:
        text.append(f"\n ! {note}", style=palette.retry)
    return text


def error_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """Every detail of the final error: class, message, status, whether it was retryable."""
    if lifecycle is None or lifecycle.error is None:
        return Text("")
    error = lifecycle.error
    status = "-" if error.status is None else str(error.status)
    return Text.assemble(
        ("Error ", "bold"),
        (error.cls, f"bold {palette.fail}"),
        f": {error.message}\n",
        (f"status {status} · retryable {'yes' if error.retryable else 'no'}", palette.muted),
    )


def _body(body: Any, kind: str) -> RenderableType:
    if kind == "empty" or body is None:
        return Text("(empty body)", style="dim")
    if kind in ("json", "form"):
        try:
            pretty = JSON(json.dumps(body, ensure_ascii=False, default=str), indent=2)
        except (TypeError, ValueError):
            return Text(str(body), overflow="fold")
        pretty.text.no_wrap = False
        pretty.text.overflow = "fold"  # long keys and ids wrap instead of being cut
        return pretty.text
    return Text(str(body), overflow="fold")


def _headers(headers: dict[str, str]) -> RenderableType:
    if not headers:
        return Text("(no headers)", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in headers.items():
        grid.add_row(name, value)
    return grid


def _section(title: str) -> Text:
    return Text(f"── {title}", style="bold")


def request_renderable(exchange: Exchange | None) -> RenderableType:
    """Method and URL, headers (already masked), and the pretty-printed body."""
    if exchange is None:
        return Text("No request was made.", style="dim")
    request = exchange.request
    return Group(
        Text.assemble((request.method, "bold"), " ", request.url),
        _section("headers"),
        _headers(request.headers),
        _section(f"body ({request.body_kind})"),
        _body(request.body, request.body_kind),
    )


def response_renderable(exchange: Exchange | None, palette: Palette) -> RenderableType:
    """Status line with its badge, timings, headers and the pretty-printed body."""
    if exchange is None:
        return Text("No response.", style="dim")
    timings = exchange.timings
    timing = Text(
        f"connect {_ms(timings.connect_ms)} · first byte {_ms(timings.first_byte_ms)} · "
        f"total {_ms(timings.total_ms)}",
        style=palette.muted,
    )
    response = exchange.response
    if response is None:
        error = exchange.error
        message = f"{error.cls}: {error.message}" if error is not None else "no response yet"
        return Group(Text(message, style=palette.fail), timing)
    kind = status_kind(response.status)
    return Group(
        Text.assemble(_badge(response.status_line, kind, palette), f" {response.http_version}"),
        timing,
        _section("headers"),
        _headers(response.headers),
        _section(f"body ({response.body_kind})"),
        _body(response.body, response.body_kind),
    )


class LifecycleView(Vertical):
    """Draws one lifecycle; call :meth:`show` each time it changes."""

    DEFAULT_CSS = """
    LifecycleView {
        height: 1fr;
        #lc-summary { height: auto; padding: 0 1; }
        #lc-routing { height: auto; padding: 0 1; }
        #lc-notes { height: auto; padding: 0 1; }
        #lc-attempts { height: auto; max-height: 9; border: none; padding: 0 1; }
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
                    lifecycle.error.message if lifecycle.error is not None else "nothing was sent"
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
            _section("event (as received)"),
            _body(lifecycle.event, "json"),
        ]
        if lifecycle.payload is not None:
            parts += [
                _section(f"mapped payload ({lifecycle.action})"),
                _body(lifecycle.payload, "json"),
            ]
        event.update(Group(*parts))
        record.update(_body(lifecycle.to_dict(), "json"))

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
