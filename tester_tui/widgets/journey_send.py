"""Sending a preview: the settings of each destination it names (the tester's own
:class:`~tester_tui.widgets.settings_form.SettingsForm`, one destination at a time), a one-line
status (what will be sent, or why it cannot be), then every lifecycle of the send, each drawn
with the tester's :class:`~tester_tui.widgets.lifecycle_view.LifecycleView`.

The screen decides what to send; :meth:`JourneySend.send` and :meth:`JourneySend.check` run
the delivery in a worker (``sdk.send_preview_async``, ``AsyncDelivery.test_authentication``),
draw each lifecycle as it changes, and post :class:`JourneySend.Finished` up when it is over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Select, Static, TabbedContent, TabPane

from tester_tui.journey_session import Focus, delivery_counts, redact_with
from tester_tui.lifecycle_render import Palette, badge, palette_of
from tester_tui.widgets.field_row import FieldRow
from tester_tui.widgets.lifecycle_view import LifecycleView
from tester_tui.widgets.settings_form import SettingsForm

if TYPE_CHECKING:
    from sdk import Destination, DestinationSettings, Lifecycle, Preview, RetryPolicy

__all__ = ["JourneySend", "delivery_line"]

_KINDS = {"delivered": "ok", "filtered": "muted", "pending": "retry"}


def _one_line(exc: BaseException) -> str:
    """An exception as one line: ``sdk``'s own message, else ``Class: text``."""
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def delivery_line(index: int, lifecycle: Lifecycle) -> Text:
    """``#3 200 OK delivered · Facebook Custom Audiences · track "Audience Entered"``: the
    outcome first, one line whatever the names' length (a long one ends in an ellipsis)."""
    event = lifecycle.event
    what = (
        lifecycle.action
        if lifecycle.action == "test_authentication"
        else (str(event.get("type", "?")) + (f' "{event["event"]}"' if "event" in event else ""))
    )
    response = lifecycle.last_response
    status = f"{response.status_line} " if response is not None else ""
    text = Text.assemble(
        (f"#{index} ", "bold"),
        (f"{status}{lifecycle.outcome.value}", "bold"),
        f" · {lifecycle.destination} · {what}",
    )
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


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
        #js-lifecycles { height: auto; max-height: 30%; border: none; padding: 0 1; }
        #js-lifecycle { height: 1fr; }
    }
    """

    class Finished(Message):
        """A send (``kind="send"``) or credentials check (``"auth"``) is over: its
        lifecycles, or a one-line ``error`` (secrets masked) when nothing could go."""

        def __init__(self, lifecycles: list[Lifecycle], error: str | None, kind: str) -> None:
            super().__init__()
            self.lifecycles = lifecycles
            self.error = error
            self.kind = kind

    class _Changed(Message):
        """A lifecycle of the running delivery changed (posted from ``on_update``)."""

        def __init__(self, lifecycle: Lifecycle) -> None:
            super().__init__()
            self.lifecycle = lifecycle

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lifecycles: list[Lifecycle] = []
        self._follow = True  # highlight (and show) the latest lifecycle until one is chosen

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

    # -- running a delivery -------------------------------------------------------------------

    def _on_update(self, lifecycle: Lifecycle) -> None:
        self.post_message(self._Changed(lifecycle))

    @work(exclusive=True, group="journey-send", exit_on_error=False)
    async def send(
        self,
        preview: Preview,
        settings: dict[str, dict[str, Any]],
        step: Focus | None,
        retry: RetryPolicy | None,
    ) -> None:
        """Deliver the preview's events (``step``'s only, when given) to their destinations."""
        from sdk import send_preview_async

        self.start()
        error: str | None = None
        lifecycles: list[Lifecycle] = []
        try:
            lifecycles = await send_preview_async(
                preview, settings, retry=retry, on_update=self._on_update, step=step
            )
        except Exception as exc:  # a bad setting, a connector bug: one line, secrets masked
            error = redact_with(settings, _one_line(exc))
        self.post_message(self.Finished(lifecycles, error, "send"))

    @work(exclusive=True, group="journey-send", exit_on_error=False)
    async def check(
        self,
        destination: Destination[Any],
        settings: DestinationSettings,
        retry: RetryPolicy | None,
    ) -> None:
        """Run ``destination``'s ``test_authentication`` call with ``settings``."""
        from sdk import AsyncDelivery, Redactor, secret_values

        self.start()
        try:
            async with AsyncDelivery(
                destination, settings, retry=retry, on_update=self._on_update
            ) as delivery:
                lifecycle = await delivery.test_authentication()
        except Exception as exc:
            text = Redactor(secret_values(settings)).text(_one_line(exc))
            self.post_message(self.Finished([], text, "auth"))
            return
        self.post_message(self.Finished([lifecycle], None, "auth"))

    def on_journey_send__changed(self, message: _Changed) -> None:
        message.stop()
        self.update(message.lifecycle)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        if message.error is None:
            self.finish(message.lifecycles)  # then on up to the screen

    # -- deliveries ----------------------------------------------------------------------------

    def start(self) -> None:
        """A new send begins: forget the last one's lifecycles."""
        self.lifecycles = []
        self._follow = True
        self.query_one("#js-lifecycles", OptionList).clear_options()
        self.query_one("#js-lifecycle", LifecycleView).show(None, reset=True)
        self._summary()
        self.show_tab("deliveries")

    def update(self, lifecycle: Lifecycle) -> None:
        """A lifecycle of the send changed (or is new)."""
        options = self.query_one("#js-lifecycles", OptionList)
        for index, known in enumerate(self.lifecycles):
            if known is lifecycle:
                options.replace_option_prompt_at_index(index, delivery_line(index + 1, lifecycle))
                break
        else:
            self.lifecycles.append(lifecycle)
            options.add_option(delivery_line(len(self.lifecycles), lifecycle))
        if self._follow:
            options.highlighted = len(self.lifecycles) - 1
        self._show_highlighted(redraw=lifecycle)
        self._summary()

    def _show_highlighted(self, *, redraw: Lifecycle | None = None) -> None:
        """The detail shows the highlighted delivery, always (``redraw``: that lifecycle
        changed, draw it again if it is the one shown)."""
        options = self.query_one("#js-lifecycles", OptionList)
        index = options.highlighted
        if index is None or index >= len(self.lifecycles):
            return
        view = self.query_one("#js-lifecycle", LifecycleView)
        chosen = self.lifecycles[index]
        if view.lifecycle is not chosen:
            view.show(chosen, reset=True)
        elif redraw is chosen:
            view.show(chosen)

    def finish(self, lifecycles: list[Lifecycle]) -> None:
        """The send is over: ``lifecycles`` in sdk's order (destination by destination)."""
        for lifecycle in lifecycles:
            if not any(known is lifecycle for known in self.lifecycles):
                self.update(lifecycle)
        options = self.query_one("#js-lifecycles", OptionList)
        for index, lifecycle in enumerate(self.lifecycles):  # every line in its final state
            options.replace_option_prompt_at_index(index, delivery_line(index + 1, lifecycle))
        if self._follow and self.lifecycles:
            options.highlighted = len(self.lifecycles) - 1
        self._show_highlighted()
        view = self.query_one("#js-lifecycle", LifecycleView)
        if view.lifecycle is not None:
            view.show(view.lifecycle)  # in its final state
        self._summary()

    def _summary(self) -> None:
        summary = self.query_one("#js-summary", Static)
        if not self.lifecycles:
            summary.update(Text("Nothing sent yet: ctrl+s sends the preview.", style="dim"))
            return
        palette = self.palette
        # One row per destination: a long name ("Facebook Custom Audiences") is cut, not the
        # row broken in the middle of its counts.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True, overflow="ellipsis", max_width=26)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        for destination, per in delivery_counts(self.lifecycles).items():
            counts = Text()
            for outcome, count in per.items():
                kind = _KINDS.get(outcome, "fail")
                counts.append_text(badge(f"{count} {outcome}", kind, palette))
                counts.append(" ")
            grid.add_row(destination, counts)
        summary.update(grid)

    @on(OptionList.OptionHighlighted, "#js-lifecycles")
    def _chosen(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        # The list's highlight now, not the message's (it may be older than the last update):
        # the detail always shows what is highlighted.
        index = self.query_one("#js-lifecycles", OptionList).highlighted
        if index is None or index >= len(self.lifecycles):
            return
        self._follow = index == len(self.lifecycles) - 1
        self._show_highlighted()
