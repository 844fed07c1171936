"""The payload: the message as JSON in an editable, highlighted ``TextArea``, checked on every
change with ``sdk.parse_message``, and the Send button.

The form rebuilds the text until the user edits it by hand; after that the edits are kept and a
banner offers to rebuild from the form (ctrl+g).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static, TextArea

from tester_tui.widgets.json_area import JsonTextArea

__all__ = ["PayloadEditor", "validate_payload"]


def validate_payload(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(message as a dict, None)`` when ``text`` is a valid Segment message, else
    ``(None, one-line error naming the field and the rule)``."""
    import json

    from sdk import InputError, parse_message
    from sdk.engage import membership_of

    try:
        message = parse_message(text)
    except InputError as exc:
        return None, exc.message
    # The add-only rule the runtime applies before any request (ListRemovalRefused): refused
    # here, so the verdict and Send agree with the outcome.
    membership = membership_of(message)
    if membership is not None and membership.is_journey and not membership.member:
        return None, (
            f"{membership.key} is a journey step: journeys are add-only, so an exit or a "
            "removal is never sent"
        )
    # Valid: send the document as written (unknown keys and all); the runtime parses it again.
    return json.loads(text), None


class PayloadEditor(Vertical):
    """The JSON of the event to send, with its verdict and the Send button."""

    DEFAULT_CSS = """
    PayloadEditor {
        height: 1fr;
        #payload-banner { display: none; background: $warning 20%; color: $text; padding: 0 1; }
        #payload-banner.-shown { display: block; }
        #payload { height: 1fr; border: none; }
        #payload-status { height: auto; padding: 0 1; color: $success; }
        #payload-status.-error { color: $error; }
        #send-row { height: auto; padding: 0 1; }
        #send { margin-right: 1; }
        #send-reason { color: $text-muted; width: 1fr; height: auto; }
        #retry-policy { color: $text-muted; height: auto; padding: 0 1; }
    }
    """

    class Validated(Message):
        """The payload was checked: ``event`` when valid, else ``error``."""

        def __init__(self, event: dict[str, Any] | None, error: str | None) -> None:
            super().__init__()
            self.event = event
            self.error = error

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._generated = ""
        self._pending: str | None = None
        self.event: dict[str, Any] | None = None
        self.error: str | None = "no payload yet"
        self._send_state: tuple[bool, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            "Edited by hand: form changes are kept out. ctrl+g rebuilds from the form.",
            id="payload-banner",
        )
        yield JsonTextArea("", id="payload")
        yield Static(id="payload-status")
        with Horizontal(id="send-row"):
            yield Button("Send  ^s", id="send", variant="primary", compact=True)
            yield Static(id="send-reason")
        yield Static(id="retry-policy")

    @property
    def text(self) -> str:
        return self.query_one("#payload", TextArea).text

    @property
    def dirty(self) -> bool:
        """True when the text differs from what the form last generated."""
        return self.text != self._generated

    def set_generated(self, text: str, *, force: bool = False) -> None:
        """The form's payload; replaces the text unless it was edited by hand."""
        if self.dirty and not force and self._generated:
            self._pending = text
            self.query_one("#payload-banner").add_class("-shown")
            return
        self._generated = text
        self._pending = None
        self.query_one("#payload-banner").remove_class("-shown")
        area = self.query_one("#payload", TextArea)
        if area.text != text:
            area.load_text(text)
        else:
            self._validate()

    def rebuild(self) -> bool:
        """Replace hand edits with the form's latest payload; False if there was none."""
        if self._pending is None and not self.dirty:
            return False
        self.set_generated(
            self._pending if self._pending is not None else self._generated, force=True
        )
        return True

    def set_retry_text(self, text: str) -> None:
        """Say how hard a send tries (the retry policy in force)."""
        self.query_one("#retry-policy", Static).update(text)

    def set_form_error(self, error: str) -> None:
        """The form cannot build an event (``error``): the verdict says so, not "valid"."""
        self.event, self.error = None, f"form: {error}"
        status = self.query_one("#payload-status", Static)
        status.update(Text(f"✗ {self.error} (fix the form, or edit the payload by hand)"))
        status.add_class("-error")
        self.post_message(self.Validated(None, self.error))

    def set_send_state(self, enabled: bool, reason: str) -> None:
        """Enable or refuse Send, saying why (nothing is redrawn when nothing changed)."""
        if self._send_state == (enabled, reason):
            return
        self._send_state = (enabled, reason)
        self.query_one("#send", Button).disabled = not enabled
        self.query_one("#send-reason", Static).update(reason)

    def _validate(self) -> None:
        text = self.text
        if not text.strip():
            self.event, self.error = None, "message: is empty"
        else:
            self.event, self.error = validate_payload(text)
        status = self.query_one("#payload-status", Static)
        if self.error is None:
            kind = self.event.get("type", "?") if self.event else "?"
            status.update(Text(f"✓ valid {kind} message · {len(text.encode())} bytes"))
        else:
            status.update(Text(f"✗ {self.error}"))
        status.set_class(self.error is not None, "-error")
        if not self.dirty:
            self.query_one("#payload-banner").remove_class("-shown")
        self.post_message(self.Validated(self.event, self.error))

    @on(TextArea.Changed, "#payload")
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._validate()
