"""A batch of Segment messages (``/v1/batch``, a file of messages): every good message kept,
every bad one reported with its index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sdk._errors import InvalidEvent, PayloadTooLarge
from sdk.spec._messages import (
    MAX_BATCH_BYTES,
    Alias,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    _load_json,
    parse_message,
)

__all__ = ["BatchParseResult", "MessageError", "parse_batch"]

#: Longest JSON text of a batch read (whitespace included).
MAX_BATCH_TEXT = 8 * MAX_BATCH_BYTES


@dataclass(frozen=True)
class MessageError:
    """One bad message in a batch: where it was and what is wrong with it."""

    index: int
    error: InvalidEvent | PayloadTooLarge

    def __str__(self) -> str:
        return f"batch[{self.index}].{self.error.message}"


@dataclass
class BatchParseResult:
    """The good messages of a batch, and every bad one with its index."""

    messages: list[Track | Identify | Page | Screen | Group | Alias] = field(default_factory=list)
    errors: list[MessageError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every message was valid."""
        return not self.errors


_BATCH_RULE = 'must be a message, a list of messages or a {"batch": [...]} object'


def parse_batch(document: Mapping[str, Any] | Iterable[Any] | str | bytes) -> BatchParseResult:
    """Parse one message, a list of messages or a ``{"batch": [...]}`` document (as Python
    objects or JSON text). Anything else (``None``, a number, a JSON string...) is refused with
    one ``InvalidEvent`` naming ``batch``.

    Bad messages are reported with their index; good ones are kept, never dropped because a
    neighbour was bad.
    """
    if isinstance(document, (str, bytes, bytearray)):
        document = _load_json(document, "batch", MAX_BATCH_TEXT)
    items: list[Any]
    if isinstance(document, Mapping):
        if "batch" in document:
            if not isinstance(document["batch"], list):
                raise InvalidEvent("batch", "must be a list of messages")
            items = document["batch"]
        else:
            items = [document]
    elif isinstance(document, Iterable) and not isinstance(document, (str, bytes, bytearray)):
        items = list(document)
    else:  # None, a number, a string (never iterated character by character)...
        raise InvalidEvent("batch", _BATCH_RULE)
    result = BatchParseResult()
    for index, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):  # JSON text inside a batch is not a message
                raise InvalidEvent("message", "must be a JSON object")
            result.messages.append(parse_message(item))
        except (InvalidEvent, PayloadTooLarge) as exc:
            result.errors.append(MessageError(index, exc))
    return result
