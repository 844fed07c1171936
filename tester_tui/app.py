"""The event tester app: choose a destination, an event type and a test user, send, and watch the
event's lifecycle fill in.

``sdk`` is imported after the first frame is drawn, on a worker thread (``_load_domain``), so
the window appears at Textual's own speed and stays responsive while it loads; every piece of
domain work is a call into ``sdk``. With a journey file, journey mode is the first screen drawn:
it shows the file's outline at once and fills in the rest when ``sdk`` is loaded
(``domain_ready``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, Tab, Tabs

from tester_tui.app_actions import TesterActions
from tester_tui.app_delivery import TesterDelivery
from tester_tui.app_layout import MEDIUM_WIDTH, WIDE_WIDTH, TesterLayout, layout_mode
from tester_tui.app_sandbox import SandboxServer, TesterSandbox, default_sandbox
from tester_tui.keys import KEYS, bindings
from tester_tui.session import (
    initial_settings,
    new_event_ids,
    payload_text,
    split_settings_file,
)
from tester_tui.transport import SessionTransport
from tester_tui.widgets.destination_picker import DestinationPicker
from tester_tui.widgets.event_form import EventForm
from tester_tui.widgets.lifecycle_view import LifecycleView
from tester_tui.widgets.payload_editor import PayloadEditor
from tester_tui.widgets.settings_form import SettingsForm
from tester_tui.widgets.stable_footer import StableFooter

if TYPE_CHECKING:
    from textual.timer import Timer

    from sdk import Destination, Lifecycle, RetryPolicy
    from tester_tui.screens.journey import JourneyScreen

__all__ = ["DestkitTester", "layout_mode", "run_tester"]


class DestkitTester(TesterDelivery, TesterActions, TesterSandbox, TesterLayout):
    """The event tester. Arguments after ``journey_file`` are hooks for tests and embedding."""

    TITLE = "destkit event tester"
    CSS_PATH = Path(__file__).with_name("tester.tcss")  # absolute: subclasses live anywhere
    # narrow: one pane at a time (tabs); medium: setup beside payload or lifecycle (tabs);
    # wide: setup | payload | lifecycle.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"),
        (MEDIUM_WIDTH, "-medium"),
        (WIDE_WIDTH, "-wide"),
    ]
    AUTO_FOCUS = None  # the destination menu, once it is mounted
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = bindings()

    def __init__(
        self,
        *,
        destination: str | None = None,
        settings_file: str | None = None,
        journey_file: str | None = None,
        retry: RetryPolicy | None = None,
        user_id: str | None = None,
        stamp: Mapping[str, Any] | None = None,
        sandbox: bool | Callable[[], SandboxServer] = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``retry`` overrides the destination's retry policy; ``user_id`` fixes the first test
        user; ``stamp`` sets fields of every built event (tests fix ``messageId`` and
        ``timestamp``); ``sandbox`` is False (no sandbox) or a factory; ``environ`` replaces
        ``os.environ`` for ``DESTKIT_<SLUG>_<FIELD>`` pre-fills."""
        super().__init__()
        self.initial_destination = destination
        self.settings_file = settings_file
        self.journey_file = journey_file
        self.retry = retry
        #: No policy given: the tester's short interactive one (set once sdk is loaded).
        self.interactive_retry = retry is None
        #: The last credentials check per destination slug: ``(text, ok)``.
        self.credential_checks: dict[str, tuple[str, bool]] = {}
        #: Where the last lifecycle was saved (the save dialog starts there).
        self.save_folder: Path | None = None
        self.initial_user_id = user_id
        self.stamp = dict(stamp or {})
        self._sandbox_factory: Callable[[], SandboxServer] | None = (
            (default_sandbox if sandbox is True else sandbox) if sandbox else None
        )
        self.environ = os.environ if environ is None else environ
        self.destinations: dict[str, Destination[Any]] = {}
        self.destination: Destination[Any] | None = None
        self.settings_values: dict[str, dict[str, Any]] = {}
        self._file_values: dict[str, dict[str, Any]] = {}
        self.settings_error: str | None = None
        self.form_error: str | None = None
        self.history: list[Lifecycle] = []
        self.lifecycle: Lifecycle | None = None
        self.sending = False
        self.sandbox: SandboxServer | None = None
        self.sandbox_url: str | None = None
        self.sandbox_error: str | None = None
        self.ready = asyncio.Event()
        #: Set once ``sdk`` and the connectors are imported (before the forms are mounted).
        self.domain_ready = asyncio.Event()
        self._progress_timer: Timer | None = None
        self._journey_screen: JourneyScreen | None = None
        #: One connection pool for every send of the session (see tester_tui.transport).
        self.transport = SessionTransport()
        self._event_ids = new_event_ids()
        self._sandbox_settled = asyncio.Event()
        self._loaded = False
        self._loading_started = False
        self.layout = ""

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Tabs(
            Tab("Setup", id="tab-setup"),
            Tab("Payload", id="tab-payload"),
            Tab("Lifecycle", id="tab-lifecycle"),
            id="pane-tabs",
        )
        with Horizontal(id="panes"):
            with VerticalScroll(id="pane-setup", classes="pane -current"):
                # The forms are mounted once sdk is loaded (after the first frame).
                yield Static("Loading destinations…", id="setup-loading")
            with Vertical(id="pane-payload", classes="pane"):
                yield PayloadEditor(id="editor")
            with Vertical(id="pane-lifecycle", classes="pane"):
                yield LifecycleView(id="lifecycle")
        yield StableFooter([k.action for k in KEYS], compact=True)

    def on_mount(self) -> None:
        main = self.main_screen
        main.query_one("#pane-setup").border_title = "Setup"
        main.query_one("#pane-payload").border_title = "Payload (JSON)"
        main.query_one("#pane-lifecycle").border_title = "Event lifecycle"
        main.query_one(PayloadEditor).set_send_state(False, "loading…")
        self._apply_layout(self.size.width)
        if self.journey_file:
            # Journey mode is the first screen: it draws the file's outline without sdk, and
            # starts the loading after its own first frame (an import thread would share the
            # GIL with the drawing).
            self.open_journey(self.journey_file)
        else:
            # Draw the first frame, then load sdk and the connectors.
            self.call_after_refresh(self.start_loading)

    def start_loading(self) -> None:
        """Load ``sdk``, the connectors and the sandbox (once; after the first frame)."""
        if self._loading_started:
            return
        self._loading_started = True
        self.run_worker(self._load_domain(), name="load", group="load", exit_on_error=True)

    async def on_unmount(self) -> None:
        await self.transport.close()
        self.stop_sandbox()

    @property
    def main_screen(self) -> Screen[Any]:
        """The tester's own screen (the bottom of the stack), whichever screen is shown: its
        widgets are found there, never in journey mode's look-alikes."""
        return self.screen_stack[0]

    @property
    def picker(self) -> DestinationPicker:
        return self.main_screen.query_one(DestinationPicker)

    @property
    def settings_form(self) -> SettingsForm:
        return self.main_screen.query_one(SettingsForm)

    @property
    def event_form(self) -> EventForm:
        return self.main_screen.query_one(EventForm)

    @property
    def editor(self) -> PayloadEditor:
        return self.main_screen.query_one(PayloadEditor)

    @property
    def lifecycle_view(self) -> LifecycleView:
        return self.main_screen.query_one(LifecycleView)

    # -- loading -----------------------------------------------------------------------------

    async def _load_domain(self) -> None:
        # Importing sdk and the connectors is most of a second of CPU: on a thread, so the UI
        # loop keeps drawing (journey mode's outline, the loading state) meanwhile.
        destinations = await asyncio.to_thread(_import_domain)
        import sdk
        from sdk.engage import DEFAULT_SPACE_ID, TestEventType, new_test_user_id
        from tester_tui.session import describe_retry, interactive_retry

        if self.retry is None:
            self.retry = interactive_retry()
        self.editor.set_retry_text(describe_retry(self.retry, interactive=self.interactive_retry))
        self.destinations = {d.slug: d for d in destinations}
        initial = (
            "sandbox" if "sandbox" in self.destinations else next(iter(self.destinations), None)
        )
        if self.initial_destination:
            try:
                initial = sdk.get_destination(self.initial_destination).slug
            except sdk.InputError as exc:
                self.notify(exc.message, title="--destination", severity="error", timeout=8)
        self._read_settings_file(initial)
        self.domain_ready.set()  # journey mode loads its file now
        if self._journey_screen is not None:  # it is on screen: its file first
            await self._journey_screen.file_settled.wait()
        # The sandbox's process next (after the import here: its own import of sdk would take
        # CPU from it on a busy machine), then the forms while it starts.
        if self._sandbox_factory is not None and "sandbox" in self.destinations:
            self._start_sandbox()
        else:
            self._sandbox_settled.set()
        # The menus are built with their options: no blank "Loading…" entry to choose.
        picker = DestinationPicker(
            [(f"{d.name} ({d.slug})", d.slug) for d in self.destinations.values()],
            initial,
            id="picker",
        )
        event_form = EventForm(
            [(t.label, t.value) for t in TestEventType],
            TestEventType.AUDIENCE_ENTERED.value,
            space=DEFAULT_SPACE_ID,
            user_id=self.initial_user_id or new_test_user_id(),
            id="event-form",
        )
        main = self.main_screen
        setup = main.query_one("#pane-setup")
        await setup.mount_all(
            [
                Static("Destination", classes="section-title -first"),
                picker,
                Static("Settings", classes="section-title"),
                SettingsForm(id="settings", checks=self.credential_checks),
                Static("Event", classes="section-title"),
                event_form,
            ]
        )
        await main.query_one("#setup-loading").remove()
        main.query_one("#destination").focus()  # on its screen, even under journey mode
        self._loaded = True
        if initial is not None:
            await self._choose(initial)
        await self._sandbox_settled.wait()
        self.ready.set()

    def _read_settings_file(self, initial: str | None) -> None:
        if not self.settings_file:
            return
        from sdk import InputError, read_settings_file

        try:
            data = read_settings_file(self.settings_file)
        except InputError as exc:
            self.notify(exc.message, title="--settings-file", severity="error", timeout=8)
            return
        self._file_values = split_settings_file(data, set(self.destinations), initial)
        # A settings file's ``actions:`` (mapping overrides, subscriptions), as ``destkit send``
        # takes it: checked now, applied to the destination every send of this session uses.
        from sdk import configure_destination
        from sdk.mapping import ACTIONS_KEY

        for slug, values in self._file_values.items():
            actions = values.pop(ACTIONS_KEY, None)
            try:
                self.destinations[slug] = configure_destination(self.destinations[slug], actions)
            except InputError as exc:
                self.notify(exc.message, title="--settings-file", severity="error", timeout=8)

    async def _choose(self, slug: str) -> None:
        if self.destination is not None and self.destination.slug == slug:
            return
        destination = self.destinations[slug]
        self.destination = destination
        values = self.settings_values.get(slug)
        if values is None:
            values = initial_settings(
                destination, self.environ, self._file_values.get(slug, {}), self.sandbox_url
            )
        self.sub_title = destination.name
        about = destination.description or destination.api_version or ""
        self.picker.describe(f"{destination.kind.value} destination · {about}".strip(" ·"))
        self.event_form.set_destination_name(destination.name)
        await self.settings_form.load(destination, values)
        if slug == "sandbox":
            self._apply_sandbox_endpoint()
        self._rebuild_payload()

    # -- form -> payload ---------------------------------------------------------------------

    def _rebuild_payload(self) -> None:
        if not self.is_running:  # a message after the widgets are gone
            return
        if not self._loaded or self.destination is None:
            return
        from sdk import InputError

        form = self.event_form
        route = form.route
        spec = form.spec(self.destination.name if route else None)
        no_user = not spec.user_id
        if no_user:  # built with a stand-in, then shown without userId: the payload agrees
            spec = dataclasses.replace(spec, user_id="user")
        try:
            text = payload_text(
                spec, route=route, ids=self._event_ids, stamp=self.stamp, drop_user=no_user
            )
        except InputError as exc:
            self.form_error = exc.message
            if not self.editor.dirty:
                self.editor.set_form_error(exc.message)
            self._update_send_state()
            return
        self.form_error = None
        self.editor.set_generated(text)
        self._update_send_state()

    def on_destination_picker_chosen(self, message: DestinationPicker.Chosen) -> None:
        if not self.is_running:  # a message after the widgets are gone
            return
        if self._loaded:
            self.run_worker(self._choose(message.slug), exclusive=True, group="choose")

    def on_settings_form_changed(self, message: SettingsForm.Changed) -> None:
        self.settings_values[message.slug] = message.values
        self.settings_error = message.error
        self._update_send_state()

    def on_event_form_changed(self, _: EventForm.Changed) -> None:
        self._rebuild_payload()

    def on_payload_editor_validated(self, _: PayloadEditor.Validated) -> None:
        self._update_send_state()

    def send_blocker(self) -> str | None:
        """Why Send is refused right now, or None when it may go."""
        if not self._loaded:
            return "loading…"
        if self.sending:
            return "sending…"
        if self.destination is None:
            return "choose a destination"
        if self.settings_error:
            return f"settings: {self.settings_error}"
        if (
            self.destination.slug == "sandbox"
            and not self._sandbox_settled.is_set()
            and not self.settings_form.values().get("endpoint")
        ):
            return "starting the sandbox…"
        if self.form_error and not self.editor.dirty:
            return self.form_error
        type_error = self.event_form.type_error
        if type_error and not self.editor.dirty:
            return f"event type: {type_error}"
        return self.editor.error

    def _update_send_state(self) -> None:
        if not self.is_running:  # a message after the widgets are gone
            return
        blocker = self.send_blocker()
        if blocker is None and self.destination is not None:
            self.editor.set_send_state(True, f"to {self.destination.name}")
        else:
            self.editor.set_send_state(False, f"✗ {blocker}")


def _import_domain() -> list[Destination[Any]]:
    """Import ``sdk`` and every connector (run on a worker thread); the destinations."""
    import sdk

    return sdk.all_destinations()


def run_tester(
    *,
    destination: str | None = None,
    settings_file: str | None = None,
    journey_file: str | None = None,
) -> int:
    """Run the tester in the terminal; returns ``destkit tester``'s exit code."""
    app = DestkitTester(
        destination=destination, settings_file=settings_file, journey_file=journey_file
    )
    try:
        app.run()
    finally:
        app.stop_sandbox()
    return app.return_code or 0
