"""Journey mode (``destkit tester --journey-file FILE``, or ctrl+n in the tester).

Four panes: **Setup** (the journey file, the test user, the journey to run and the tree of its
journeys and steps), **Path** (the user's path, step by step, and whether each send-to-journey
step enters them into the other journey and why), **Payloads** (every event each destination
would receive, as JSON) and **Send** (each destination's settings, then every lifecycle of the
send). One pane at a time in 80 columns; Setup beside the others from 110; Setup | Path | the
others from 150.

UI only: the file and the user are loaded with ``sdk.load_journey_file`` and
``sdk.load_user_profile``, the preview is ``sdk.preview`` (in a thread worker), the send
``sdk.send_preview_async`` (in a worker), the required settings ``sdk.missing_settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    Header,
    Input,
    Select,
    Static,
    Tab,
    Tabs,
    Tree,
)

from tester_tui.journey_session import (
    Focus,
    delivery_counts,
    file_summary,
    generated_user,
    profile_summary,
    reachable_journeys,
    send_problem,
    send_settings,
    settings_for,
    shown_path,
    user_files,
    users_folder,
)
from tester_tui.keys import JOURNEY_KEYS, journey_bindings
from tester_tui.lifecycle_render import Palette, palette_of
from tester_tui.panes import focus_pane
from tester_tui.widgets.field_row import FieldRow
from tester_tui.widgets.journey_path import JourneyPathView
from tester_tui.widgets.journey_payloads import JourneyPayloads
from tester_tui.widgets.journey_send import JourneySend
from tester_tui.widgets.journey_tree import JourneyTree, NodeData
from tester_tui.widgets.settings_form import SettingsForm
from tester_tui.widgets.stable_footer import StableFooter

if TYPE_CHECKING:
    from sdk import Destination, JourneyFile, Preview, UserProfile
    from tester_tui.app import DestkitTester

__all__ = ["GENERATED", "OTHER_FILE", "JourneyScreen"]

GENERATED = "generated"  # the user menu's value for the generated minimal user
OTHER_FILE = "other-file"  # ... and for "type a path"
_PANES = ("setup", "path", "payloads", "send")
# Where the focus goes in each pane (else its first focusable widget).
_PANE_FOCUS = {
    "setup": "#journey-tree",
    "path": "#jpane-path",
    "payloads": "#jp-emissions",
    "send": "#js-destination",
}


def _one_line(exc: BaseException) -> str:
    """An exception as one line: ``sdk``'s own message, else ``Class: text``."""
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def _same_path(left: str | Path | None, right: str | Path | None) -> bool:
    """Both None, or the same file once resolved (``a/b.yaml`` is ``./a/b.yaml``)."""
    if left is None or right is None or not str(left).strip() or not str(right).strip():
        return (left is None or not str(left).strip()) == (right is None or not str(right).strip())
    try:
        return Path(left).expanduser().resolve() == Path(right).expanduser().resolve()
    except (OSError, RuntimeError):
        return str(left) == str(right)


