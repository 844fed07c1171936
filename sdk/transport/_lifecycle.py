"""The lifecycle record of one send: what the TUI draws, what ``destkit send --json`` prints and
what the contract tests assert on.

Schema ``destkit.lifecycle/1`` (every field JSON-serializable, every secret already masked)::

    {
      "schema": "destkit.lifecycle/1",
      "id": "lc_...", "destination": "Braze", "slug": "braze",
      "action": "track_event" | null,       # null when no action took the event
      "started_at": ISO-8601, "finished_at": ISO-8601 | null, "duration_ms": float | null,
      "event": {...},                       # the input message, wire form
      "routing": {"decision": "delivered" | "filtered at destination", "delivered": bool,
                  "reason": str} | null,
      "payload": {...} | null,              # what the action mapped the event to
      "attempts": [                         # one per try; a batch's attempts are shared by
        {                                   # every event it carried
          "number": 1, "batch_size": 1, "started_at": ISO-8601, "wait_before_s": 0.0,
          "rate_limit_wait_s": 0.0,         # queued behind the destination's rate limit
          "exchanges": [                    # the HTTP calls the try made (usually one)
            {"request": {"method", "url", "headers", "body", "body_kind"},
             "response": {"status", "reason", "http_version", "headers", "body", "body_kind"}
                         | null,
             "timings": {"connect_ms", "tls_ms", "request_sent_ms", "first_byte_ms",
                         "total_ms"},
             "error": {"class", "message", "status", "retryable"} | null}
          ],
          "error": {"class", "message", "status", "retryable"} | null,
          "retry": {"decision": "done" | "retry" | "give up" | "split", "reason": str,
                    "wait_s": float | null} | null   # split: a 413 batch sent in halves
        }
      ],
      "outcome": "pending" | "delivered" | "filtered" | "failed: retryable exhausted"
                 | "failed: permanent",
      "error": {"class", "message", "status", "retryable"} | null,
      "notes": [str]                        # warnings about this event, oldest first; [] if none
    }

``notes`` say what happened to an event that the outcome alone does not: a connector that
delivers an event but leaves part of it out (an id too short for the vendor, a trait value the
vendor's field does not take, an attribute the vendor refused in an accepted request) notes it
here, so that nothing accepted for delivery is silently lost. A note is one line of text, already
redacted, recorded once (the same text from a retried attempt is not repeated). Notes come from
the action's ``payload_notes`` (map time), ``ctx.note`` and ``BatchResult.note`` (perform time).
The field was added within ``destkit.lifecycle/1``: a reader of an older record without it
should take it as ``[]``.

``wait_before_s`` is the retry wait (backoff or ``Retry-After``) before the attempt started;
``rate_limit_wait_s`` the seconds its requests then waited for the destination's own rate limit
(``rate_limit``), summed over its exchanges. Neither counts in an exchange's ``timings``.

``body_kind`` is ``json`` (body is the parsed value), ``text``, ``form`` (a mapping), ``empty``,
``binary`` (a size note) or ``omitted`` (a size note: a request of bulk delivery, whose record of a
failure is built after the fact and shows the event's ``payload`` instead). Bodies larger than
:data:`MAX_RECORDED_BODY` are cut, with a note.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sdk._errors import DeliveryError, DestkitError

__all__ = [
    "LIFECYCLE_SCHEMA",
    "Attempt",
    "ErrorInfo",
    "Exchange",
    "Lifecycle",
    "Outcome",
    "RecordedRequest",
    "RecordedResponse",
    "RetryDecision",
    "Timings",
]

LIFECYCLE_SCHEMA = "destkit.lifecycle/1"
#: Recorded bodies are cut at this many characters so a huge payload cannot flood a record.
MAX_RECORDED_BODY = 256 * 1024

_ids = itertools.count(1)
_PROCESS = os.getpid()


def _now_iso() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Outcome(StrEnum):
    """How a send ended."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FILTERED = "filtered"
    FAILED_RETRYABLE = "failed: retryable exhausted"
    FAILED_PERMANENT = "failed: permanent"


@dataclass(slots=True)
class ErrorInfo:
    """An error as the record shows it: its class, its one-line message, the HTTP status."""

    cls: str
    message: str
    status: int | None = None
    retryable: bool = False

    @classmethod
    def of(cls, error: BaseException, message: str | None = None) -> ErrorInfo:
        """Describe an exception (the message should already be redacted)."""
        status = error.status if isinstance(error, DeliveryError) else None
        retryable = error.retryable if isinstance(error, DeliveryError) else False
        text = (
            message
            if message is not None
            else (
                error.message
                if isinstance(error, DestkitError)
                else str(error) or type(error).__name__
            )
        )
        return cls(type(error).__name__, text, status, retryable)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "class": self.cls,
            "message": self.message,
            "status": self.status,
            "retryable": self.retryable,
        }


@dataclass(slots=True)
class Timings:
    """Milliseconds from the start of the request (httpx's ``trace`` extension)."""

    connect_ms: float | None = None
    tls_ms: float | None = None
    request_sent_ms: float | None = None
    first_byte_ms: float | None = None
    total_ms: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """The JSON form, rounded to microseconds."""
        return {
            name: (None if value is None else round(value, 3))
            for name, value in (
                ("connect_ms", self.connect_ms),
                ("tls_ms", self.tls_ms),
                ("request_sent_ms", self.request_sent_ms),
                ("first_byte_ms", self.first_byte_ms),
                ("total_ms", self.total_ms),
            )
        }


