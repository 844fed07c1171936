"""What bulk delivery keeps per event: the compact result, the record policy, and the item an
event travels as while it is on its way.

``send``/``send_many`` keep the full :class:`Lifecycle` of every event (``destkit send``, the
tester and the contract kit show it). ``stream`` keeps a :class:`DeliveryResult` per event and
builds the full record only where the ``record`` policy asks for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import orjson

from sdk.transport._lifecycle import Attempt, ErrorInfo, Lifecycle, Outcome

__all__ = ["DeliveryResult", "Record", "RecordPolicy", "delivered_result"]

#: ``"failures"`` (the default), ``"all"``, ``"none"``, or an int N: every Nth event (by its
#: position in the input, the first included) and every failure.
Record = Literal["failures", "all", "none"] | int


class RecordPolicy:
    """Which events of a stream get a full lifecycle record."""

    __slots__ = ("every", "failures")

    def __init__(self, record: Record) -> None:
        if record == "all":
            self.every, self.failures = 1, True
        elif record == "failures":
            self.every, self.failures = 0, True
        elif record == "none":
            self.every, self.failures = 0, False
        elif isinstance(record, int) and not isinstance(record, bool) and record >= 1:
            self.every, self.failures = record, True
        else:
            raise ValueError(
                f"record: {record!r} must be 'failures', 'all', 'none' or a positive int N "
                "(every Nth event)"
            )

    def full(self, index: int) -> bool:
        """Whether the event at ``index`` is recorded in full from the start."""
        return self.every > 0 and index % self.every == 0


@dataclass(frozen=True, slots=True, init=False)
class DeliveryResult:
    """One event's outcome, as :meth:`AsyncDelivery.stream` yields it.

    ``index`` is the event's position in the input; ``message_id`` its ``messageId`` (``None``
    when the event was refused before one could be read); ``attempts`` the tries it took
    (0 when it never reached the network); ``error`` already redacted. ``lifecycle`` is the
    full record when the stream's ``record`` policy asked for it, else ``None``. ``reason`` says
    why a filtered event was not sent (the integrations object, no subscribing action, an
    action's skip), else ``None``.
    """

    index: int
    message_id: str | None
    outcome: Outcome
    error: ErrorInfo | None
    attempts: int
    lifecycle: Lifecycle | None = None
    reason: str | None = None

    def __init__(
        self,
        index: int,
        message_id: str | None,
        outcome: Outcome,
        error: ErrorInfo | None,
        attempts: int,
        lifecycle: Lifecycle | None = None,
        reason: str | None = None,
    ) -> None:
        # One is made per event: the slots are filled through their descriptors, a third of
        # the cost of the generated frozen ``__init__`` (still frozen afterwards).
        _set_index(self, index)
        _set_message_id(self, message_id)
        _set_outcome(self, outcome)
        _set_error(self, error)
        _set_attempts(self, attempts)
        _set_lifecycle(self, lifecycle)
        _set_reason(self, reason)

    @property
    def delivered(self) -> bool:
        """True when the destination accepted the event."""
        return self.outcome is Outcome.DELIVERED

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the lifecycle, when kept, in its documented form)."""
        return {
            "index": self.index,
            "message_id": self.message_id,
            "outcome": self.outcome.value,
            "delivered": self.delivered,
            "error": None if self.error is None else self.error.to_dict(),
            "attempts": self.attempts,
            "reason": self.reason,
            "lifecycle": None if self.lifecycle is None else self.lifecycle.to_dict(),
        }


(
    _set_index,
    _set_message_id,
    _set_outcome,
    _set_error,
    _set_attempts,
    _set_lifecycle,
    _set_reason,
) = (
    DeliveryResult.__dict__[name].__set__
    for name in ("index", "message_id", "outcome", "error", "attempts", "lifecycle", "reason")
)


class _DeliveredResult:
    """A :class:`DeliveryResult` being built: the same slots in the same order, but plain ones,
    so its ``__init__`` fills them with ordinary stores; it then becomes a
    ``DeliveryResult`` (``__class__`` assignment, allowed between classes of the same layout)
    and is frozen from there on. Bulk delivery makes one per event delivered: this costs well
    under half of filling a ``DeliveryResult``'s slots through their descriptors."""

    __slots__ = DeliveryResult.__slots__  # the same, in the same order

    def __init__(self, index: int, message_id: str | None, attempts: int) -> None:
        self.index = index
        self.message_id = message_id
        self.outcome = Outcome.DELIVERED
        self.error = None
        self.attempts = attempts
        self.lifecycle = None
        self.reason = None
        self.__class__ = DeliveryResult  # type: ignore[assignment]


#: The result of an event delivered without a full record: what ``Engine._result`` gives it,
#: built without a call to ``DeliveryResult.__init__`` (bulk delivery makes one per event):
#: ``delivered_result(index, message_id, attempts)``.
delivered_result = cast(Callable[[int, str | None, int], DeliveryResult], _DeliveredResult)


class Item:
    """One event on its way. With a ``lifecycle`` every step is recorded in it as it happens;
    without one (bulk delivery) only the compact state is kept, plus (``keep``) what a full
    record of a failure needs, built when the event settles."""

    __slots__ = (
        "action",
        "attempts",
        "error",
        "event",
        "index",
        "keep",
        "lifecycle",
        "message_id",
        "notes",
        "outcome",
        "payload",
        "routing",
        "snapshot",
        "started",
        "tries",
    )

    def __init__(
        self, event: object, index: int, lifecycle: Lifecycle | None, *, keep: bool
    ) -> None:
        self.event = event
        self.index = index
        self.lifecycle = lifecycle
        self.keep = keep
        self.message_id: str | None = None
        self.action: str | None = None
        self.routing: dict[str, Any] | None = None
        self.payload: Any = None
        # Both stay the shared empty tuple until there is something in them (most events
        # never have a note, nor attempts kept for a record): two objects fewer per event.
        self.notes: Sequence[str] = ()
        self.outcome = Outcome.PENDING
        self.error: ErrorInfo | None = None
        self.attempts: Sequence[Attempt] = ()
        self.tries = 0
        self.started = time.time() if keep and lifecycle is None else 0.0
        #: The event as JSON, kept for a late record in place of ``event`` (see
        #: :func:`event_snapshot`); ``None`` while ``event`` is kept.
        self.snapshot: bytes | None = None


#: What makes :func:`event_snapshot` (and the stream's inlined copy of it) refuse a value that
#: JSON would carry in another form than the record's: a date or time, a dataclass, a subclass
#: of a JSON type (and, as always, a key that is not text, an integer past 64 bits, any other
#: object). And a newline at the end, cut off again: slicing copies the document out of the
#: buffer orjson wrote it in (1 KB, shrunk in place) into a small block of its own, and frees
#: the buffer at once; a snapshot kept in that buffer while its event is in flight cost the
#: allocator about 1 µs an event more than the copy (measured on the bench event).
SNAPSHOT_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_APPEND_NEWLINE
)


