"""Retry policy and response classification, in one visible, tested place.

Classification follows Segment's rules for destination calls: retry 408, 423, 429 and every
5xx except 501, plus network errors and timeouts; never retry any other 4xx. 401/403 are an
authentication failure, 413 a payload too large (a batch is split), other 4xx a payload
validation failure. A 3xx is a permanent failure too: redirects are not followed (a POST
redirected elsewhere has not been delivered, and following it could send credentials to another
host), so the error names the status and the redacted ``Location`` to put in the endpoint.

Waits come from tenacity: exponential backoff with jitter, bounded by attempts and by total time
(a retry whose wait would overrun the time budget is not made). A ``Retry-After`` (seconds or an
HTTP-date) is honoured: the wait is the larger of the capped ``Retry-After`` and the backoff. A
429 is :class:`RateLimited`; a retryable 5xx with ``Retry-After`` stays a
:class:`RetryableError` (a server error, not a rate limit) that carries the wait.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import RetryCallState, wait_exponential, wait_random

from sdk._errors import (
    DeliveryError,
    IntegrationError,
    InvalidAuthentication,
    PayloadValidationError,
    RateLimited,
    RetryableError,
)
from sdk.transport._redaction import Redactor

__all__ = [
    "NON_RETRYABLE_5XX",
    "RETRYABLE_4XX",
    "RetryPolicy",
    "classify_status",
    "parse_retry_after",
]

RETRYABLE_4XX = frozenset({408, 423, 429})
NON_RETRYABLE_5XX = frozenset({501})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    Returns ``None`` for a missing or unreadable value, and never less than zero.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _describe(body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "error", "error_description", "detail", "errors"):
            if body.get(key):
                value = body[key]
                if isinstance(value, Mapping) and "message" in value:
                    value = value["message"]
                return " ".join(str(value).split())[:300]
    if isinstance(body, str) and body.strip():
        return " ".join(body.split())[:300]
    return ""


_BASELINE = Redactor()


def classify_status(
    status: int,
    reason: str = "",
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    redactor: Redactor | None = None,
) -> DeliveryError | None:
    """The error a response with this status means, or ``None`` for a 2xx.

    A 3xx is an :class:`IntegrationError` naming the ``Location``, masked by ``redactor`` (by
    default only credential-named query parameters and user info are masked).
    """
    if status < 300:
        return None
    if status < 400:
        return _redirect(status, reason, headers, redactor or _BASELINE)
    detail = _describe(body)
    text = f"HTTP {status} {reason}".strip() + (f": {detail}" if detail else "")
    if status == 429:
        retry_after = parse_retry_after((headers or {}).get("retry-after"))
        return RateLimited(text, retry_after=retry_after)  # its status is 429
    if status in RETRYABLE_4XX or (status >= 500 and status not in NON_RETRYABLE_5XX):
        retry_after = parse_retry_after((headers or {}).get("retry-after"))
        return RetryableError(text, status=status, retry_after=retry_after)
    if status in (401, 403):
        return InvalidAuthentication(text, status=status)
    if status in NON_RETRYABLE_5XX:  # 501 Not Implemented: the endpoint will not start to work
        return IntegrationError(text, status=status)
    return PayloadValidationError(text, status=status)  # every other 4xx


def _redirect(
    status: int, reason: str, headers: Mapping[str, str] | None, redactor: Redactor
) -> IntegrationError:
    # No 3xx means delivered for a POST: a redirect (http -> https, a moved endpoint) is not
    # followed, and a 304 or a 300 has no body the destination kept.
    location = " ".join(((headers or {}).get("location") or "").split())
    text = f"HTTP {status} {reason}".strip()
    if location:
        text += f": redirected to {redactor.url(location)}; redirects are not followed"
        text += ", so set the endpoint to where the destination now answers"
    else:
        text += ": a redirect (no Location) is not a delivery"
    return IntegrationError(text, status=status)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the runtime tries: attempts, a total time budget, and the backoff shape."""

    max_attempts: int = 5
    #: Seconds from the first attempt after which no new attempt starts.
    max_elapsed: float = 60.0
    initial_backoff: float = 0.5
    max_backoff: float = 10.0
    multiplier: float = 2.0
    #: Up to this many seconds of random jitter added to each backoff.
    jitter: float = 0.5
    #: A destination's ``Retry-After`` is honoured up to this many seconds.
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts: must be at least 1")
        if self.max_elapsed <= 0:
            raise ValueError("max_elapsed: must be positive")

    def backoff(self, attempt_number: int) -> float:
        """The jittered exponential wait after attempt ``attempt_number`` (1-based)."""
        # tenacity strategies compose: capped exponential growth plus random jitter.
        strategy = wait_exponential(
            multiplier=self.initial_backoff, max=self.max_backoff, exp_base=self.multiplier
        ) + wait_random(0, self.jitter)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt_number
        return float(strategy(state))

    def wait_for(self, attempt_number: int, error: DeliveryError) -> float:
        """The wait before the next attempt: backoff, or a longer capped ``Retry-After``."""
        wait = self.backoff(attempt_number)
        if isinstance(error, RetryableError) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.max_retry_after))
        return wait

    def decide(
        self, attempt_number: int, error: DeliveryError | None, elapsed: float
    ) -> tuple[str, str, float | None]:
        """``(decision, reason, wait)`` after an attempt: ``done``, ``retry`` or ``give up``."""
        if error is None:
            return "done", "delivered", None
        if not error.retryable:
            return "give up", f"{type(error).__name__} is not retryable", None
        if attempt_number >= self.max_attempts:
            return "give up", f"reached max_attempts={self.max_attempts}", None
        wait = self.wait_for(attempt_number, error)
        if elapsed + wait > self.max_elapsed:
            return (
                "give up",
                f"waiting {wait:.2f}s would pass max_elapsed={self.max_elapsed:g}s",
                None,
            )
        # Name what actually set the wait: a Retry-After shorter than the backoff did not.
        honoured = (
            isinstance(error, RetryableError)
            and error.retry_after is not None
            and wait == min(error.retry_after, self.max_retry_after)
        )
        why = "Retry-After" if honoured else "backoff"
        return "retry", f"{type(error).__name__} is retryable; waiting ({why})", wait


def now_http_date(offset: float = 0.0) -> str:
    """An HTTP-date ``offset`` seconds from now (used by tests and the sandbox)."""
    when = datetime.fromtimestamp(time.time() + offset, tz=UTC)
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")
