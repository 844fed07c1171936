"""Segment message models: the discriminated union, wire names, unknown fields, the validation
rules with their one-line errors, the 32 KB limit, and single-message and batch parsing."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from sdk import (
    MAX_MESSAGE_BYTES,
    Alias,
    Group,
    Identify,
    InvalidEvent,
    Message,
    Page,
    PayloadTooLarge,
    Screen,
    Track,
    message_to_json,
    parse_batch,
    parse_message,
)

VALID: dict[str, tuple[dict[str, Any], type]] = {
    "track": ({"type": "track", "userId": "u1", "event": "Order Completed"}, Track),
    "identify": ({"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}, Identify),
    "page": ({"type": "page", "anonymousId": "a1", "name": "Home"}, Page),
    "screen": ({"type": "screen", "anonymousId": "a1", "name": "Cart"}, Screen),
    "group": ({"type": "group", "userId": "u1", "groupId": "g1"}, Group),
    "alias": ({"type": "alias", "userId": "u1", "previousId": "anon-1"}, Alias),
}


def assert_one_line(error: Exception, field: str, rule: str) -> None:
    """``<field>: <rule>`` on one line, with no trace of a pydantic error dump."""
    text = str(error)
    assert "\n" not in text, text
    assert text.startswith(f"{field}: "), text
    assert rule in text, text
    for dump_marker in (
        "validation error",
        "pydantic",
        "errors.pydantic.dev",
        "input_value",
        "[type=",
    ):
        assert dump_marker not in text, text
    assert getattr(error, "field", None) == field


# ---------------------------------------------------------------- the union


@pytest.mark.parametrize("kind", list(VALID))
def test_each_type_parses_to_its_own_model(kind: str) -> None:
    document, model = VALID[kind]
    message = parse_message(document)
    assert type(message) is model
    assert message.type == kind


@pytest.mark.parametrize("kind", list(VALID))
def test_the_message_union_discriminates_on_type(kind: str) -> None:
    document, model = VALID[kind]
    adapter: TypeAdapter[Any] = TypeAdapter(Message)
    assert type(adapter.validate_python(document)) is model


def test_the_type_decides_the_model_not_the_fields() -> None:
    # A page with an ``event`` field stays a page; the extra field is kept as unknown.
    message = parse_message({"type": "page", "userId": "u1", "event": "Looks like a track"})
    assert isinstance(message, Page)
    assert message.to_wire()["event"] == "Looks like a track"


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ({"userId": "u1", "event": "x"}, "is required (one of track, identify, page"),
        ({"type": "purchase", "userId": "u1"}, "must be one of track, identify, page"),
        ({"type": "Track", "userId": "u1", "event": "x"}, "must be one of"),
    ],
    ids=["missing", "unknown", "wrong-case"],
)
def test_a_missing_or_unknown_type_is_one_line(document: dict[str, Any], rule: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message(document)
    assert_one_line(caught.value, "type", rule)
    assert "purchase" not in str(caught.value)  # never echo the offending value


# ---------------------------------------------------------------- wire names


def test_wire_names_are_camel_case_and_attributes_snake_case() -> None:
    message = parse_message(
        {
            "type": "group",
            "userId": "u1",
            "anonymousId": "a1",
            "messageId": "m-1",
            "groupId": "g1",
            "sentAt": "2024-05-01T10:00:00Z",
            "receivedAt": "2024-05-01T10:00:01Z",
            "originalTimestamp": "2024-05-01T09:59:59Z",
        }
    )
    assert isinstance(message, Group)
    assert message.user_id == "u1"
    assert message.anonymous_id == "a1"
    assert message.message_id == "m-1"
    assert message.group_id == "g1"
    assert message.sent_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert message.received_at == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
    wire = message.to_wire()
    for camel in ("userId", "anonymousId", "messageId", "groupId", "sentAt", "receivedAt"):
        assert camel in wire
    for snake in ("user_id", "anonymous_id", "message_id", "group_id", "sent_at", "received_at"):
        assert snake not in wire


def test_alias_previous_id_is_camel_case_on_the_wire() -> None:
    message = parse_message(VALID["alias"][0])
    assert isinstance(message, Alias)
    assert message.previous_id == "anon-1"
    assert message.to_wire()["previousId"] == "anon-1"
    assert "previous_id" not in message.to_wire()


def test_models_can_be_built_by_python_name_and_serialize_by_wire_name() -> None:
    message = Track(user_id="u1", event="Clicked", message_id="m-2")
    wire = json.loads(message_to_json(message))
    assert wire["userId"] == "u1"
    assert wire["messageId"] == "m-2"
    assert "user_id" not in wire


def test_absent_optional_fields_are_left_out_of_the_wire_form() -> None:
    wire = parse_message(VALID["track"][0]).to_wire()
    for absent in ("anonymousId", "sentAt", "receivedAt", "originalTimestamp"):
        assert absent not in wire


# ---------------------------------------------------------------- unknown fields


UNKNOWN = {
    "type": "track",
    "userId": "u1",
    "event": "Order Completed",
    "messageId": "m-3",
    "timestamp": "2024-05-01T10:00:00Z",
    "version": 2,
    "channel": "server",
    "writeKey": "not-snake_cased",
    "someCamelField": {"nested": [1, "two", None, {"deep": True}], "ünïcode": "✓"},
    "properties": {"revenue": 9.5, "items": [{"sku": "A-1"}]},
    "context": {"ip": "203.0.113.1", "library": {"name": "analytics-python"}},
}


def test_unknown_fields_are_kept_verbatim() -> None:
    message = parse_message(UNKNOWN)
    wire = message.to_wire()
    for name in ("version", "channel", "writeKey", "someCamelField"):
        assert wire[name] == UNKNOWN[name]
    assert "some_camel_field" not in wire
    assert "write_key" not in wire
    assert message.model_extra == {
        "version": 2,
        "channel": "server",
        "writeKey": "not-snake_cased",
        "someCamelField": UNKNOWN["someCamelField"],
    }


def test_a_message_round_trips_unchanged() -> None:
    wire = parse_message(UNKNOWN).to_wire()
    assert wire == {**UNKNOWN, "integrations": {}}  # the one default Segment also adds
    raw = message_to_json(parse_message(UNKNOWN))
    again = parse_message(raw)
    assert again.to_wire() == wire
    assert message_to_json(again) == raw


UNKNOWN_NULLS = {
    "type": "identify",
    "userId": "u1",
    "messageId": "m-4",
    "timestamp": "2024-05-01T10:00:00Z",
    "context": {"ip": None},
    "integrations": {"Braze": None},
    "traits": {"plan": None},
    "someNull": None,
    "nested": {"inner": None, "list": [None]},
}


def test_unknown_fields_set_to_null_round_trip() -> None:
    message = parse_message(UNKNOWN_NULLS)
    assert message.model_extra == {"someNull": None, "nested": {"inner": None, "list": [None]}}
    assert message.to_wire() == UNKNOWN_NULLS
    raw = message_to_json(message)
    assert json.loads(raw) == UNKNOWN_NULLS
    assert message_to_json(parse_message(raw)) == raw


def test_known_optional_fields_that_are_null_are_left_out() -> None:
    document = {**UNKNOWN_NULLS, "anonymousId": None, "sentAt": None, "receivedAt": None}
    wire = json.loads(message_to_json(parse_message(document)))
    assert wire == UNKNOWN_NULLS
    page = parse_message({"type": "page", "userId": "u1", "name": None, "category": None})
    assert "name" not in page.to_wire() and "category" not in page.to_wire()


def test_a_value_json_cannot_carry_is_one_line() -> None:
    message = Track(user_id="u1", event="e", properties={"handle": object()})
    with pytest.raises(InvalidEvent) as caught:
        message_to_json(message)
    assert_one_line(caught.value, "message", "cannot be written as JSON")


# ---------------------------------------------------------------- validation rules


RULES = [
    pytest.param(
        {"type": "track", "event": "x"},
        "userId",
        "one of userId or anonymousId is required",
        id="no-identity",
    ),
    pytest.param(
        {"type": "identify", "userId": "", "anonymousId": ""},
        "userId",
        "one of userId or anonymousId is required",
        id="empty-identity",
    ),
    pytest.param(
        {"type": "alias", "anonymousId": "a1", "previousId": "p1"},
        "userId",
        "alias needs userId",
        id="alias-without-user-id",
    ),
    pytest.param(
        {"type": "alias", "userId": "u1"},
        "previousId",
        "is required",
        id="alias-without-previous-id",
    ),
    pytest.param(
        {"type": "group", "userId": "u1"},
        "groupId",
        "is required",
        id="group-without-group-id",
    ),
    pytest.param(
        {"type": "group", "userId": "u1", "groupId": ""},
        "groupId",
        "must not be empty",
        id="group-with-empty-group-id",
    ),
    pytest.param(
        {"type": "track", "userId": "u1"},
        "event",
        "is required",
        id="track-without-event",
    ),
    pytest.param(
        {"type": "track", "userId": "u1", "event": ""},
        "event",
        "must not be empty",
        id="track-with-empty-event",
    ),
    pytest.param(
        {"type": "identify", "userId": "u1", "timestamp": "secret-value-42"},
        "timestamp",
        "datetime",
        id="bad-timestamp",
    ),
    pytest.param(
        {"type": "identify", "userId": "u1", "traits": ["secret-value-42"]},
        "traits",
        "dictionary",
        id="traits-not-an-object",
    ),
]


@pytest.mark.parametrize(("document", "field", "rule"), RULES)
def test_each_rule_is_refused_in_one_line_naming_field_and_rule(
    document: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message(document)
    assert_one_line(caught.value, field, rule)
    assert "secret-value-42" not in str(caught.value)  # values may be personal data


def test_several_problems_are_summarised_on_the_same_line() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message({"type": "alias", "anonymousId": "a1", "timestamp": "nope"})
    text = str(caught.value)
    assert "\n" not in text
    assert "more problem" in text


@pytest.mark.parametrize("identity", [{"userId": "u1"}, {"anonymousId": "a1"}])
def test_either_identity_is_enough(identity: dict[str, str]) -> None:
    message = parse_message({"type": "identify", **identity})
    assert (message.user_id or message.anonymous_id) in ("u1", "a1")


def test_message_id_and_timestamp_are_filled_in_when_absent() -> None:
    before = datetime.now(UTC)
    first = parse_message(VALID["track"][0])
    second = parse_message(VALID["track"][0])
    after = datetime.now(UTC)
    assert first.message_id
    assert first.message_id != second.message_id
    assert first.timestamp.tzinfo is not None
    assert before - timedelta(seconds=1) <= first.timestamp <= after + timedelta(seconds=1)
    wire = first.to_wire()
    assert wire["messageId"] == first.message_id
    assert datetime.fromisoformat(wire["timestamp"]) == first.timestamp


def test_given_message_id_and_timestamp_are_kept() -> None:
    message = parse_message(
        {**VALID["track"][0], "messageId": "m-given", "timestamp": "2020-02-02T02:02:02Z"}
    )
    assert message.message_id == "m-given"
    assert message.timestamp == datetime(2020, 2, 2, 2, 2, 2, tzinfo=UTC)


# ---------------------------------------------------------------- 32 KB


def _json_of_size(size: int, *, filled: bool = True) -> str:
    """A valid track message whose compact JSON text is exactly ``size`` bytes. ``filled``: it
    already carries its ``messageId``, ``timestamp``, ``context`` and ``integrations``, so the text
    is exactly what ``message_to_json`` sends; otherwise those are left for ``parse_message`` to
    fill in."""
    skeleton: dict[str, Any] = {"type": "track", "userId": "u1", "event": "e"}
    if filled:
        skeleton |= {"messageId": "m-size", "timestamp": "2024-05-01T10:00:00Z"}
        skeleton |= {"context": {}, "integrations": {}}
    skeleton["properties"] = {"pad": ""}
    base = len(json.dumps(skeleton, separators=(",", ":")))
    skeleton["properties"]["pad"] = "x" * (size - base)
    text = json.dumps(skeleton, separators=(",", ":"))
    assert len(text.encode()) == size
    return text


def test_a_message_sent_as_exactly_32_kb_is_accepted() -> None:
    message = parse_message(_json_of_size(MAX_MESSAGE_BYTES))
    assert isinstance(message, Track)
    assert len(message_to_json(message)) == MAX_MESSAGE_BYTES


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_message_over_32_kb_is_refused_in_one_line(as_bytes: bool) -> None:
    text = _json_of_size(MAX_MESSAGE_BYTES + 1)
    with pytest.raises(PayloadTooLarge) as caught:
        parse_message(text.encode() if as_bytes else text)
    assert_one_line(caught.value, "message", f"is {MAX_MESSAGE_BYTES + 1} bytes")
    assert str(MAX_MESSAGE_BYTES) in str(caught.value)


@pytest.mark.parametrize("as_text", [True, False])
def test_the_limit_counts_what_parse_message_fills_in(as_text: bool) -> None:
    # 32,768 bytes as given, but messageId, timestamp, context and integrations are still to be
    # added (the bug was to accept this, and then refuse it at message_to_json):
    # what would be sent is larger, so parse_message refuses it, as message_to_json would.
    text = _json_of_size(MAX_MESSAGE_BYTES, filled=False)
    with pytest.raises(PayloadTooLarge) as caught:
        parse_message(text if as_text else json.loads(text))
    assert_one_line(caught.value, "message", "Segment's limit is 32768 bytes")
    sent_size = int(caught.value.rule.split()[1])
    assert sent_size > MAX_MESSAGE_BYTES


def test_whatever_parse_message_accepts_serializes_within_the_limit() -> None:
    # Just under the limit once filled in (16 bytes spare: a generated id or timestamp may be a
    # little longer next time): accepted, and message_to_json agrees.
    added = len(message_to_json(parse_message(_json_of_size(1_000, filled=False)))) - 1_000
    message = parse_message(_json_of_size(MAX_MESSAGE_BYTES - added - 16, filled=False))
    assert MAX_MESSAGE_BYTES - 32 < len(message_to_json(message)) <= MAX_MESSAGE_BYTES


def test_whitespace_in_json_text_does_not_count() -> None:
    # Pretty-printed text over 32 KB whose message is well under it: the wire form is compact.
    document = {
        "type": "track",
        "userId": "u1",
        "event": "e",
        "properties": {"n": list(range(5000))},
    }
    text = json.dumps(document, indent=8)
    assert len(text) > MAX_MESSAGE_BYTES
    assert len(message_to_json(parse_message(text))) < MAX_MESSAGE_BYTES


def test_serializing_a_message_over_32_kb_is_refused() -> None:
    message = Track(user_id="u1", event="e", properties={"pad": "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(PayloadTooLarge) as caught:
        message_to_json(message)
    assert_one_line(caught.value, "message", "Segment's limit is 32768 bytes")


def test_a_mapping_over_32_kb_is_refused_by_parse_message() -> None:
    document = json.loads(_json_of_size(MAX_MESSAGE_BYTES + 100))
    with pytest.raises(PayloadTooLarge):
        parse_message(document)


def test_the_32_kb_limit_counts_utf8_bytes_not_ascii_escapes() -> None:
    document = {"type": "track", "userId": "u1", "event": "e", "properties": {"n": "é" * 12_000}}
    assert len(message_to_json(parse_message(document))) < MAX_MESSAGE_BYTES  # ~24 KB for real
    result = parse_batch({"batch": [document]})
    assert result.ok, [str(error) for error in result.errors]


# ---------------------------------------------------------------- single-message parsing


def test_parse_message_accepts_json_text_and_bytes() -> None:
    text = json.dumps(VALID["identify"][0])
    for data in (text, text.encode()):
        message = parse_message(data)
        assert isinstance(message, Identify)
        assert message.traits == {"plan": "pro"}


def test_invalid_json_is_one_line() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message('{"type": "track",\n "userId": ')
    assert_one_line(caught.value, "message", "is not valid JSON")
    assert "line 2" in str(caught.value)


@pytest.mark.parametrize("data", ["[1, 2]", '"track"', "42"])
def test_a_json_value_that_is_not_an_object_is_refused(data: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message(data)
    assert_one_line(caught.value, "message", "must be a JSON object")


def test_personas_reads_context_personas() -> None:
    personas = {"computation_key": "vip", "space_id": "spa_1"}
    message = parse_message({**VALID["identify"][0], "context": {"personas": personas}})
    assert message.personas == personas
    assert parse_message(VALID["identify"][0]).personas == {}
    odd = parse_message({**VALID["identify"][0], "context": {"personas": "not-an-object"}})
    assert odd.personas == {}


# ---------------------------------------------------------------- batches


GOOD_TRACK = {"type": "track", "userId": "u1", "event": "Signed Up", "messageId": "good-0"}
GOOD_IDENTIFY = {"type": "identify", "anonymousId": "a1", "messageId": "good-2"}
GOOD_ALIAS = {"type": "alias", "userId": "u2", "previousId": "a1", "messageId": "good-6"}
MIXED_BATCH = [
    GOOD_TRACK,
    {"type": "track", "userId": "u1"},
    GOOD_IDENTIFY,
    42,
    {"type": "group", "groupId": "g1"},
    json.loads(_json_of_size(MAX_MESSAGE_BYTES + 1)),
    GOOD_ALIAS,
    {"type": "bogus", "userId": "u1"},
]
EXPECTED_ERRORS = {
    1: ("event", "is required"),
    3: ("message", "must be a JSON object"),
    4: ("userId", "one of userId or anonymousId is required"),
    5: ("message", "Segment's limit is 32768 bytes"),
    7: ("type", "must be one of"),
}


def _check_mixed(result: Any) -> None:
    assert not result.ok
    assert [m.message_id for m in result.messages] == ["good-0", "good-2", "good-6"]
    assert [type(m) for m in result.messages] == [Track, Identify, Alias]
    assert [e.index for e in result.errors] == sorted(EXPECTED_ERRORS)
    for error in result.errors:
        field, rule = EXPECTED_ERRORS[error.index]
        line = str(error)
        assert "\n" not in line
        assert line.startswith(f"batch[{error.index}].{field}: "), line
        assert rule in line, line


def test_a_batch_document_reports_every_bad_message_and_keeps_the_good_ones() -> None:
    _check_mixed(parse_batch({"batch": MIXED_BATCH}))


def test_a_string_inside_a_batch_is_not_a_message() -> None:
    encoded = json.dumps(GOOD_TRACK)
    result = parse_batch({"batch": [encoded]})
    assert result.messages == []
    assert [str(e) for e in result.errors] == ["batch[0].message: must be a JSON object"]


def test_a_batch_as_json_text_or_a_plain_list_gives_the_same_report() -> None:
    _check_mixed(parse_batch(json.dumps({"batch": MIXED_BATCH})))
    _check_mixed(parse_batch(MIXED_BATCH))


def test_an_all_good_batch_is_ok() -> None:
    result = parse_batch({"batch": [doc for doc, _ in VALID.values()]})
    assert result.ok
    assert result.errors == []
    assert [m.type for m in result.messages] == list(VALID)


def test_a_single_message_document_is_a_batch_of_one() -> None:
    result = parse_batch(GOOD_TRACK)
    assert result.ok
    assert [m.message_id for m in result.messages] == ["good-0"]
    bad = parse_batch({"type": "track", "userId": "u1"})
    assert bad.messages == []
    assert [str(e) for e in bad.errors] == ["batch[0].event: is required"]


def test_an_empty_batch_is_ok_and_empty() -> None:
    result = parse_batch({"batch": []})
    assert result.ok
    assert result.messages == []


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ({"batch": {"type": "track"}}, "must be a list of messages"),
        ({"batch": None}, "must be a list of messages"),
        ('{"batch": [', "is not valid JSON"),
        (5, 'must be a message, a list of messages or a {"batch": [...]} object'),
        (None, "must be a message, a list of messages"),
        (True, "must be a message, a list of messages"),
        ("null", "must be a message, a list of messages"),
        ("42", "must be a message, a list of messages"),
        ('"a JSON string"', "must be a message, a list of messages"),
        (b'"bytes of a JSON string"', "must be a message, a list of messages"),
        (b"\xff\xfe\xff", "is not UTF-8 text"),
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ],
    ids=[
        "not-a-list",
        "null-batch",
        "bad-json",
        "a-number",
        "none",
        "a-boolean",
        "json-null",
        "json-number",
        "json-string",
        "json-string-bytes",
        "not-utf8",
        "too-deep",
    ],
)
def test_a_broken_batch_document_is_one_line(document: Any, rule: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_batch(document)
    assert_one_line(caught.value, "batch", rule)


def test_a_json_string_is_never_iterated_character_by_character() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_batch('"{}"')
    assert caught.value.field == "batch"


def test_deeply_nested_json_text_is_one_line() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message("[" * 100_000 + "]" * 100_000)
    assert_one_line(caught.value, "message", "nests too deeply")


def _prefix(message_id: str) -> str:
    return message_id.rsplit("-", 1)[0]


def test_message_ids_are_unique_and_shaped() -> None:
    ids = [parse_message(VALID["track"][0]).message_id for _ in range(1_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"destkit-[0-9a-f]{16}-[0-9a-f]+", i) for i in ids)
    assert len({_prefix(i) for i in ids}) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_its_own_message_id_prefix() -> None:
    parent = parse_message(VALID["track"][0]).message_id
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave at once
        try:
            os.write(write, parse_message(VALID["track"][0]).message_id.encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 200).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child and _prefix(child) != _prefix(parent)
    assert _prefix(parse_message(VALID["track"][0]).message_id) == _prefix(parent)
