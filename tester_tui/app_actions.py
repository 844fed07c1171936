"""The event tester's other actions: a new user, the route switch, rebuilding the payload,
saving a lifecycle, copying curl (unmasked only after a confirmation), the history, help,
jump mode, and the command palette's entries.

A part of :class:`tester_tui.app.DestkitTester` (its base class), kept apart so each module
stays one concern; the state it reads (forms, editor, lifecycle, history) is the app's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.screen import ModalScreen, Screen

from tester_tui.keys import KEYS, help_rows
from tester_tui.session import (
    new_event_ids,
    request_as_curl,
)

if TYPE_CHECKING:
    from sdk import Lifecycle


__all__ = ["TesterActions"]

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
_EXAMPLE_JOURNEY_FILE = "examples/journeys/first_purchase.yaml"


def _same_file(left: str, right: str) -> bool:
    """The same file once resolved (``a/b.yaml`` is ``./a/b.yaml``)."""
    try:
        return Path(left).expanduser().resolve() == Path(right).expanduser().resolve()
    except (OSError, RuntimeError):
        return left == right


class TesterActions(App[int]):
    """Actions other than sending (a base class of ``DestkitTester``)."""

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

    def action_jump(self) -> None:
        """Jump mode: a letter per pane; the letter shows the pane and focuses it."""
        from tester_tui.screens.jump import JumpScreen

        targets = [("s", "setup", "Setup"), ("p", "payload", "Payload")]
        targets.append(("l", "lifecycle", "Lifecycle"))

        def chosen(name: str | None) -> None:
            if name:
                self.action_show_pane(name)

        self.push_screen(JumpScreen(targets), chosen)

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

        # One journey screen per file, kept (installed) when the user goes back: ctrl+n on
        # the same file finds its preview, focused step and settings as they were left.
        kept = self._journey_screen
        self.journey_file = path
        if kept is not None and _same_file(kept.initial_path, path):
            self.push_screen(kept)
            return
        if kept is not None:
            self._journey_screen = None
            self.uninstall_screen(kept)
        screen = JourneyScreen(path)
        self.install_screen(screen, name="journey")
        self._journey_screen = screen
        self.push_screen(screen)
