"""The tester's keys: one table drives the bindings, the Footer, the help screen and the
command palette, so they cannot disagree."""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding

__all__ = ["KEYS", "Key", "bindings", "help_rows"]


class Key(NamedTuple):
    """One app-wide key: ``action`` is a Textual action string."""

    keys: str
    action: str
    label: str  # short, for the Footer
    description: str  # for the help screen and the command palette
    footer: bool = True


KEYS: list[Key] = [
    Key("ctrl+s", "send", "Send", "Send the payload to the destination"),
    Key("ctrl+r", "new_user_id", "User", "Generate a new test user id"),
    Key("ctrl+t", "check_credentials", "Creds", "Check credentials (test_authentication)"),
    Key("ctrl+e", "save_lifecycle", "Save", "Save the shown lifecycle as JSON"),
    Key("ctrl+y", "copy_curl", "Curl", "Copy the request as curl (secrets masked)"),
    Key("ctrl+o", "history", "History", "Session history: reopen a send"),
    Key("ctrl+b", "toggle_route", "Route", "Route to this destination on/off", False),
    Key("ctrl+g", "rebuild_payload", "Rebuild", "Rebuild the payload from the form", False),
    Key("ctrl+n", "journey", "Journey", "Journey mode (journey file preview)", False),
    Key("f2", "show_pane('setup')", "Setup", "Show the setup pane", False),
    Key("f3", "show_pane('payload')", "Payload", "Show the payload pane", False),
    Key("f4", "show_pane('lifecycle')", "Lifecycle", "Show the lifecycle pane", False),
    Key("f1", "help", "Help", "Show the keys and how the tester works"),
]

# Keys that are not the app's own bindings but worth knowing.
_OTHER_KEYS = [
    ("ctrl+p", "Command palette: every action by name (also curl with secrets unmasked)"),
    ("tab / shift+tab", "Move between fields; type in a menu to search it"),
    ("ctrl+q", "Quit"),
]


def bindings() -> list[Binding]:
    """App bindings; priority, so they work while typing in an input or the editor."""
    return [
        Binding(k.keys, k.action, k.label, show=k.footer, priority=True, tooltip=k.description)
        for k in KEYS
    ]


def help_rows() -> list[tuple[str, str]]:
    """``(keys, description)`` rows for the help screen."""
    return [(k.keys, k.description) for k in KEYS] + _OTHER_KEYS
