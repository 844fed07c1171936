"""The delivery hot path's validate + serialise step against the code it replaced.

``parse_message_json`` and ``message_to_json`` look for NaN, Infinity and U+FFFD with cheaper
scans than a plain search; the wire bytes, and every refusal (its class, field and rule), must
be exactly what the plain versions (kept below, as they were) give, for every input."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from sdk._errors import InputError, InvalidEvent, PayloadTooLarge
from sdk.spec._messages import (
    _REPLACEMENT,
    _VALIDATE,
    MAX_MESSAGE_BYTES,
    _refuse_unwritable,
    _refuse_unwritable_input,
    invalid_event_from,
    message_to_json,
    parse_message_json,
)

# -- the plain versions, as they were before the fast scans ----------------------------------


def reference_message_to_json(message: Any) -> bytes:
    try:
        raw: bytes = type(message).__pydantic_serializer__.to_json(message)
    except PydanticSerializationError:
        _refuse_unwritable(message)
        raise InvalidEvent("message", "holds a value that cannot be written as JSON") from None
    if b"NaN" in raw or b"Infinity" in raw:
        _refuse_unwritable(message)
    if len(raw) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            "message", f"is {len(raw)} bytes; Segment's limit is {MAX_MESSAGE_BYTES} bytes"
        )
    return raw


def reference_parse_message_json(data: Mapping[str, Any]) -> tuple[Any, bytes]:
    try:
        message = _VALIDATE(data)
    except ValidationError as exc:
        raise invalid_event_from(exc) from None
    raw = reference_message_to_json(message)
    if _REPLACEMENT in raw:
        _refuse_unwritable_input(data)
    return message, raw


def outcome(call: Any, *args: Any) -> tuple[str, Any]:
    """What a call gave: its wire bytes, or its refusal as class, field and rule."""
    try:
        result = call(*args)
    except InputError as exc:
        return "refused", (type(exc).__name__, str(exc))
    return "wire", result[1] if isinstance(result, tuple) else result


# -- messages --------------------------------------------------------------------------------

_characters = st.characters(codec=None, exclude_categories=())  # surrogates and controls too
#: Text that often holds what the scans look for: the words, their first letters, U+FFFD.
_tricky = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "N", "I", "Na", "Infinit", "\ufffd", "é", "\ud800", "nan"]
)
_text = st.one_of(
    st.text(_characters, max_size=12),
    st.lists(st.one_of(_tricky, st.text(max_size=3)), max_size=4).map("".join),
)
_numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True))
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=12,
)
_objects = st.dictionaries(_text, _values, max_size=4)


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]))
    # messageId and timestamp given: absent ones are drawn afresh by each call
    message: dict[str, Any] = {
        "type": kind,
        "messageId": draw(st.one_of(_text, st.just("m-1"))),
        "timestamp": draw(st.sampled_from(["2026-12-07T07:02:48.047957Z", "2026-01-01"])),
    }
    if draw(st.booleans()):
        message["userId"] = draw(_text)
    if draw(st.booleans()):
        message["anonymousId"] = draw(_text)
    field = "properties" if kind in ("track", "page", "screen") else "traits"
    message[field] = draw(_objects)
    if kind == "track":
        message["event"] = draw(_text)
    if kind == "group":
        message["groupId"] = draw(_text)
    if kind == "alias":
        message["previousId"] = draw(_text)
    if draw(st.booleans()):
        message["context"] = draw(_objects)
    if draw(st.booleans()):
        message["integrations"] = draw(st.dictionaries(_text, st.booleans(), max_size=2))
    message.update(draw(st.dictionaries(_text, _values, max_size=2)))  # unknown fields
    return message


SLOW = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(messages())
@example({"type": "track", "event": "E", "userId": "u", "properties": {"a": math.nan}})
@example({"type": "track", "event": "E", "userId": "u", "properties": {"a": -math.inf}})
@example({"type": "track", "event": "E", "userId": "u", "properties": {"a": "NaN Infinity"}})
@example({"type": "track", "event": "E", "userId": "u", "properties": {"\ud800": 1}})
@example({"type": "track", "event": "E", "userId": "u", "properties": {"a": "\ufffd"}})
@example({"type": "track", "event": "E", "userId": "u", "properties": {"a": "x" * 40000}})
@example({"type": "track", "event": "E", "userId": "u\ud800"})
def test_parse_message_json_gives_what_the_plain_version_gave(message: dict[str, Any]) -> None:
    fixed = {"messageId": "m-1", "timestamp": "2026-12-07T07:02:48Z", **message}
    fast = outcome(parse_message_json, fixed)
    assert fast == outcome(reference_parse_message_json, fixed)
    if fast[0] == "wire":  # and message_to_json of the validated message, on its own
        validated = _VALIDATE(fixed)
        assert outcome(message_to_json, validated) == outcome(reference_message_to_json, validated)


@pytest.mark.parametrize(
    "properties",
    [
        {"a": 1.5},
        {"a": math.nan},
        {"a": [1, math.inf]},
        {"a": -math.inf},
        {"Name": "Infinity and NaN in text"},
        {"N": "I"},
        {"a": "\ufffd"},
        {"\ufffd": "key"},
        {"a": "\ud800"},
        {"\udc00": 1},
        {"a": "é" * 20000},
    ],
)
def test_a_table_of_inputs_the_scans_must_tell_apart(properties: dict[str, Any]) -> None:
    message = {"type": "track", "event": "E", "userId": "u", "properties": properties}
    message.update(messageId="m", timestamp="2026-12-07T07:02:48Z")
    assert outcome(parse_message_json, message) == outcome(reference_parse_message_json, message)
