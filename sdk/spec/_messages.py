"""Segment messages: track, identify, page, screen, group and alias.

One discriminated union on ``type``. Wire names are camelCase (``userId``, ``messageId``...),
Python names snake_case; unknown fields are kept and round-trip unchanged. Errors are reported
as one line naming the field and the rule (``InvalidEvent``), never as a pydantic dump, and
never with the offending value (it may be personal data).
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticSerializationError, SchemaValidator

from sdk._documents import DocumentProblem, check_value
from sdk._errors import InvalidEvent, PayloadTooLarge

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_MESSAGE_BYTES",
    "Alias",
    "Group",
    "Identify",
    "Message",
    "Page",
    "Screen",
    "Track",
    "message_to_json",
    "parse_message",
    "parse_message_json",
    "validate_message",
]

#: Segment refuses a single message larger than 32 KB serialized.
MAX_MESSAGE_BYTES = 32 * 1024
#: Segment refuses a batch larger than 500 KB serialized.
MAX_BATCH_BYTES = 500 * 1024


class _MessageIds:
    """Unique message ids without a syscall per message: a random 64-bit prefix per process
    (drawn again in a forked child, or parent and child would hand out the same ids) and a
    counter, ``destkit-<16 hex>-<counter hex>``. ``next`` runs in C (a ``map`` iterator's
    ``__next__``), so an id costs a fraction of a microsecond."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next: Callable[[], str] = self._source()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.next = self._source()

    @staticmethod
    def _source() -> Callable[[], str]:
        prefix = f"destkit-{os.urandom(8).hex()}-"
        return map(f"{prefix}{{:x}}".format, itertools.count(1)).__next__


#: The process's message ids; builders that fill ``messageId`` themselves call
#: ``message_ids.next()`` (always through the attribute: it is replaced in a forked child).
message_ids = _MessageIds()


def _new_message_id() -> str:
    return message_ids.next()


#: ``datetime.now(UTC)`` as a C-level callable: no Python frame per message.
_now: Callable[[], datetime] = functools.partial(datetime.now, UTC)

#: ``exclude_if`` for the known optional fields: an absent (``None``) one is left out of the wire
#: form, while unknown fields keep their nulls. A C-level ``is None`` test, called per field.
_is_none: Callable[[Any], bool] = functools.partial(operator.is_, None)


def _optional() -> Any:
    """A known optional field: ``None`` by default, left out of the wire form when ``None``."""
    return Field(default=None, exclude_if=_is_none)


