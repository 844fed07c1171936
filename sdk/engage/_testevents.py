"""Test events, as the Engage event tester makes them: choose an event type, a test user id is
generated, and the event is built for the chosen destination.

The CLI's ``destkit send`` and the TUI share this module, so both send the same events.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from sdk._errors import InvalidEvent
from sdk.engage._spaces import Space
from sdk.spec._messages import Alias, Group, Identify, Page, Screen, Track

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_SPACE_ID",
    "TestEventSpec",
    "TestEventType",
    "build_test_event",
    "new_test_user_id",
]

DEFAULT_SPACE_ID = "spa_destkit_test"
DEFAULT_AUDIENCE = "Test Audience"


class TestEventType(StrEnum):
    """The event types the tester offers."""

    __test__ = False  # not a pytest test class

    AUDIENCE_ENTERED = "audience-entered"
    IDENTIFY = "identify"
    AUDIENCE_EXITED = "audience-exited"
    LIST_ADD = "list-add"
    LIST_REMOVE = "list-remove"
    JOURNEY_ENTRY = "journey-entry"
    TRACK = "track"
    PAGE = "page"
    SCREEN = "screen"
    GROUP = "group"
    ALIAS = "alias"

    @property
    def label(self) -> str:
        """How the tester's menu shows it."""
        return _LABELS[self]


_LABELS = {
    TestEventType.AUDIENCE_ENTERED: 'track "Audience Entered"',
    TestEventType.IDENTIFY: "identify (trait = key)",
    TestEventType.AUDIENCE_EXITED: 'track "Audience Exited"',
    TestEventType.LIST_ADD: "list add",
    TestEventType.LIST_REMOVE: "list remove",
    TestEventType.JOURNEY_ENTRY: "journey entry",
    TestEventType.TRACK: "track (plain)",
    TestEventType.PAGE: "page",
    TestEventType.SCREEN: "screen",
    TestEventType.GROUP: "group",
    TestEventType.ALIAS: "alias",
}


def new_test_user_id() -> str:
    """A fresh test user id, ``test-user-<8 hex>``."""
    return f"test-user-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class TestEventSpec:
    """What the tester's form holds."""

    __test__ = False

    event_type: TestEventType
    user_id: str
    destination: str | None = None
    journey: str | None = None
    step: str | None = None
    audience: str | None = None
    space_id: str = DEFAULT_SPACE_ID


def _profile(user_id: str) -> dict[str, Any]:
    return {"email": f"{user_id}@example.com", "first_name": "Test", "last_name": "User"}


def build_test_event(spec: TestEventSpec) -> Track | Identify | Page | Screen | Group | Alias:
    """Build the event for ``spec``; ``InvalidEvent`` names the missing or bad field."""
    kind = spec.event_type
    user = spec.user_id
    if not user:
        raise InvalidEvent("user_id", "is required")
    destinations = [spec.destination] if spec.destination else None
    integrations = {"All": False, spec.destination: True} if spec.destination else {}
    context: dict[str, Any] = {"traits": _profile(user), "library": {"name": "destkit-tester"}}
    if kind in (
        TestEventType.TRACK,
        TestEventType.PAGE,
        TestEventType.SCREEN,
        TestEventType.GROUP,
        TestEventType.ALIAS,
    ):
        common: dict[str, Any] = {"user_id": user, "context": context, "integrations": integrations}
        if kind is TestEventType.TRACK:
            return Track(event="Test Event Sent", properties={"source": "destkit"}, **common)
        if kind is TestEventType.PAGE:
            return Page(name="Test Page", properties={"url": "https://example.com/"}, **common)
        if kind is TestEventType.SCREEN:
            return Screen(name="Test Screen", **common)
        if kind is TestEventType.GROUP:
            return Group(group_id="test-group", traits={"name": "Test Co"}, **common)
        return Alias(previous_id=f"anon-{user}", **common)

    space = Space(spec.space_id)
    journey_given = bool(spec.journey or spec.step)
    if kind is TestEventType.JOURNEY_ENTRY and not journey_given:
        raise InvalidEvent("journey", "a journey entry needs --journey and --step")
    if journey_given and not (spec.journey and spec.step):
        raise InvalidEvent("step" if spec.journey else "journey", "journey and step go together")
    call: Literal["track", "identify"] = "identify" if kind is TestEventType.IDENTIFY else "track"
    extra = _profile(user)
    if journey_given and spec.journey and spec.step:
        if kind in (TestEventType.AUDIENCE_EXITED, TestEventType.LIST_REMOVE):
            # Built on purpose so the SDK's add-only rule can be seen refusing it.
            step = space.step(spec.journey, spec.step, destinations=destinations or ())
            event = step.event(call, user_id=user, extra=extra)
            assert isinstance(event, Track)
            properties = {**event.properties, step.key: False}
            return event.model_copy(update={"event": "Audience Exited", "properties": properties})
        step = space.step(spec.journey, spec.step, destinations=destinations or ())
        return step.event(call, user_id=user, extra=extra)
    audience = space.audience(spec.audience or DEFAULT_AUDIENCE, destinations=destinations or ())
    entered = kind not in (TestEventType.AUDIENCE_EXITED, TestEventType.LIST_REMOVE)
    return audience.event(call, user_id=user, entered=entered, extra=extra)
