"""What to send: the event type, the test user id, the journey/step/space or audience, and
whether the integrations object routes the event to the chosen destination.

The step key is shown live (``sdk.Space(space).step(journey, step).key``) as the user types.
Every change goes up as :class:`EventForm.Changed`; the app builds the event from :meth:`spec`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Checkbox, Input, Select, Static

from tester_tui.widgets.field_row import FieldRow

if TYPE_CHECKING:
    from sdk.engage import TestEventSpec

__all__ = ["EventForm"]

DEFAULT_JOURNEY = "First Purchase"
DEFAULT_STEP = "Opened Email"
_PLAIN_TYPES = {"track", "page", "screen", "group", "alias"}
_REMOVALS = {"audience-exited", "list-remove"}


class EventForm(Vertical):
    """The event tester's "Event type" section."""

    DEFAULT_CSS = """
    EventForm {
        height: auto;
        #membership { height: auto; }
        #membership.-hidden { display: none; }
        #step-key { color: $text-accent; height: auto; }
        #step-key.-error { color: $error; }
        #route { margin-top: 1; }
        #type-error { color: $error; height: auto; }
        #type-error.-hidden { display: none; }
    }
    """

    class Changed(Message):
        """Something in the form changed; read it with :meth:`EventForm.spec`."""

    def __init__(
        self,
        types: list[tuple[str, str]],
        value: str,
        *,
        space: str = "",
        user_id: str = "",
        **kwargs: Any,
    ) -> None:
        """``types`` are the event-type menu's ``(label, value)`` pairs, ``value`` the one
        chosen first, ``space`` the Engage space id shown until the user types another.

        The app mounts the form once ``sdk`` is loaded, so the menu starts with its options
        and has no blank (choosable) "Loading…" entry."""
        super().__init__(**kwargs)
        self._user_id = user_id
        self._types = list(types)
        self._value = value
        self._space = space
        self.key_error: str | None = None
        #: Why the chosen event type cannot be sent with this journey/step (add-only), or None.
        self.type_error: str | None = None

    def compose(self) -> ComposeResult:
        yield FieldRow(
            "Type",
            Select[str](
                self._types, value=self._value, id="event-type", allow_blank=False, compact=True
            ),
            tooltip="The test event to build (Segment's event tester menu)",
        )
        yield Static(id="type-error", classes="-hidden")
        yield FieldRow(
            "User id",
            Input(self._user_id, id="user-id", placeholder="test-user-…", compact=True),
            tooltip="The test user id (ctrl+r generates a new one)",
        )
        with Vertical(id="membership"):
            yield FieldRow(
                "Journey",
                Input(DEFAULT_JOURNEY, id="journey", placeholder="journey name", compact=True),
                tooltip="The journey's name (with Step); clear both to use an audience",
            )
            yield FieldRow(
                "Step",
                Input(DEFAULT_STEP, id="step", placeholder="step name", compact=True),
                tooltip="The Send to destinations step's name",
            )
            yield FieldRow(
                "Space",
                Input(self._space, id="space", placeholder="spa_…", compact=True),
                tooltip="The Engage space id (spa_...)",
            )
            yield FieldRow(
                "Audience",
                Input("", id="audience", placeholder="Test Audience", compact=True),
                tooltip="An audience instead of a journey step (clear Journey and Step)",
            )
            yield FieldRow("Key", Static(id="step-key"), tooltip="The computation key, live")
        yield Checkbox("Route to destination", True, id="route", compact=True)

    def on_mount(self) -> None:
        self._refresh()

    def set_event_types(self, types: list[tuple[str, str]], value: str, space: str) -> None:
        """Replace the event-type menu's ``(label, value)`` pairs (at least one)."""
        self._types = types
        select = self.query_one("#event-type", Select)
        select.set_options(types)
        select.value = value
        space_input = self.query_one("#space", Input)
        if not space_input.value:
            space_input.value = space
        self._refresh()

    def set_destination_name(self, name: str) -> None:
        """Name the destination the route switch talks about."""
        self.query_one("#route", Checkbox).label = f'Route to "{name}" (integrations)'

    @property
    def event_type(self) -> str | None:
        value = self.query_one("#event-type", Select).value
        return None if value is Select.NULL else str(value)

    @property
    def user_id(self) -> str:
        return self.query_one("#user-id", Input).value.strip()

    @user_id.setter
    def user_id(self, value: str) -> None:
        self.query_one("#user-id", Input).value = value

    @property
    def route(self) -> bool:
        return self.query_one("#route", Checkbox).value

    @route.setter
    def route(self, value: bool) -> None:
        self.query_one("#route", Checkbox).value = value

    def _text(self, widget_id: str) -> str | None:
        value = self.query_one(f"#{widget_id}", Input).value.strip()
        return value or None

    def spec(self, destination_name: str | None) -> TestEventSpec:
        """The ``sdk`` test-event spec the form describes."""
        from sdk.engage import DEFAULT_SPACE_ID, TestEventSpec, TestEventType

        kind = TestEventType(self.event_type or TestEventType.AUDIENCE_ENTERED.value)
        membership = kind.value not in _PLAIN_TYPES
        return TestEventSpec(
            event_type=kind,
            user_id=self.user_id,
            destination=destination_name,
            journey=self._text("journey") if membership else None,
            step=self._text("step") if membership else None,
            audience=self._text("audience") if membership else None,
            space_id=self._text("space") or DEFAULT_SPACE_ID,
        )

    def _refresh(self) -> None:
        kind = self.event_type
        membership = kind is not None and kind not in _PLAIN_TYPES
        self.query_one("#membership").set_class(not membership, "-hidden")
        key = self.query_one("#step-key", Static)
        self.key_error = None
        self._check_type(kind, membership)
        if not membership:
            key.update("")
            return
        from sdk import InvalidJourney, Space, audience_key
        from sdk.engage import DEFAULT_AUDIENCE, DEFAULT_SPACE_ID

        journey, step = self._text("journey"), self._text("step")
        audience = self._text("audience")
        try:
            space = Space(self._text("space") or DEFAULT_SPACE_ID)
            if journey or step:
                if not (journey and step):
                    raise InvalidJourney(
                        "step" if journey else "journey", "journey and step go together"
                    )
                text = space.step(journey, step).key
            else:
                name = audience or DEFAULT_AUDIENCE
                text = f"{audience_key(name)} (audience)"
        except InvalidJourney as exc:
            self.key_error = exc.message
            text = f"✗ {exc.message}"
        key.update(text)
        key.set_class(self.key_error is not None, "-error")

    def _check_type(self, kind: str | None, membership: bool) -> None:
        """A journey step is add-only: an exit or a removal aimed at one is refused here,
        beside the Type menu, before Send (the runtime would refuse it as ListRemovalRefused)."""
        removal = kind in _REMOVALS
        journey_given = bool(self._text("journey") or self._text("step"))
        self.type_error = (
            "journeys are add-only: a journey step never sends an exit or a removal "
            "(clear Journey and Step to use an audience, or choose an entry)"
            if membership and removal and journey_given
            else None
        )
        error = self.query_one("#type-error", Static)
        error.update(Text(f"✗ {self.type_error}" if self.type_error else ""))
        error.set_class(self.type_error is None, "-hidden")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        if not self._types:
            return
        self._refresh()
        self.post_message(self.Changed())
