"""The event tester app: choose a destination, an event type and a test user, send, and watch the
event's lifecycle fill in.

``sdk`` is imported after the first frame is drawn (``_load_domain``), so the window appears at
Textual's own speed; every piece of domain work is a call into ``sdk``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Header, Static, Tab, Tabs

from tester_tui.keys import KEYS, bindings, help_rows
from tester_tui.lifecycle_render import error_line
from tester_tui.messages import DeliveryFinished, LifecycleUpdated, SandboxStarted
from tester_tui.panes import focus_pane
from tester_tui.session import (
    initial_settings,
    new_event_ids,
    payload_text,
    request_as_curl,
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

    from sdk import Destination, DestinationSettings, Lifecycle, RetryPolicy

__all__ = ["DestkitTester", "layout_mode", "run_tester"]


class SandboxServer(Protocol):
    """What the tester needs of ``sdk.testing._sandbox.Sandbox``."""

    url: str

    def start(self) -> Any: ...

    def stop(self) -> Any: ...


_PANES = ("setup", "payload", "lifecycle")
# Where the focus goes in each pane (else its first focusable widget).
_PANE_FOCUS = {"setup": "#destination", "payload": "#payload", "lifecycle": "#lc-attempts"}
# The tester's own actions: switched off while journey mode is open (it binds the same keys).
_TESTER_ONLY_ACTIONS = frozenset(
    {
        "send",
        "new_user_id",
        "check_credentials",
        "save_lifecycle",
        "copy_curl",
        "history",
        "toggle_route",
        "rebuild_payload",
        "journey",
        "show_pane",
        "jump",
    }
)
#: A delivery's in-between states wait this long (seconds) before they are drawn.
_PROGRESS_DELAY = 0.1
_EXAMPLE_JOURNEY_FILE = "examples/journeys/first_purchase.yaml"
MEDIUM_WIDTH = 110
WIDE_WIDTH = 150


def layout_mode(width: int) -> str:
    """``narrow``, ``medium`` or ``wide`` for a terminal ``width`` columns wide."""
    if width >= WIDE_WIDTH:
        return "wide"
    return "medium" if width >= MEDIUM_WIDTH else "narrow"


def _default_sandbox() -> SandboxServer:
    from sdk.testing import Sandbox

    return Sandbox()


class DestkitTester(App[int]):
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
            (_default_sandbox if sandbox is True else sandbox) if sandbox else None
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
        self._progress_timer: Timer | None = None
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
        self.query_one("#pane-setup").border_title = "Setup"
        self.query_one("#pane-payload").border_title = "Payload (JSON)"
        self.query_one("#pane-lifecycle").border_title = "Event lifecycle"
        self.query_one(PayloadEditor).set_send_state(False, "loading…")
        self._apply_layout(self.size.width)
        # Draw the first frame, then load sdk and the connectors.
        self.call_after_refresh(self._start_loading)

    def _start_loading(self) -> None:
        if self._loading_started:
            return
        self._loading_started = True
        self.run_worker(self._load_domain(), name="load", group="load", exit_on_error=True)

    async def on_unmount(self) -> None:
        await self.transport.close()
        self.stop_sandbox()

    @property
    def picker(self) -> DestinationPicker:
        return self.query_one(DestinationPicker)

    @property
    def settings_form(self) -> SettingsForm:
        return self.query_one(SettingsForm)

    @property
    def event_form(self) -> EventForm:
        return self.query_one(EventForm)

    @property
    def editor(self) -> PayloadEditor:
        return self.query_one(PayloadEditor)

    @property
    def lifecycle_view(self) -> LifecycleView:
        return self.query_one(LifecycleView)

    # -- loading -----------------------------------------------------------------------------

    async def _load_domain(self) -> None:
        import sdk
        from sdk.engage import DEFAULT_SPACE_ID, TestEventType, new_test_user_id
        from tester_tui.session import describe_retry, interactive_retry

        if self.retry is None:
            self.retry = interactive_retry()
        self.editor.set_retry_text(describe_retry(self.retry, interactive=self.interactive_retry))
        self.destinations = {d.slug: d for d in sdk.all_destinations()}
        initial = (
            "sandbox" if "sandbox" in self.destinations else next(iter(self.destinations), None)
        )
        if self.initial_destination:
            try:
                initial = sdk.get_destination(self.initial_destination).slug
            except sdk.InputError as exc:
                self.notify(exc.message, title="--destination", severity="error", timeout=8)
        self._read_settings_file(initial)
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
        setup = self.query_one("#pane-setup")
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
        await self.query_one("#setup-loading").remove()
        self.query_one("#destination").focus()
        self._loaded = True
        if initial is not None:
            await self._choose(initial)
        if self.journey_file:
            self.open_journey(self.journey_file)
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

    # -- the sandbox -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sandbox", exit_on_error=False)
    def _start_sandbox(self) -> None:
        assert self._sandbox_factory is not None
        try:
            server = self._sandbox_factory()
            server.start()
        except Exception as exc:  # ImportError while it is being written, a port in use...
            self.post_message(SandboxStarted(None, f"{type(exc).__name__}: {exc}"))
            return
        self.sandbox = server
        if not self.is_running:
            self.stop_sandbox()
            return
        self.post_message(SandboxStarted(server.url))

    def stop_sandbox(self) -> None:
        """Stop the in-process sandbox (idempotent)."""
        server, self.sandbox = self.sandbox, None
        if server is not None:
            with contextlib.suppress(Exception):  # stopping must never crash the exit
                server.stop()

    def on_sandbox_started(self, message: SandboxStarted) -> None:
        if message.url is None:
            self.sandbox_error = message.error
            self.notify(
                f"the sandbox did not start ({message.error}); set its endpoint by hand",
                title="Sandbox",
                severity="error",
                timeout=10,
            )
        else:
            self.sandbox_url = message.url
            self._apply_sandbox_endpoint()
        self._sandbox_settled.set()
        self._update_send_state()

    def _apply_sandbox_endpoint(self) -> None:
        """Point the sandbox destination at the running sandbox, unless an endpoint is set."""
        if not self.is_running or not self._loaded:  # no form (yet, or any more)
            return
        url = self.sandbox_url
        if url is None:
            return
        form = self.settings_form
        if form.destination is not None and form.destination.slug == "sandbox":
            form.set_value("endpoint", url, only_if_empty=True)
        elif "sandbox" in self.settings_values:
            self.settings_values["sandbox"].setdefault("endpoint", url)

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

    # -- sending -----------------------------------------------------------------------------

    def action_send(self) -> None:
        """Send the payload, unless something refuses it (then say what)."""
        blocker = self.send_blocker()
        if blocker is not None:
            self.notify(f"Send refused: {blocker}", severity="error")
            return
        assert self.destination is not None and self.editor.event is not None
        settings = self.settings_form.settings()
        self._deliver(self.destination, settings, self.editor.event, "send")

    def action_check_credentials(self) -> None:
        """Run the destination's ``test_authentication`` call."""
        if self.destination is None or self.sending:
            return
        if self.settings_error:
            self.notify(f"settings: {self.settings_error}", severity="error")
            return
        self._deliver(self.destination, self.settings_form.settings(), None, "auth")

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#check-credentials")
    def _check_pressed(self) -> None:
        self.action_check_credentials()

    @work(exclusive=True, group="delivery", exit_on_error=False)
    async def _deliver(
        self,
        destination: Destination[Any],
        settings: DestinationSettings,
        event: dict[str, Any] | None,
        kind: str,
    ) -> None:
        from sdk import AsyncDelivery, Redactor, secret_values

        # No redraw before the request goes: a second ctrl+s is refused by send_blocker, and
        # a send slower than _PROGRESS_DELAY shows its progress (and disables Send) then.
        self.sending = True
        self._switch_pane("lifecycle")

        def on_update(lifecycle: Lifecycle) -> None:
            self.post_message(LifecycleUpdated(lifecycle))

        try:
            async with AsyncDelivery(
                destination,
                settings,
                retry=self.retry,
                on_update=on_update,
                transport=self.transport.get(),
            ) as delivery:
                if kind == "auth":
                    lifecycle = await delivery.test_authentication()
                else:
                    assert event is not None
                    lifecycle = await delivery.send(event)
        except Exception as exc:  # a connector or runtime bug must not take the UI down
            text = Redactor(secret_values(settings)).text(f"{type(exc).__name__}: {exc}")
            self.notify(text, title="Send crashed", severity="error", timeout=10)
            return
        finally:
            self.sending = False
            self._update_send_state()
        self.post_message(DeliveryFinished(lifecycle, kind))

    def on_lifecycle_updated(self, message: LifecycleUpdated) -> None:
        """A step of the running delivery. A loopback send is over in a few milliseconds: its
        in-between states are drawn only if it takes longer than ``_PROGRESS_DELAY`` (then at
        most that often), so the final state is the first frame drawn, not the fourth."""
        if not self.is_running:  # a message after the widgets are gone
            return
        self.lifecycle = message.lifecycle
        if message.lifecycle.outcome.value != "pending":
            self.lifecycle_view.show(message.lifecycle)
        elif self._progress_timer is None:
            self._progress_timer = self.set_timer(_PROGRESS_DELAY, self._draw_progress)

    def _draw_progress(self) -> None:
        self._progress_timer = None
        if self.is_running and self.lifecycle is not None:
            self._update_send_state()
            self.lifecycle_view.show(self.lifecycle)

    def on_delivery_finished(self, message: DeliveryFinished) -> None:
        lifecycle = message.lifecycle
        self.history.append(lifecycle)
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        self.lifecycle = lifecycle
        self.lifecycle_view.show(lifecycle)
        if message.kind == "send" and not self.editor.dirty:
            self._event_ids = new_event_ids()  # the next send is a new message
            # After the outcome's frame: the payload is rebuilt (and checked) right behind it.
            self.call_after_refresh(self._rebuild_payload)
        if message.kind == "auth":
            self._credentials_checked(lifecycle)
        elif lifecycle.delivered:
            pass  # the lifecycle pane says so (a toast per success costs a frame, and hides)
        elif lifecycle.outcome.value == "filtered":
            self.notify("filtered at destination", title="Not sent", severity="warning")
        else:
            detail = error_line(lifecycle)
            self.notify(detail, title=lifecycle.outcome.value, severity="error", markup=False)

    def _credentials_checked(self, lifecycle: Lifecycle) -> None:
        """Say how the check went, in a toast and beside the settings (it stays there)."""
        from datetime import datetime

        destination = self.destinations.get(lifecycle.slug)
        name = destination.name if destination is not None else lifecycle.destination
        when = datetime.now().strftime("%H:%M:%S")
        if lifecycle.delivered:
            text, ok = "credentials accepted", True
        else:
            text, ok = f"credentials refused: {error_line(lifecycle)}", False
        self.settings_form.set_check(lifecycle.slug, f"{name}: {text} · checked {when}", ok)
        severity = "information" if ok else "error"
        self.notify(text, title="Check credentials", severity=severity, markup=False)

    # -- other actions -----------------------------------------------------------------------

    def action_new_user_id(self) -> None:
        """A fresh test user id (the payload follows)."""
        if not self._loaded:
            return
        from sdk.engage import new_test_user_id

        self._event_ids = new_event_ids()
        self.event_form.user_id = new_test_user_id()

    def action_toggle_route(self) -> None:
        if not self._loaded:
            return
        self.event_form.route = not self.event_form.route

    def action_rebuild_payload(self) -> None:
        if not self.editor.rebuild():
            self.notify("the payload already matches the form")

    def action_save_lifecycle(self, path: str | None = None) -> None:
        """Save the shown lifecycle as JSON (asks where unless ``path`` is given). An existing
        file is never overwritten without asking: given a ``path`` that exists, say so."""
        lifecycle = self.lifecycle
        if lifecycle is None:
            self.notify("nothing to save yet: send an event first", severity="warning")
            return
        if path is not None:
            target = Path(path).expanduser()
            if target.exists():
                self.notify(f"not saved: {target} already exists", severity="error")
                return
            self._save(lifecycle, target)
            return
        folder = self.save_folder or Path.cwd()
        self._ask_save_path(lifecycle, str(folder / f"lifecycle-{lifecycle.id}.json"))

    def _ask_save_path(
        self, lifecycle: Lifecycle, default: str, *, confirm: Path | None = None
    ) -> None:
        """Ask where to save; ``confirm``: that file exists, enter on the same path again
        overwrites it."""
        from tester_tui.screens.save import SavePathScreen

        def chosen(answer: str | None) -> None:
            if not answer:
                return
            target = Path(answer).expanduser()
            if target.is_dir():  # a folder: the default file name inside it
                target = target / f"lifecycle-{lifecycle.id}.json"
            if target.exists() and (confirm is None or target.resolve() != confirm.resolve()):
                self._ask_save_path(lifecycle, answer, confirm=target)
                return
            self._save(lifecycle, target)

        if confirm is None:
            title = "Save the lifecycle as JSON to (a file, or a folder to save it in):"
            hint = "enter saves · escape cancels"
        else:
            title = f"{confirm} already exists."
            hint = "enter overwrites it · change the path to save elsewhere · escape cancels"
        self.push_screen(SavePathScreen(title, default, hint=hint), chosen)

    def _save(self, lifecycle: Lifecycle, target: Path) -> None:
        target = target.absolute()
        try:
            target.write_text(lifecycle.to_json() + "\n", encoding="utf-8")
        except OSError as exc:
            self.notify(f"cannot write {target}: {exc.strerror}", severity="error", markup=False)
            return
        self.save_folder = target.parent
        self.notify(f"saved to {target}", title="Lifecycle saved", markup=False)

    def curl_for_shown(self, *, unmask: bool = False) -> str | None:
        """The shown request as curl; unmasked only when asked (needs the real settings)."""
        exchange = self.lifecycle_view.selected_exchange()
        if exchange is None or self.lifecycle is None:
            return None
        if not unmask:
            return request_as_curl(exchange)
        destination = self.destinations.get(self.lifecycle.slug)
        if destination is None:
            return None
        return request_as_curl(exchange, destination, self.settings_values.get(destination.slug))

    def action_copy_curl(self, unmask: bool = False) -> None:
        """Copy the shown request as a curl command (secrets masked unless ``unmask``, which
        asks for confirmation first)."""
        text = self.curl_for_shown(unmask=unmask)
        if text is None:
            self.notify("no request to copy yet: send an event first", severity="warning")
            return
        if unmask:
            from tester_tui.screens.confirm import ConfirmScreen

            def answered(yes: bool | None) -> None:
                if yes:
                    self._copy_curl(text, unmask=True)

            question = (
                "Copy the request with its secrets UNMASKED? Anything you paste it into "
                "(a chat, a ticket, a shell history) will hold the real credentials."
            )
            self.push_screen(ConfirmScreen(question), answered)
            return
        self._copy_curl(text, unmask=False)

    def _copy_curl(self, text: str, *, unmask: bool) -> None:
        self.copy_to_clipboard(text)
        how = "secrets UNMASKED" if unmask else "secrets masked"
        self.notify(f"copied the request as curl ({how})", title="Copied")

    def action_history(self) -> None:
        from tester_tui.screens.history import HistoryScreen

        def chosen(index: int | None) -> None:
            if index is not None:
                self.reopen(index)

        self.push_screen(HistoryScreen(list(self.history)), chosen)

    def reopen(self, index: int) -> None:
        """Show the ``index``-th lifecycle of the session history again."""
        lifecycle = self.history[index]
        self.lifecycle = lifecycle
        self.lifecycle_view.show(lifecycle, reset=True)
        self._switch_pane("lifecycle")

    def action_help(self) -> None:
        from tester_tui.screens.help import JOURNEY_ABOUT, HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        if self.journey_mode:
            from tester_tui.keys import journey_help_rows

            self.push_screen(
                HelpScreen(
                    journey_help_rows(), title="destkit journey mode — keys", about=JOURNEY_ABOUT
                )
            )
        else:
            self.push_screen(HelpScreen(help_rows()))

    # -- journey mode ------------------------------------------------------------------------

    @property
    def journey_mode(self) -> bool:
        """True while the journey screen is open (under any dialog)."""
        return any(getattr(screen, "journey_mode", False) for screen in self.screen_stack)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The tester's own keys are off in journey mode (the journey screen binds its own)
        and while a dialog is open (help, history, a path to save to): a key pressed there is
        the dialog's, never a send or a second dialog stacked on top. Quit and the dialog's own
        keys (escape) still work."""
        dialog_open = isinstance(self.screen, ModalScreen)
        if dialog_open and (action in _TESTER_ONLY_ACTIONS or action == "help"):
            return False
        return not (action in _TESTER_ONLY_ACTIONS and self.journey_mode)

    def action_journey(self) -> None:
        """Ask for a journey file's path, then open journey mode on it."""
        if not self._loaded or self.journey_mode:
            return
        from tester_tui.screens.save import SavePathScreen

        default = self.journey_file or ""
        if not default and Path(_EXAMPLE_JOURNEY_FILE).is_file():
            default = _EXAMPLE_JOURNEY_FILE

        def chosen(answer: str | None) -> None:
            if answer:
                self.open_journey(answer)

        self.push_screen(
            SavePathScreen(
                "Open a journey file (YAML or JSON):",
                default,
                hint="enter opens journey mode · escape cancels",
            ),
            chosen,
        )

    def open_journey(self, path: str) -> None:
        """Open journey mode on ``path``; a bad file is shown there, as one line."""
        from tester_tui.screens.journey import JourneyScreen

        self.journey_file = path
        self.push_screen(JourneyScreen(path))

    # -- narrow layout ---------------------------------------------------------------------

    def action_jump(self) -> None:
        """Jump mode: a letter per pane; the letter shows the pane and focuses it."""
        from tester_tui.screens.jump import JumpScreen

        targets = [("s", "setup", "Setup"), ("p", "payload", "Payload")]
        targets.append(("l", "lifecycle", "Lifecycle"))

        def chosen(name: str | None) -> None:
            if name:
                self.action_show_pane(name)

        self.push_screen(JumpScreen(targets), chosen)

    def action_show_pane(self, name: str) -> None:
        """Show ``setup``, ``payload`` or ``lifecycle`` and move the focus into it."""
        self._switch_pane(name, moved=True)

    def _switch_pane(self, name: str, *, moved: bool = False) -> None:
        """Show the pane (a tab where panes take turns); ``moved``: the user asked for it, so
        the focus goes there too (otherwise only when the switch hid the focused widget)."""
        if name not in _PANES:
            return
        tabs = self.query_one("#pane-tabs", Tabs)
        target = f"tab-{name}"
        if name == "setup" and self.layout == "medium":
            target = tabs.active  # always shown beside the others: nothing to switch
        tabs.active = target
        self.call_after_refresh(self._focus_pane, name, moved)

    def _focus_pane(self, name: str, moved: bool) -> None:
        if not self._loaded or self.screen is not self.screen_stack[0]:
            return  # the forms are not there yet, or another screen has the keys
        pane = self.query_one(f"#pane-{name}")
        focus_pane(self.screen, pane, _PANE_FOCUS[name], moved=moved)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        mode = layout_mode(width)
        if mode == self.layout:
            return
        self.layout = mode
        tabs = self.query_one("#pane-tabs", Tabs)
        if mode == "medium":
            if tabs.active in ("", "tab-setup"):
                tabs.active = "tab-payload"
            tabs.hide("tab-setup")
        else:
            tabs.show("tab-setup")

    @on(Tabs.TabActivated, "#pane-tabs")
    def _pane_tab(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-setup").removeprefix("tab-")
        for pane in _PANES:
            self.query_one(f"#pane-{pane}").set_class(pane == name, "-current")
        self.call_after_refresh(self._focus_pane, name, False)

    # -- command palette ---------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ModalScreen):  # a dialog is open: its keys only (see check_action)
            return
        if getattr(screen, "journey_mode", False):
            yield from self._journey_commands(screen)
            return
        for key in KEYS:
            name, _, argument = key.action.partition("(")
            if argument:  # show_pane('...')
                pane = argument.rstrip(")").strip("'\"")
                callback: Callable[[], Any] = lambda p=pane: self.action_show_pane(p)  # noqa: E731
            else:
                callback = getattr(self, f"action_{name}")
            yield SystemCommand(f"{key.label} ({key.keys})", key.description, callback)
        # The unmasked copy is never first and never a default: it comes last, and asks.
        yield SystemCommand(
            "Curl with secrets UNMASKED… (asks first)",
            "Copy the request as curl with the real secret values from the settings",
            lambda: self.action_copy_curl(unmask=True),
        )

    @staticmethod
    def _journey_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
        from functools import partial

        from tester_tui.keys import JOURNEY_KEYS

        for key in JOURNEY_KEYS:
            name, _, argument = key.action.partition("(")
            parameters = (argument.rstrip(")").strip("'\""),) if argument else ()
            if screen.check_action(name, parameters) is False:
                continue  # ctrl+s is "Send step" or "Send all", as the footer says
            # The screen runs the action string itself: show_pane('path') included.
            callback = partial(screen.run_action, key.action)
            yield SystemCommand(f"{key.label} ({key.keys})", key.description, callback)


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