class _Base(BaseModel):
    """Fields every Segment message has."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        str_strip_whitespace=False,
        # NaN and Infinity are written as such (not as null) so that message_to_json can find
        # and refuse them: wire JSON is strict, a value JSON cannot carry is never sent.
        ser_json_inf_nan="constants",
    )

    message_id: str = Field(default_factory=_new_message_id, min_length=1)
    timestamp: datetime = Field(default_factory=_now)
    user_id: str | None = _optional()
    anonymous_id: str | None = _optional()
    context: dict[str, Any] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)
    sent_at: datetime | None = _optional()
    received_at: datetime | None = _optional()
    original_timestamp: datetime | None = _optional()

    @model_validator(mode="after")
    def _needs_an_identity(self) -> _Base:
        if not (self.user_id or self.anonymous_id):
            raise ValueError("one of userId or anonymousId is required")
        return self

    def to_wire(self) -> dict[str, Any]:
        """The message as Segment's JSON document: camelCase, known optional fields left out when
        ``None``, unknown fields kept as given (their nulls too)."""
        return self.model_dump(mode="json")

    @property
    def personas(self) -> dict[str, Any]:
        """``context.personas``, or an empty dict when the message did not come from Engage."""
        value = self.context.get("personas")
        return value if isinstance(value, dict) else {}


class Track(_Base):
    """A user did something: ``event`` names it, ``properties`` describe it."""

    type: Literal["track"] = "track"
    event: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)


class Identify(_Base):
    """Who the user is: ``traits`` are facts about them."""

    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict)


class Page(_Base):
    """A web page view."""

    type: Literal["page"] = "page"
    name: str | None = _optional()
    category: str | None = _optional()
    properties: dict[str, Any] = Field(default_factory=dict)


class Screen(_Base):
    """A mobile screen view."""

    type: Literal["screen"] = "screen"
    name: str | None = _optional()
    category: str | None = _optional()
    properties: dict[str, Any] = Field(default_factory=dict)


class Group(_Base):
    """The user belongs to a group (an account, a company)."""

    type: Literal["group"] = "group"
    group_id: str = Field(min_length=1)
    traits: dict[str, Any] = Field(default_factory=dict)


class Alias(_Base):
    """Merge two identities: ``previousId`` becomes ``userId``."""

    type: Literal["alias"] = "alias"
    previous_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _alias_needs_user_id(self) -> Alias:
        if not self.user_id:
            raise ValueError("alias needs userId (the new identity)")
        return self


Message: TypeAlias = Annotated[
    Track | Identify | Page | Screen | Group | Alias, Field(discriminator="type")
]
"""Any Segment message, discriminated on ``type``."""

MESSAGE_TYPES: tuple[str, ...] = ("track", "identify", "page", "screen", "group", "alias")

_ADAPTER: TypeAdapter[Track | Identify | Page | Screen | Group | Alias] = TypeAdapter(Message)
#: ``_ADAPTER.validate_python`` without its Python wrapper (the same call, with the same
#: defaults, on the same core validator): it runs once per event delivered.
_VALIDATE: Callable[[Any], Track | Identify | Page | Screen | Group | Alias] = (
    _ADAPTER.validator.validate_python
    if isinstance(_ADAPTER.validator, SchemaValidator)
    else _ADAPTER.validate_python
)


#: pydantic's last ``loc`` part for an error in a mapping's key rather than its value.
_KEY_MARK = "[key]"


def _wire_name(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for position, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif position == 0 and part in MESSAGE_TYPES:
            continue  # the union's tag, not a field
        elif part == _KEY_MARK:
            continue  # the key itself is bad: the rule says so
        else:
            parts.append(("." if parts else "") + to_camel(part))
    return "".join(parts) or "message"


def _rule(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    if loc and loc[-1] == _KEY_MARK:  # a mapping key that is not text ({1: ...})
        return "is a key that must be text" if kind == "string_type" else "is not a valid key"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_not_found":
        return "is required (one of " + ", ".join(MESSAGE_TYPES) + ")"
    if kind == "union_tag_invalid":
        return "must be one of " + ", ".join(MESSAGE_TYPES)
    if kind == "string_too_short":
        return "must not be empty"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def _field_of(error: Mapping[str, Any]) -> str:
    if error.get("type") in {"union_tag_not_found", "union_tag_invalid"}:
        return "type"
    loc = tuple(error.get("loc", ()))
    if not loc or (len(loc) == 1 and loc[0] in MESSAGE_TYPES):
        rule = str(error.get("msg", ""))
        if "one of userId or anonymousId" in rule:
            return "userId"
        if "alias needs userId" in rule:
            return "userId"
    return _wire_name(loc)


def invalid_event_from(error: ValidationError, prefix: str = "") -> InvalidEvent:
    """Turn a pydantic error into one ``InvalidEvent`` line: the first problem, by field."""
    errors = error.errors(include_input=False, include_url=False)
    first = errors[0]
    field_name = prefix + _field_of(first)
    rule = _rule(first)
    if len(errors) > 1:
        rule += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return InvalidEvent(field_name, rule)


#: JSON text longer than this is refused before it is parsed (whitespace may pad a document a
#: little, not by megabytes): a message, and a batch.
MAX_MESSAGE_TEXT = 1024 * 1024


def _load_json(text: str | bytes | bytearray, field: str, limit: int) -> Any:
    """JSON text as Python objects; a problem is one ``InvalidEvent`` naming ``field``."""
    if len(text) > limit:
        raise PayloadTooLarge(field, f"is {len(text)} characters of text; at most {limit} are read")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(
            field, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise InvalidEvent(field, "is not UTF-8 text") from None
    except RecursionError:
        raise InvalidEvent(field, "nests too deeply") from None
    except ValueError:  # Python's own limit: an integer of more than 4,300 digits
        raise InvalidEvent(field, "holds a number too long to read (over 4300 digits)") from None


def parse_message(
    data: Mapping[str, Any] | str | bytes,
) -> Track | Identify | Page | Screen | Group | Alias:
    """Validate one message given as a mapping or JSON text.

    Raises ``InvalidEvent`` (one line, naming the field) or ``PayloadTooLarge``. The 32 KB limit
    applies to what will be sent: the message as ``message_to_json`` writes it, with its
    ``messageId``, ``timestamp`` and defaults filled in, so a message this accepts always
    serializes within the limit (and JSON text padded with whitespace is not refused for it).
    """
    if isinstance(data, (str, bytes)):
        data = _load_json(data, "message", MAX_MESSAGE_TEXT)
    if not isinstance(data, Mapping):
        raise InvalidEvent("message", "must be a JSON object")
    return parse_message_json(data)[0]


def validate_message(data: Mapping[str, Any]) -> Track | Identify | Page | Screen | Group | Alias:
    """Validate a mapping as a message, without writing its wire JSON: for a caller that
    checks the size of what it will send itself, on a document it parsed from JSON text with
    a strict parser (which holds no NaN, Infinity or lone surrogate for the wire checks of
    :func:`parse_message_json` to find). Raises ``InvalidEvent`` naming the field."""
    try:
        return _VALIDATE(data)
    except ValidationError as exc:
        raise invalid_event_from(exc) from None


def parse_message_json(
    data: Mapping[str, Any],
) -> tuple[Track | Identify | Page | Screen | Group | Alias, bytes]:
    """:func:`parse_message` of a mapping, with the message's wire JSON as
    :func:`message_to_json` wrote it for the size check (the delivery runtime hands those bytes
    to a connector that forwards the message as it is, so it is written once)."""
    message = validate_message(data)
    return message, checked_wire(message, data)


def checked_wire(
    message: Track | Identify | Page | Screen | Group | Alias, data: Mapping[str, Any]
) -> bytes:
    """The wire JSON of ``message``, validated from the mapping ``data``, with the checks
    :func:`parse_message_json` makes on it (``InvalidEvent``, ``PayloadTooLarge``)."""
    raw = message_to_json(message)  # the size of what will be sent, defaults included
    # Validation turns a lone surrogate in a mapping key into U+FFFD, silently: rare enough
    # to look at the input itself only then, and refuse it naming where.
    if replacement_written(raw):
        _refuse_unwritable_input(data)
    return raw


def nonfinite_written(raw: bytes) -> bool:
    """Whether the JSON ``raw`` may hold NaN or Infinity (rare; it may be inside a string, so
    a caller that finds one looks closer). Most JSON has no "N": one memchr says so, cheaper
    than searching for the word (``find`` is cheaper than ``in`` too, which takes a buffer of
    its argument)."""
    return (raw.find(b"N") >= 0 and raw.find(b"NaN") >= 0) or raw.find(b"Infinity") >= 0


def replacement_written(raw: bytes) -> bool:
    """Whether the JSON ``raw`` holds U+FFFD (ASCII JSON, most, cannot: one C pass says so)."""
    return not raw.isascii() and raw.find(_REPLACEMENT) >= 0


def message_to_json(message: Track | Identify | Page | Screen | Group | Alias) -> bytes:
    """Serialize a message for the wire (compact UTF-8 JSON, as ``to_wire`` describes it),
    refusing one over Segment's 32 KB limit or one holding a value JSON cannot carry."""
    try:
        raw = type(message).__pydantic_serializer__.to_json(message)
    except PydanticSerializationError:
        # A lone surrogate ("\ud800"), or a Python object JSON has no form for.
        _refuse_unwritable(message)
        raise InvalidEvent("message", "holds a value that cannot be written as JSON") from None
    if nonfinite_written(raw):  # rare: look closer then (it may be inside a string)
        _refuse_unwritable(message)
    if len(raw) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            "message", f"is {len(raw)} bytes; Segment's limit is {MAX_MESSAGE_BYTES} bytes"
        )
    return raw


def _refuse_unwritable(message: Track | Identify | Page | Screen | Group | Alias) -> None:
    """Raise ``InvalidEvent`` naming the field that holds NaN, Infinity or a lone surrogate."""
    try:
        check_value(message.model_dump(by_alias=True), max_depth=None, long_numbers=True)
    except DocumentProblem as problem:
        raise InvalidEvent(problem.where or "message", problem.rule) from None
    except RecursionError:
        return


#: U+FFFD as UTF-8.
_REPLACEMENT = "\ufffd".encode()


def _refuse_unwritable_input(data: Mapping[str, Any]) -> None:
    try:
        check_value(dict(data), max_depth=None, long_numbers=True)
    except DocumentProblem as problem:
        raise InvalidEvent(problem.where or "message", problem.rule) from None
    except RecursionError:
        return
