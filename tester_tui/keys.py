"""The tester's keys: one table drives the bindings, the Footer, the help screen and the
command palette, so they cannot disagree."""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding

__all__ = [
    "JOURNEY_KEYS",
    "KEYS",
    "Key",
    "bindings",
    "help_rows",
    "journey_bindings",
    "journey_help_rows",
]


class Key(NamedTuple):
    """One app-wide key: ``action`` is a Textual action string."""

    keys: str
    action: str
    label: str  # short, for the Footer
    description: str  # for the help screen and the command palette
    footer: bool = True


# f1 comes first: a footer cut from the right on a narrow terminal still shows it.
KEYS: list[Key] = [
    Key("f1", "help", "Help", "Show the keys and how the tester works"),
    Key("ctrl+s", "send", "Send", "Send the payload to the destination"),
    Key("ctrl+r", "new_user_id", "User", "Generate a new test user id", False),
    Key("ctrl+t", "check_credentials", "Creds", "Check credentials (test_authentication)"),
    Key("ctrl+e", "save_lifecycle", "Save", "Save the shown lifecycle as JSON"),
    Key("ctrl+y", "copy_curl", "Curl", "Copy the request as curl (secrets masked)"),
    Key("ctrl+o", "history", "History", "Session history: reopen a send", False),
    Key("ctrl+b", "toggle_route", "Route", "Route to this destination on/off", False),
    Key("ctrl+g", "rebuild_payload", "Rebuild", "Rebuild the payload from the form", False),
    Key("ctrl+n", "journey", "Journey", "Journey mode (journey file preview)", False),
    Key("f2", "show_pane('setup')", "Setup", "Show the setup pane", False),
    Key("f3", "show_pane('payload')", "Payload", "Show the payload pane", False),
    Key("f4", "show_pane('lifecycle')", "Lifecycle", "Show the lifecycle pane", False),
    Key("f9", "jump", "Jump", "Jump mode: a letter per pane, press one to move there"),
]

# Keys that are not the app's own bindings but worth knowing.
_OTHER_KEYS = [
    ("ctrl+p", "Command palette: every action by name (also curl with secrets unmasked)"),
    ("tab / shift+tab", "Move between fields; type in a menu to search it"),
    ("ctrl+q", "Quit"),
]


# Journey mode (``destkit tester --journey-file FILE``, or ctrl+n in the tester). While it is
# open, the tester's own keys above are switched off (``DestkitTester.check_action``) and these
# take over; f1 and the command palette stay.
JOURNEY_KEYS: list[Key] = [
    Key("f1", "app.help", "Help", "Show the keys of journey mode"),
    Key("escape", "back", "Back", "Back to the event tester"),
    Key("f5", "preview", "Preview", "Preview the user's path through the journey (no sending)"),
    Key(
        "ctrl+s",
        "send('step')",
        "Send step",
        "With a step focused: send only that step's events to its destinations",
    ),
    Key(
        "ctrl+s",
        "send('journey')",
        "Send all",
        "With no step focused: send every event of the preview to its destinations",
    ),
    Key("f7", "send_journey", "Send all", "With a step focused: send the whole journey"),
    Key("ctrl+r", "generated_user", "New user", "Use a generated minimal user with a new id"),
    Key("ctrl+n", "open_file", "Open", "Open another journey file (edit the path, enter)"),
    Key("ctrl+t", "check_credentials", "Creds", "Check the shown destination's credentials", False),
    Key("ctrl+y", "copy_text", "Copy", "Copy the preview as the CLI prints it", False),
    Key("f2", "show_pane('setup')", "Setup", "Show the file, user and journey tree", False),
    Key("f3", "show_pane('path')", "Path", "Show the user's path", False),
    Key("f4", "show_pane('payloads')", "Payloads", "Show the payloads per destination", False),
    Key("f6", "show_pane('send')", "Send pane", "Show the settings and the deliveries", False),
    Key("f9", "jump", "Jump", "Jump mode: a letter per pane, press one to move there"),
]

_JOURNEY_OTHER_KEYS = [
    ("enter (tree)", "On a journey: preview it; on a step: focus it (enter again: unfocus)"),
    ("ctrl+p", "Command palette: every journey-mode action by name"),
    ("tab / shift+tab", "Move between fields and panes"),
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


def journey_bindings() -> list[Binding]:
    """Journey screen bindings; priority (except escape, which a menu or input may need)."""
    return [
        Binding(
            k.keys,
            k.action,
            k.label,
            show=k.footer,
            priority=k.keys != "escape",
            tooltip=k.description,
        )
        for k in JOURNEY_KEYS
    ]


def journey_help_rows() -> list[tuple[str, str]]:
    """``(keys, description)`` rows for the help screen opened in journey mode."""
    return [(k.keys, k.description) for k in JOURNEY_KEYS] + _JOURNEY_OTHER_KEYS