class JourneyScreen(Screen[None]):
    """Preview a test user's path through a journey file, then send the payloads."""

    #: ``DestkitTester.check_action`` switches the tester's own keys off while this is open.
    journey_mode: ClassVar[bool] = True
    BINDINGS: ClassVar[list[BindingType]] = cast("list[BindingType]", journey_bindings())
    AUTO_FOCUS = "#journey-tree"

    class PreviewDone(Message):
        """The preview worker finished: ``result`` or a one-line ``error``."""

        def __init__(self, token: int, result: Preview | None, error: str | None) -> None:
            super().__init__()
            self.token = token
            self.result = result
            self.error = error

    def __init__(self, journey_file: str | None = None) -> None:
        super().__init__()
        self.initial_path = journey_file or ""
        self.file: JourneyFile | None = None
        self.file_path = ""  # the path the file was loaded from (as typed)
        self.file_error: str | None = None
        self.folder: Path | None = None  # the users/ folder next to the file
        self.user: UserProfile | None = None
        self.user_error: str | None = None
        self.user_loaded_from = ""  # the user file path loaded (as typed), "" for generated
        self.journey_name: str | None = None
        self.focus_step: Focus | None = None
        self.preview: Preview | None = None
        self.document: dict[str, Any] | None = None
        self.preview_error: str | None = None
        self.stale = False
        self.previewing = False
        self.sending = False
        self.size_mode = ""
        self._token = 0
        self._generated_id = ""
        self.user_choice = ""  # the user menu's value (a file path, GENERATED or OTHER_FILE)

    @property
    def tester(self) -> DestkitTester:
        return cast("DestkitTester", self.app)

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Tabs(
            Tab("Setup", id="jtab-setup"),
            Tab("Path", id="jtab-path"),
            Tab("Payloads", id="jtab-payloads"),
            Tab("Send", id="jtab-send"),
            id="journey-tabs",
        )
        with Horizontal(id="journey-panes"):
            with Vertical(id="jpane-setup", classes="jpane -current"):
                yield FieldRow(
                    "File",
                    Input(
                        shown_path(self.initial_path) if self.initial_path else "",
                        placeholder="path/to/journeys.yaml (enter loads)",
                        id="journey-file",
                        compact=True,
                    ),
                    tooltip="The journey file (YAML or JSON); enter loads it",
                )
                yield Static(id="journey-status", classes="jstatus")
                yield FieldRow(
                    "User",
                    Select[str]([], id="user-choice", prompt="(no user)", compact=True),
                    tooltip="A user file of the users/ folder, a generated user, or any file",
                )
                yield FieldRow(
                    "User file",
                    Input(
                        placeholder="path/to/user.json (enter loads)", id="user-file", compact=True
                    ),
                    id="user-file-row",
                )
                yield FieldRow(
                    "User id",
                    Input(placeholder="the generated user's id", id="user-id", compact=True),
                    id="user-id-row",
                )
                yield Static(id="user-status", classes="jstatus")
                yield FieldRow(
                    "Journey",
                    Select[str]([], id="journey-choice", prompt="(no journey)", compact=True),
                    tooltip="The journey the user enters (by its entry rule)",
                )
                yield Static(id="focus-status", classes="jstatus")
                yield JourneyTree(id="journey-tree")
            with VerticalScroll(id="jpane-path", classes="jpane"):
                yield JourneyPathView(id="journey-path-text")
            with Vertical(id="jpane-payloads", classes="jpane"):
                yield JourneyPayloads(id="journey-payloads")
            with Vertical(id="jpane-send", classes="jpane"):
                yield JourneySend(id="journey-send")
        yield StableFooter([k.action for k in JOURNEY_KEYS], compact=True)

    def on_mount(self) -> None:
        self.sub_title = "journey mode"
        titles = {
            "setup": "Journey file · user · journey",
            "path": "Path",
            "payloads": "Payloads",
            "send": "Send",
        }
        for name, title in titles.items():
            self.query_one(f"#jpane-{name}").border_title = title
        self.query_one("#user-id-row").display = False
        self._apply_layout(self.app.size.width)
        self.load_file(self.query_one("#journey-file", Input).value)
        self.call_after_refresh(self._draw_preview)  # "Press f5 to preview" once mounted

    @property
    def palette(self) -> Palette:
        return palette_of(self.app)

    @property
    def payloads(self) -> JourneyPayloads:
        return self.query_one(JourneyPayloads)

    @property
    def send_view(self) -> JourneySend:
        return self.query_one(JourneySend)

    def _status(self, widget_id: str, text: str, kind: str = "") -> None:
        status = self.query_one(f"#{widget_id}", Static)
        mark = {"error": "✗ ", "ok": "✓ "}.get(kind, "")
        status.update(Text(mark + text))
        status.set_class(kind == "error", "-error")
        status.set_class(kind == "ok", "-ok")

    # -- the journey file ----------------------------------------------------------------------

    def load_file(self, path: str) -> bool:
        """Load (or reload) the journey file at ``path``; a bad one is one line under it."""
        from sdk import load_journey_file

        path = path.strip()
        self.file_path = path
        self._forget_preview()
        if not path:
            self.file, self.file_error = None, "journey file: give a path (YAML or JSON)"
        else:
            try:
                self.file, self.file_error = load_journey_file(Path(path).expanduser()), None
            except Exception as exc:  # InvalidJourney; anything else must not crash the UI
                self.file, self.file_error = None, _one_line(exc)
        tree = self.query_one(JourneyTree)
        tree.load(self.file)
        journeys = self.query_one("#journey-choice", Select)
        if self.file is None:
            self._status("journey-status", self.file_error or "", "error")
            journeys.set_options([])
            self.journey_name = None
            self.focus_step = None
            self._draw_focus()
            self._load_user_choices(None)
            return False
        self._status("journey-status", file_summary(self.file), "ok")
        names = [journey.name for journey in self.file.journeys]
        if self.journey_name not in names:
            self.journey_name = names[0]
        if self.focus_step is not None and self.focus_step[0] not in names:
            self.focus_step = None
        journeys.set_options([(name, name) for name in names])
        journeys.value = self.journey_name
        self._draw_focus()
        folder = users_folder(path)
        if not _same_path(folder, self.folder) or self.user is None:
            self._load_user_choices(folder)
        return True

    # -- the test user ---------------------------------------------------------------------------

    def _load_user_choices(self, folder: Path | None) -> None:
        """The user menu: the users/ folder's files, a generated user, any other file."""
        self.folder = folder
        files = user_files(folder)
        options = [(f.name, str(f.resolve())) for f in files]
        options += [("generated user (edit its id)", GENERATED), ("another file…", OTHER_FILE)]
        choice = self.query_one("#user-choice", Select)
        current = choice.value
        values = [value for _, value in options]
        choice.set_options(options)
        if current in values and current not in (Select.NULL, OTHER_FILE):
            value = str(current)
        elif files:
            value = str(files[0].resolve())
        else:
            value = GENERATED
        self._choose_user(value)

    def _choose_user(self, value: str) -> None:
        self.user_choice = value  # first: the Select.Changed that follows is no new choice
        choice = self.query_one("#user-choice", Select)
        if choice.value != value:
            choice.value = value
        generated = value == GENERATED
        self.query_one("#user-id-row").display = generated
        self.query_one("#user-file-row").display = not generated
        if generated:
            if not self._generated_id:
                from sdk.engage import new_test_user_id

                self._generated_id = self.tester.initial_user_id or new_test_user_id()
            self.use_generated_user(self._generated_id)
            user_id = self.query_one("#user-id", Input)
            if user_id.value != self._generated_id:
                user_id.value = self._generated_id  # its Input.Changed is no edit: same id
        elif value == OTHER_FILE:
            path = self.query_one("#user-file", Input)
            if not path.value and self.folder is not None:
                path.value = shown_path(self.folder) + "/"
            self.user, self.user_error, self.user_loaded_from = None, None, ""
            self._status("user-status", "type a user file's path and press enter")
            self._made_stale()
        else:
            path = self.query_one("#user-file", Input)
            shown = shown_path(value)
            if path.value != shown:
                path.value = shown
            self.load_user_file(shown)

    def load_user_file(self, path: str) -> bool:
        """Load the test user from ``path`` (JSON or YAML); a bad one is one line."""
        from sdk import load_user_profile

        path = path.strip()
        self.user_loaded_from = path
        if not path:
            self.user, self.user_error = None, "user file: give a path (JSON or YAML)"
        else:
            try:
                self.user, self.user_error = load_user_profile(Path(path).expanduser()), None
            except Exception as exc:  # InvalidJourney; anything else must not crash the UI
                self.user, self.user_error = None, _one_line(exc)
        self._user_loaded()
        return self.user is not None

    def use_generated_user(self, user_id: str) -> bool:
        """A generated minimal user (an id only); a bad id is one line."""
        from sdk import parse_user_profile

        self._generated_id = user_id
        self.user_loaded_from = ""
        try:
            self.user, self.user_error = parse_user_profile(generated_user(user_id)), None
        except Exception as exc:
            self.user, self.user_error = None, _one_line(exc)
        self._user_loaded()
        return self.user is not None

    def _user_loaded(self) -> None:
        if self.user is None:
            self._status("user-status", self.user_error or "no user", "error")
        else:
            self._status("user-status", profile_summary(self.user), "ok")
        self._made_stale()

    # -- journey and focus ----------------------------------------------------------------------

    def choose_journey(self, name: str) -> None:
        """Run the user through ``name``; a focus the journey cannot reach is dropped."""
        if self.file is None:
            return
        self.journey_name = name
        select = self.query_one("#journey-choice", Select)
        if select.value != name:
            select.value = name  # its Select.Changed names the journey already chosen
        if self.focus_step is not None and self.focus_step[0] not in reachable_journeys(
            self.file, name
        ):
            self.focus_step = None
        self._draw_focus()
        self._made_stale()

    def set_focus_step(self, focus: Focus | None) -> None:
        """Focus on one step (``(journey, path)``): the path marks it, the payloads narrow to
        it. A step of a journey the chosen one cannot reach makes its journey the chosen one."""
        self.focus_step = focus
        if (
            focus is not None
            and self.file is not None
            and self.journey_name is not None
            and focus[0] not in reachable_journeys(self.file, self.journey_name)
        ):
            self.choose_journey(focus[0])
            self.focus_step = focus
        self._draw_focus()
        self._draw_preview()

    def _step_name(self, focus: Focus) -> str:
        """``Opened Email`` for ``("First Purchase", "steps[1]")`` (the path if unknown)."""
        if self.file is not None:
            for journey in self.file.journeys:
                if journey.name == focus[0]:
                    for path, step in journey.walk():
                        if path == focus[1]:
                            return step.label
        return focus[1]

    def _draw_focus(self) -> None:
        focus = self.focus_step
        if focus is None:
            self._status(
                "focus-status",
                "Focus: whole journey, ctrl+s sends it all (enter on a step focuses it)",
            )
        else:
            name = self._step_name(focus)
            shown = f"{name} ({focus[1]})" if name != focus[1] else name
            self._status(
                "focus-status",
                f"Focus: {focus[0]} / {shown}; ctrl+s sends this step, f7 the whole journey",
            )
        self._update_send_status()

    # -- preview ---------------------------------------------------------------------------------

    def _forget_preview(self) -> None:
        self.preview = None
        self.document = None
        self.preview_error = None
        self.stale = False

    def _made_stale(self) -> None:
        if self.preview is not None and not self.stale:
            self.stale = True
            self._draw_preview()
        self._update_send_status()

    def _sync_inputs(self) -> None:
        """Load what the inputs say, if it is not what is loaded (enter was not pressed)."""
        path = self.query_one("#journey-file", Input).value.strip()
        if not _same_path(path, self.file_path):
            self.load_file(path)
        if self.query_one("#user-choice", Select).value == GENERATED:
            user_id = self.query_one("#user-id", Input).value
            if self.user is None or user_id != self._generated_id:
                self.use_generated_user(user_id)
        else:
            user_path = self.query_one("#user-file", Input).value.strip()
            if user_path and not _same_path(user_path, self.user_loaded_from):
                self.load_user_file(user_path)

    def preview_blocker(self) -> str | None:
        """Why a preview cannot run now, or None."""
        if self.file is None:
            return self.file_error or "journey file: not loaded"
        if self.user is None:
            return self.user_error or "user: choose a user file or a generated user"
        if self.journey_name is None:
            return "journey: choose one"
        return None

    def action_preview(self) -> None:
        """Run the user through the journey (a thread worker: the UI never waits)."""
        self._sync_inputs()
        blocker = self.preview_blocker()
        if blocker is not None:
            self.notify(f"Preview refused: {blocker}", severity="error")
            return
        assert self.file is not None and self.user is not None
        self._token += 1
        self.previewing = True
        self._draw_preview()
        self._update_send_status()
        self._run_preview(self._token, self.file, self.user, self.journey_name)

    @work(thread=True, exclusive=True, group="journey-preview", exit_on_error=False)
    def _run_preview(
        self, token: int, file: JourneyFile, user: UserProfile, journey: str | None
    ) -> None:
        from sdk import preview

        try:
            result = preview(file, user, journey=journey)
            result.to_dict()  # anything unserialisable fails here, not while drawing
        except Exception as exc:  # one line on screen, never a traceback
            self.post_message(self.PreviewDone(token, None, _one_line(exc)))
            return
        self.post_message(self.PreviewDone(token, result, None))

    def on_journey_screen_preview_done(self, message: PreviewDone) -> None:
        if message.token != self._token:
            return  # an older preview, overtaken
        self.previewing = False
        if message.result is None:
            self.preview, self.document = None, None
            self.preview_error = message.error
            self.notify(message.error or "preview failed", title="Preview", severity="error")
        else:
            self.preview = message.result
            self.document = message.result.to_dict()
            self.preview_error = None
        self.stale = False
        self._draw_preview()
        self._preview_destinations()
        self._update_send_status()
        if self.size_mode != "wide":
            self._show_pane("path")

    def _draw_preview(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(JourneyPathView).show(
            self.document,
            self.focus_step,
            previewing=self.previewing,
            stale=self.stale,
            error=self.preview_error,
            file_loaded=self.file is not None,
        )
        self.payloads.show(self.document, self.focus_step)

    # -- send ------------------------------------------------------------------------------------

    def _destination(self, name: str) -> Destination[Any] | None:
        from sdk import InputError, get_destination

        try:
            return get_destination(name)
        except InputError:
            return None

    def _preview_destinations(self) -> None:
        """The Settings menu follows the preview: one entry per destination it sends to."""
        if self.preview is None:
            self.send_view.set_destinations([], None)
            return
        options: list[tuple[str, str]] = []
        for name in self.preview.destinations:
            destination = self._destination(name)
            if destination is not None:
                options.append((f"{destination.name} ({destination.slug})", destination.slug))
        current = self.send_view.form.destination
        slugs = [slug for _, slug in options]
        if current is not None and current.slug in slugs:
            value: str | None = current.slug
        else:
            value = self._first_missing() or (slugs[0] if slugs else None)
        self.send_view.set_destinations(options, value)
        if value is not None and (current is None or current.slug != value):
            self._show_settings(value)

    def _first_missing(self) -> str | None:
        """The slug of the first destination that lacks a required setting."""
        from sdk import InputError, missing_settings

        if self.preview is None:
            return None
        try:
            missing = missing_settings(self.preview, self._send_settings(), environ={})
        except InputError:
            return None
        if not missing:
            return None
        destination = self._destination(missing[0].rpartition(".")[0])
        return destination.slug if destination is not None else None

    def _values_for(self, destination: Destination[Any]) -> dict[str, Any]:
        tester = self.tester
        return settings_for(
            destination,
            tester.settings_values,
            environ=tester.environ,
            file_values=tester._file_values,
            sandbox_url=tester.sandbox_url,
        )

    def _show_settings(self, slug: str) -> None:
        destination = self.tester.destinations.get(slug) or self._destination(slug)
        if destination is None:
            return
        values = self._values_for(destination)
        self.run_worker(
            self.send_view.form.load(destination, values), group="journey-settings", exclusive=True
        )

    @on(Select.Changed, "#js-destination")
    def _settings_destination(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        form = self.send_view.form
        if form.destination is None or form.destination.slug != event.value:
            self._show_settings(str(event.value))

    def on_settings_form_changed(self, message: SettingsForm.Changed) -> None:
        # Kept in the tester's store (by slug): the tester and journey mode share settings.
        message.stop()
        self.tester.settings_values[message.slug] = message.values
        self._update_send_status()

    def _send_settings(self, step: Focus | None = None) -> dict[str, dict[str, Any]]:
        assert self.preview is not None
        tester = self.tester
        return send_settings(
            self.preview,
            tester.settings_values,
            environ=tester.environ,
            file_values=tester._file_values,
            sandbox_url=tester.sandbox_url,
            step=step,
        )

    def send_target(self, *, whole: bool = False) -> Focus | None:
        """The step whose events ctrl+s sends (the focused one), or None: the whole journey
        (always, with ``whole``: f7)."""
        return None if whole else self.focus_step

    def send_blocker(self, *, whole: bool = False) -> str | None:
        """Why ctrl+s (f7 with ``whole``) cannot send now (one line naming what is missing),
        or None."""
        from sdk import InputError

        if self.previewing:
            return "previewing…"
        if self.preview is None:
            return "preview first (f5)"
        if self.stale:
            return "the preview is out of date: f5 previews again"
        if self.sending:
            return "sending…"
        if not self.preview.messages:
            return "this preview sends no events (no send-to-destinations step was reached)"
        step = self.send_target(whole=whole)
        if step is not None and not self.preview.messages_of(step):
            return (
                f"the focused step ({self._step_name(step)}) sends no events in this preview: "
                "f7 sends the whole journey"
            )
        try:
            settings = self._send_settings(step)
        except InputError as exc:
            return exc.message
        for name, values in settings.items():
            destination = self._destination(name)
            if (
                destination is not None
                and destination.slug == "sandbox"
                and not values.get("endpoint")
                and not self.tester._sandbox_settled.is_set()
            ):
                return "starting the sandbox…"
        return send_problem(self.preview, settings, step)

    def send_plan(self, *, whole: bool = False) -> str:
        """What ctrl+s (f7 with ``whole``) sends, in words: ``the focused step's 5 events
        (Opened Email) to Webhook, Sandbox``."""
        assert self.preview is not None
        step = self.send_target(whole=whole)
        count = len(self.preview.messages_of(step))
        events = f"{count} event{'s' if count != 1 else ''}"
        names = ", ".join(self.preview.destinations_of(step))
        if step is None:
            return f"the whole journey's {events} to {names}"
        return f"the focused step's {events} ({self._step_name(step)}) to {names}"

    def _update_send_status(self) -> None:
        if not self.is_mounted:
            return
        self.refresh_bindings()  # the footer says whether ctrl+s sends the step or the journey
        view = self.send_view
        if self.sending:
            view.set_status("sending…")
            return
        if self.preview is None and not self.previewing:
            view.set_status("Preview first (f5): the destinations come from the preview.")
            return
        blocker = self.send_blocker()
        whole = ""
        if self.focus_step is not None and self.preview is not None and not self.previewing:
            total = len(self.preview.messages)
            whole = f"; f7 sends the whole journey ({total} event{'s' if total != 1 else ''})"
        if blocker is not None:
            view.set_status(blocker + (whole if "f7" not in blocker else ""), "error")
            return
        view.set_status(
            f"ctrl+s sends {self.send_plan()}: each delivers its own and filters out the "
            f"others'{whole}",
            "ok",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ctrl+s is "Send step" with a step focused and "Send all" (the whole journey)
        without; f7 ("Send all") is there only while a step is focused (else ctrl+s does the
        same)."""
        if action == "send" and parameters:
            return (parameters[0] == "step") == (self.focus_step is not None)
        if action == "send_journey":
            return self.focus_step is not None
        return True

    def action_send(self, what: str = "step") -> None:
        """Send the focused step's events (``step``) or every event of the preview
        (``journey``), each to every destination they name."""
        whole = what == "journey" or self.focus_step is None
        blocker = self.send_blocker(whole=whole)
        if blocker is not None:
            self.send_view.set_status(blocker, "error")
            self.notify(f"Send refused: {blocker}", severity="error")
            return
        assert self.preview is not None
        step = self.send_target(whole=whole)
        settings = self._send_settings(step)
        plan = self.send_plan(whole=whole)
        self.sending = True
        self._update_send_status()
        self.send_view.set_status(f"sending {plan}…")
        self._show_pane("send")
        self.send_view.send(self.preview, settings, step, self.tester.retry)

    def action_send_journey(self) -> None:
        """Send every event of the preview, even with a step focused."""
        self.action_send("journey")

    def action_check_credentials(self) -> None:
        """Check the credentials of the destination whose settings are shown."""
        from sdk import InputError

        form = self.send_view.form
        if form.destination is None:
            self.notify("preview first: the destinations come from the preview", severity="warning")
            return
        if self.sending:
            return
        try:
            settings = form.settings()
        except InputError as exc:
            self.send_view.set_status(f"{form.destination.name}.{exc.message}", "error")
            return
        self.sending = True
        self._show_pane("send")
        self.send_view.check(form.destination, settings, self.tester.retry)

    @on(Button.Pressed, "#check-credentials")
    def _check_pressed(self, event: Button.Pressed) -> None:
        event.stop()  # the tester's own handler would check the tester's destination
        self.action_check_credentials()

    @on(JourneySend.Finished)
    def _send_finished(self, message: JourneySend.Finished) -> None:
        message.stop()
        self.sending = False
        if not self.is_mounted:
            return
        view = self.send_view
        if message.error is not None:
            self._update_send_status()
            view.set_status(message.error, "error")
            self.notify(message.error, title="Send", severity="error")
            return
        self.tester.history.extend(message.lifecycles)  # ctrl+o in the tester reopens them
        failed = [
            lc for lc in message.lifecycles if lc.outcome.value not in ("delivered", "filtered")
        ]
        if message.kind == "auth":
            ok = bool(message.lifecycles) and message.lifecycles[0].delivered
            text = "credentials accepted" if ok else "credentials refused (see the lifecycle)"
            view.set_status(text, "ok" if ok else "error")
            return
        parts = []
        for destination, per in delivery_counts(message.lifecycles).items():
            parts.append(f"{destination} " + ", ".join(f"{n} {o}" for o, n in per.items()))
        summary = "; ".join(parts)
        if failed:
            view.set_status(f"{len(failed)} failed · {summary}", "error")
            self.notify(summary, title="Some deliveries failed", severity="error")
        else:
            view.set_status(f"sent · {summary}", "ok")
            self.notify(summary, title="Sent")

    # -- other actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_generated_user(self) -> None:
        """A generated minimal user with a new id (editable in "User id")."""
        from sdk.engage import new_test_user_id

        self._generated_id = new_test_user_id()
        self._choose_user(GENERATED)

    def action_open_file(self) -> None:
        """Edit the journey file's path (enter loads it)."""
        self._show_pane("setup")
        field = self.query_one("#journey-file", Input)
        field.focus()
        field.action_end()

    def action_copy_text(self) -> None:
        """Copy the preview (and the last send) as ``destkit journey preview`` prints them."""
        from sdk.journeys import render_deliveries, render_preview

        if self.preview is None:
            self.notify("nothing to copy yet: preview first (f5)", severity="warning")
            return
        text = render_preview(self.preview)
        if self.send_view.lifecycles:
            text += "\n\n" + render_deliveries(self.send_view.lifecycles)
        self.app.copy_to_clipboard(text)
        self.notify("copied the preview as text", title="Copied")

    def action_jump(self) -> None:
        """Jump mode: a letter per pane; the letter shows the pane and focuses it."""
        from tester_tui.screens.jump import JumpScreen

        targets = [("s", "setup", "Setup"), ("a", "path", "Path")]
        targets += [("y", "payloads", "Payloads"), ("d", "send", "Send · settings")]

        def chosen(name: str | None) -> None:
            if name:
                self.action_show_pane(name)

        self.app.push_screen(JumpScreen(targets), chosen)

    def action_show_pane(self, name: str) -> None:
        """Show ``setup``, ``path``, ``payloads`` or ``send`` and move the focus into it."""
        self._show_pane(name, moved=True)

    def _show_pane(self, name: str, *, moved: bool = False) -> None:
        """Show the pane (a tab, unless it is always shown at this width); ``moved``: the user
        asked for it, so the focus goes there too (else only when the switch hid the focus)."""
        if name not in _PANES:
            return
        always = {"medium": ("setup",), "wide": ("setup", "path")}.get(self.size_mode, ())
        if name not in always:
            self.query_one("#journey-tabs", Tabs).active = f"jtab-{name}"
        self.call_after_refresh(self._focus_pane, name, moved)

    @on(Tabs.TabActivated, "#journey-tabs")
    def _pane_tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        name = (event.tab.id or "jtab-setup").removeprefix("jtab-")
        for pane in _PANES:
            self.query_one(f"#jpane-{pane}").set_class(pane == name, "-current")
        self.call_after_refresh(self._focus_pane, name, False)

    def _focus_pane(self, name: str, moved: bool = False) -> None:
        if self.is_mounted and self.app.screen is self:
            focus_pane(self, self.query_one(f"#jpane-{name}"), _PANE_FOCUS[name], moved=moved)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        from tester_tui.app import layout_mode

        mode = layout_mode(width)
        if mode == self.size_mode:
            return
        self.size_mode = mode
        # The breakpoint class now, not after the next resize: else the setup pane is hidden
        # for a frame and the step tree loses the focus it opens with.
        for name in ("narrow", "medium", "wide"):
            self.set_class(name == mode, f"-{name}")
        tabs = self.query_one("#journey-tabs", Tabs)
        hidden = {"narrow": (), "medium": ("setup",), "wide": ("setup", "path")}[mode]
        for pane in _PANES:
            if pane in hidden:
                tabs.hide(f"jtab-{pane}")
            else:
                tabs.show(f"jtab-{pane}")
        if tabs.active in ("", *(f"jtab-{pane}" for pane in hidden)):
            # Narrow: open on Setup, where the step tree (and the focus) is.
            first = {"narrow": "setup", "medium": "path", "wide": "payloads"}[mode]
            tabs.active = f"jtab-{first}"

    # -- inputs ----------------------------------------------------------------------------------

    @on(Input.Submitted, "#journey-file")
    def _file_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.load_file(event.value):
            self.query_one(JourneyTree).focus()
        self._draw_preview()
        self._preview_destinations()
        self._update_send_status()

    @on(Input.Submitted, "#user-file")
    def _user_file_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.load_user_file(event.value)
        listed = str(Path(event.value.strip()).expanduser().resolve())
        choice = self.query_one("#user-choice", Select)
        for file in user_files(self.folder):
            if str(file.resolve()) == listed and choice.value != listed:
                self.user_choice = listed
                choice.value = listed

    @on(Input.Changed, "#user-id")
    def _user_id_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self._generated_id and self.user is not None:
            return  # set by the screen, not typed
        if self.user_choice == GENERATED:
            self.use_generated_user(event.value)

    @on(Select.Changed, "#user-choice")
    def _user_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.user_choice:
            return
        self._choose_user(str(event.value))
        if event.value == OTHER_FILE:
            self.query_one("#user-file", Input).focus()

    @on(Select.Changed, "#journey-choice")
    def _journey_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        if event.value != self.journey_name:
            self.choose_journey(str(event.value))

    @on(Tree.NodeSelected, "#journey-tree")
    def _node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        data = event.node.data
        if not data:
            return
        if data.get("path") is None:
            self.focus_step = None
            self.choose_journey(data["journey"])
            self._draw_preview()
            if self.preview_blocker() is None:
                self.action_preview()
            return
        focus = (data["journey"], data["path"])
        changes_journey = (
            self.journey_name is not None
            and self.file is not None
            and (focus[0] not in reachable_journeys(self.file, self.journey_name))
        )
        self.set_focus_step(None if focus == self.focus_step else focus)
        if (changes_journey or self.preview is None) and self.preview_blocker() is None:
            self.action_preview()
