"""Segment's message spec: the six call types, validation, size limits and the wire JSON."""

from sdk.spec._batch import BatchParseResult, MessageError, parse_batch
from sdk.spec._messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    Alias,
    Group,
    Identify,
    Message,
    Page,
    Screen,
    Track,
    message_to_json,
    parse_message,
)

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_MESSAGE_BYTES",
    "Alias",
    "BatchParseResult",
    "Group",
    "Identify",
    "Message",
    "MessageError",
    "Page",
    "Screen",
    "Track",
    "message_to_json",
    "parse_batch",
    "parse_message",
]
