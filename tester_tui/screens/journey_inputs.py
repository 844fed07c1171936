"""Journey mode's setup: the journey file, the test user (a users/ file, a generated user,
any file), the journey and the focused step, the preview (a thread worker), and the inputs
that change them.

A part of :class:`tester_tui.screens.journey.JourneyScreen` (its base class).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Input,
    Select,
    Tree,
)

from tester_tui.journey_session import (
    Focus,
    file_summary,
    generated_user,
    profile_summary,
    reachable_journeys,
    shown_path,
    user_files,
    users_folder,
)
from tester_tui.widgets.journey_tree import JourneyTree, NodeData

if TYPE_CHECKING:
    from sdk import JourneyFile, Preview
    from tester_tui.journey_outline import JourneyOutline


__all__ = ["GENERATED", "OTHER_FILE", "JourneyInputs", "PreviewDone", "one_line", "same_path"]

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


def _parse_file(path: str) -> tuple[JourneyFile | None, str | None]:
    """``sdk.load_journey_file`` of ``path``: the file, or a one-line error."""
    from sdk import load_journey_file

    if not path:
        return None, "journey file: give a path (YAML or JSON)"
    try:
        return load_journey_file(Path(path).expanduser()), None
    except Exception as exc:  # InvalidJourney; anything else must not crash the UI
        return None, one_line(exc)


def one_line(exc: BaseException) -> str:
    """An exception as one line: ``sdk``'s own message, else ``Class: text``."""
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def same_path(left: str | Path | None, right: str | Path | None) -> bool:
    """Both None, or the same file once resolved (``a/b.yaml`` is ``./a/b.yaml``)."""
    if left is None or right is None or not str(left).strip() or not str(right).strip():
        return (left is None or not str(left).strip()) == (right is None or not str(right).strip())
    try:
        return Path(left).expanduser().resolve() == Path(right).expanduser().resolve()
    except (OSError, RuntimeError):
        return str(left) == str(right)


class PreviewDone(Message):
    """The preview worker finished: ``result`` or a one-line ``error``."""

    def __init__(self, token: int, result: Preview | None, error: str | None) -> None:
        super().__init__()
        self.token = token
        self.result = result
        self.error = error


class JourneyInputs(Screen[None]):
    """File, user, journey, focus and preview (a base class of ``JourneyScreen``)."""

    # -- the journey file ----------------------------------------------------------------------

    def load_file(self, path: str) -> bool:
        """Load (or reload) the journey file at ``path``; a bad one is one line under it.

        Before ``sdk`` is loaded (journey mode is the first screen), the file's outline is shown
        at once and the load itself waits for ``sdk`` (:meth:`_load_when_ready`)."""
        path = path.strip()
        if not self.tester.domain_ready.is_set():
            self._defer_file(path)
            return False
        file, error = _parse_file(path)
        return self._file_loaded(path, file, error)

    def _defer_file(self, path: str) -> None:
        self.file_path = path
        self._forget_preview()
        self.file, self.file_error = None, "journey file: loading…"
        self._status("journey-status", "loading…")
        if path:
            self._read_outline(path)
        if not self._waiting_for_domain:
            self._waiting_for_domain = True
            self.run_worker(self._load_when_ready(), group="journey-domain")

    @work(thread=True, exclusive=True, group="journey-outline", exit_on_error=False)
    def _read_outline(self, path: str) -> None:
        from tester_tui.journey_outline import read_outline

        outline = read_outline(path)
        if outline:
            self.app.call_from_thread(self._show_outline, path, outline)

    def _show_outline(self, path: str, outline: list[JourneyOutline]) -> None:
        if self.is_mounted and self._waiting_for_domain and path == self.file_path:
            self.query_one(JourneyTree).load_outline(outline)

    async def _load_when_ready(self) -> None:
        """Load the file once ``sdk`` is (its file IO and checks on a thread), then draw."""
        try:
            await self.tester.domain_ready.wait()
            while True:
                path = self.file_path
                file, error = await asyncio.to_thread(_parse_file, path)
                if path == self.file_path:  # else typed again meanwhile: load that one
                    break
            self._waiting_for_domain = False
            if not self.is_mounted:
                return
            if self._file_loaded(path, file, error):
                self.query_one(JourneyTree).focus()
            self._draw_preview()
            self._preview_destinations()
            self._update_send_status()
        finally:
            self.file_settled.set()  # whatever happened: the tester's loading goes on

    def _file_loaded(self, path: str, file: JourneyFile | None, error: str | None) -> bool:
        """Show the file just read (or its one-line error) and the choices it brings."""
        self.file_path = path
        self._forget_preview()
        self.file, self.file_error = file, error
        self.file_settled.set()
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
        if not same_path(folder, self.folder) or self.user is None:
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
                self.user, self.user_error = None, one_line(exc)
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
            self.user, self.user_error = None, one_line(exc)
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