@dataclass(slots=True)
class RecordedRequest:
    """An HTTP request as sent, redacted."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any
    body_kind: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": self.headers,
            "body": self.body,
            "body_kind": self.body_kind,
        }


@dataclass(slots=True)
class RecordedResponse:
    """An HTTP response as received, redacted."""

    status: int
    reason: str
    http_version: str
    headers: dict[str, str]
    body: Any
    body_kind: str

    @property
    def status_line(self) -> str:
        """``200 OK``."""
        return f"{self.status} {self.reason}".strip()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "status": self.status,
            "reason": self.reason,
            "http_version": self.http_version,
            "headers": self.headers,
            "body": self.body,
            "body_kind": self.body_kind,
        }


@dataclass(slots=True)
class Exchange:
    """One HTTP call: the request, the response (if any), its timings and its error."""

    request: RecordedRequest
    response: RecordedResponse | None = None
    timings: Timings = field(default_factory=Timings)
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "request": self.request.to_dict(),
            "response": None if self.response is None else self.response.to_dict(),
            "timings": self.timings.to_dict(),
            "error": None if self.error is None else self.error.to_dict(),
        }


@dataclass(slots=True)
class RetryDecision:
    """What the runtime decided after an attempt: ``done``, ``retry`` (after ``wait_s``) or
    ``give up``, and why."""

    decision: str
    reason: str
    wait_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        wait = None if self.wait_s is None else round(self.wait_s, 3)
        return {"decision": self.decision, "reason": self.reason, "wait_s": wait}


@dataclass(slots=True, init=False)
class Attempt:
    """One try at delivering one event or one batch.

    ``started_at`` (ISO 8601, UTC, milliseconds) is written when first read: bulk delivery
    makes an attempt for every event and reads the time only of those it records."""

    number: int
    batch_size: int
    wait_before_s: float
    exchanges: list[Exchange]
    error: ErrorInfo | None
    retry: RetryDecision | None
    #: Seconds this attempt's requests waited for the destination's rate limit.
    rate_limit_wait_s: float
    #: ``started_at``, or the Unix time it is written from.
    _started: str | float = field(repr=False)

    def __init__(
        self,
        number: int,
        batch_size: int = 1,
        wait_before_s: float = 0.0,
        started_at: str | None = None,
        exchanges: list[Exchange] | None = None,
        error: ErrorInfo | None = None,
        retry: RetryDecision | None = None,
        rate_limit_wait_s: float = 0.0,
    ) -> None:
        self.number = number
        self.batch_size = batch_size
        self.wait_before_s = wait_before_s
        self._started = time.time() if started_at is None else started_at
        self.exchanges = [] if exchanges is None else exchanges
        self.error = error
        self.retry = retry
        self.rate_limit_wait_s = rate_limit_wait_s

    @property
    def started_at(self) -> str:
        """When the attempt started (``2026-01-01T00:00:00.000Z``)."""
        started = self._started
        if isinstance(started, float):
            started = self._started = _iso(datetime.fromtimestamp(started, UTC))
        return started

    @started_at.setter
    def started_at(self, value: str) -> None:
        self._started = value

    @property
    def last_response(self) -> RecordedResponse | None:
        """The last response received in this attempt, if any."""
        for exchange in reversed(self.exchanges):
            if exchange.response is not None:
                return exchange.response
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "number": self.number,
            "batch_size": self.batch_size,
            "started_at": self.started_at,
            "wait_before_s": round(self.wait_before_s, 3),
            "rate_limit_wait_s": round(self.rate_limit_wait_s, 3),
            "exchanges": [e.to_dict() for e in self.exchanges],
            "error": None if self.error is None else self.error.to_dict(),
            "retry": None if self.retry is None else self.retry.to_dict(),
        }


@dataclass(slots=True)
class Lifecycle:
    """Everything that happened to one event on its way to one destination."""

    destination: str
    slug: str
    event: dict[str, Any]
    action: str | None = None
    id: str = field(default_factory=lambda: f"lc_{_PROCESS:x}_{next(_ids)}")
    started_at: str = field(default_factory=_now_iso)
    finished_at: str | None = None
    duration_ms: float | None = None
    routing: dict[str, Any] | None = None
    payload: Any = None
    attempts: list[Attempt] = field(default_factory=list)
    outcome: Outcome = Outcome.PENDING
    error: ErrorInfo | None = None
    #: Warnings about this event (already redacted), oldest first; see the module docstring.
    notes: list[str] = field(default_factory=list)
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def delivered(self) -> bool:
        """True when the destination accepted the event."""
        return self.outcome is Outcome.DELIVERED

    @property
    def last_response(self) -> RecordedResponse | None:
        """The last response received across all attempts."""
        for attempt in reversed(self.attempts):
            response = attempt.last_response
            if response is not None:
                return response
        return None

    def add_note(self, text: str) -> None:
        """Record a warning about this event (the caller redacts it); a repeat is ignored."""
        line = " ".join(str(text).split())
        if line and line not in self.notes:
            self.notes.append(line)

    def finish(self, outcome: Outcome, error: ErrorInfo | None = None) -> None:
        """Close the record with its outcome."""
        self.outcome = outcome
        self.error = error
        self.finished_at = _now_iso()
        self.duration_ms = (time.perf_counter() - self._t0) * 1000

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (``destkit.lifecycle/1``)."""
        return {
            "schema": LIFECYCLE_SCHEMA,
            "id": self.id,
            "destination": self.destination,
            "slug": self.slug,
            "action": self.action,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
            "event": self.event,
            "routing": self.routing,
            "payload": self.payload,
            "attempts": [a.to_dict() for a in self.attempts],
            "outcome": self.outcome.value,
            "error": None if self.error is None else self.error.to_dict(),
            "notes": list(self.notes),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The record as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, default=str, ensure_ascii=False)
