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

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Header,
    Input,
    Select,
    Static,
    Tab,
    Tabs,
)

from tester_tui.journey_session import (
    Focus,
    shown_path,
)
from tester_tui.keys import JOURNEY_KEYS, journey_bindings
from tester_tui.lifecycle_render import Palette, palette_of
from tester_tui.panes import focus_pane
from tester_tui.screens.journey_inputs import (
    _PANE_FOCUS,
    _PANES,
    GENERATED,
    OTHER_FILE,
    JourneyInputs,
    PreviewDone,
    one_line,
    same_path,
)
from tester_tui.screens.journey_sending import JourneySending
from tester_tui.widgets.field_row import FieldRow
from tester_tui.widgets.journey_path import JourneyPathView
from tester_tui.widgets.journey_payloads import JourneyPayloads
from tester_tui.widgets.journey_send import JourneySend
from tester_tui.widgets.journey_tree import JourneyTree
from tester_tui.widgets.stable_footer import StableFooter

if TYPE_CHECKING:
    from sdk import JourneyFile, Preview, UserProfile
    from tester_tui.app import DestkitTester

__all__ = ["GENERATED", "OTHER_FILE", "JourneyScreen"]

#: The pane shown first at each width (narrow: Setup, where the step tree and the focus are).
_FIRST_PANE = {"narrow": "setup", "medium": "path", "wide": "payloads"}


class JourneyScreen(JourneyInputs, JourneySending):
    """Preview a test user's path through a journey file, then send the payloads."""

    #: ``DestkitTester.check_action`` switches the tester's own keys off while this is open.
    journey_mode: ClassVar[bool] = True
    BINDINGS: ClassVar[list[BindingType]] = cast("list[BindingType]", journey_bindings())
    AUTO_FOCUS = "#journey-tree"

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
        #: The file load is waiting for sdk (the outline is shown meanwhile).
        self._waiting_for_domain = False
        #: Set once the first file load is over (loaded or refused), not just outlined.
        self.file_settled = asyncio.Event()

    @property
    def tester(self) -> DestkitTester:
        return cast("DestkitTester", self.app)

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        from tester_tui.app import layout_mode

        # The width's classes (see _apply_layout) and the pane shown first, set before the
        # widgets are mounted: set after, each class change restyles every widget under it.
        mode = layout_mode(self.app.size.width)
        for name in ("narrow", "medium", "wide"):
            if name == mode:
                self.add_class(f"-{name}", update=False)
            else:
                self.remove_class(f"-{name}", update=False)
        first = _FIRST_PANE[mode]

        def pane_classes(name: str) -> str:
            return "jpane -current" if name == first else "jpane"

        yield Header()
        yield Tabs(
            Tab("Setup", id="jtab-setup"),
            Tab("Path", id="jtab-path"),
            Tab("Payloads", id="jtab-payloads"),
            Tab("Settings · send", id="jtab-send"),
            id="journey-tabs",
            active=f"jtab-{first}",
        )
        with Horizontal(id="journey-panes"):
            with Vertical(id="jpane-setup", classes=pane_classes("setup")):
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
            with VerticalScroll(id="jpane-path", classes=pane_classes("path")):
                yield JourneyPathView(id="journey-path-text")
            with Vertical(id="jpane-payloads", classes=pane_classes("payloads")):
                yield JourneyPayloads(id="journey-payloads")
            with Vertical(id="jpane-send", classes=pane_classes("send")):
                yield JourneySend(id="journey-send")
        yield StableFooter([k.action for k in JOURNEY_KEYS], compact=True)

    def on_mount(self) -> None:
        self.sub_title = "journey mode"
        titles = {
            "setup": "Journey file · user · journey",
            "path": "Path",
            "payloads": "Payloads",
            "send": "Settings · send (f6)",
        }
        for name, title in titles.items():
            self.query_one(f"#jpane-{name}").border_title = title
        self.query_one("#user-id-row").display = False
        self._apply_layout(self.app.size.width)
        self.load_file(self.query_one("#journey-file", Input).value)
        self.call_after_refresh(self._draw_preview)  # "Press f5 to preview" once mounted
        self.call_after_refresh(self.tester.start_loading)  # sdk, after this first frame

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
        if not same_path(path, self.file_path):
            self.load_file(path)
        if self.query_one("#user-choice", Select).value == GENERATED:
            user_id = self.query_one("#user-id", Input).value
            if self.user is None or user_id != self._generated_id:
                self.use_generated_user(user_id)
        else:
            user_path = self.query_one("#user-file", Input).value.strip()
            if user_path and not same_path(user_path, self.user_loaded_from):
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
            self.post_message(PreviewDone(token, None, one_line(exc)))
            return
        self.post_message(PreviewDone(token, result, None))

    def on_preview_done(self, message: PreviewDone) -> None:
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
            tabs.active = f"jtab-{_FIRST_PANE[mode]}"
