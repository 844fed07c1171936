"""Ingest checks the 32 KB limit on the stored body (the stamped document as orjson writes it)
and checks exactly only within ``_WIRE_ROOM`` of the limit. That is sound only if what a
worker sends (the SDK's model of that body, written by pydantic) is never longer than the body
by more than ``_WIRE_ROOM``: held here for any message JSON can carry."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk._errors import InvalidEvent
from sdk.service._ingest import _WIRE_ROOM
from sdk.spec import message_to_json
from sdk.spec._messages import validate_message

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
#: Every form a datetime is accepted in, the shortest first: unix seconds, dates, ISO text.
_WHEN = st.one_of(
    st.integers(min_value=0, max_value=4_000_000_000),
    st.floats(min_value=0, max_value=4e9, allow_nan=False),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.just("2026-01-01T00:00:00Z"),
)
_TYPES = {
    "track": {"event": "E"},
    "identify": {},
    "page": {},
    "screen": {},
    "group": {"groupId": "g"},
    "alias": {"previousId": "p"},
}


@st.composite
def _messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(_TYPES)))
    message: dict[str, Any] = {"type": kind, "userId": "u", **_TYPES[kind]}
    for field in ("timestamp", "sentAt", "receivedAt", "originalTimestamp"):
        if draw(st.booleans()):
            message[field] = draw(_WHEN)
    for field in ("anonymousId", "name", "category", "messageId"):
        if draw(st.booleans()):
            message[field] = draw(st.none() | st.text(min_size=1, max_size=10))
    for field in ("properties", "traits", "context"):
        if draw(st.booleans()):
            message[field] = draw(st.dictionaries(st.text(max_size=8), _JSON, max_size=5))
    message.update(draw(st.dictionaries(st.text(min_size=1, max_size=8), _JSON, max_size=3)))
    return message


@settings(max_examples=400, deadline=None)
@given(_messages())
def test_what_a_worker_sends_is_within_the_room_of_the_stored_body(message: dict[str, Any]):
    item = orjson.loads(orjson.dumps(message))  # as ingest has it: parsed strictly
    try:
        model = validate_message(item)
    except InvalidEvent:
        return
    body = orjson.dumps(item)
    assert len(message_to_json(model)) <= len(body) + _WIRE_ROOM