def event_snapshot(event: object) -> bytes | None:
    """A validated event (a dict of plain JSON values) as compact JSON, for a late record in
    place of the event itself; ``None`` for anything else (an event of other values is kept).

    Why: an event kept until its request settles is a few containers that live across
    several garbage collections, which the collector counts and walks again and again (in
    bulk delivery, more CPU than validating the event); these bytes are not walked, and the
    event is freed as soon as its caller lets it go. A late record reads them back: the same
    document as the event's own, as its record is redacted (:meth:`Redactor.value` writes it
    to JSON and reads it back); only a UUID or an enum, which orjson writes as their JSON
    form, would then stay that form where the record's masking walks the event."""
    if type(event) is not dict:
        return None
    try:
        return orjson.dumps(event, option=SNAPSHOT_OPTIONS)[:-1]  # the newline cut off
    except TypeError:  # orjson.JSONEncodeError: not plain JSON, or a key that is not text
        return None


def event_message_id(event: object) -> str | None:
    """The ``messageId`` of an event refused before it was parsed, when it has a usable one."""
    if isinstance(event, Mapping):
        value = event.get("messageId")
        if isinstance(value, str) and value:
            return value
    return None


def iso(seconds: float) -> str:
    """Wall-clock seconds as the lifecycle's ISO-8601 form."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
