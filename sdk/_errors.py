"""One exception hierarchy for destkit.

Callers catch at the level they care about:

    DestkitError
    ├── InputError                 bad input: one line naming the field and the rule
    │   ├── InvalidEvent           a message breaks the Segment spec
    │   ├── InvalidSettings        a destination's settings break its model
    │   ├── InvalidIdentifier      an identifier cannot be normalised
    │   ├── InvalidJourney         a journey file breaks its schema
    │   ├── UnknownDestination     no connector of that name
    │   └── PayloadTooLarge        a message or batch over its size limit
    ├── SkipEvent                  raised by an action's ``map``: not for this destination
    └── DeliveryError              raised by connectors, understood by the runtime
        ├── RetryableError         try again later (5xx, timeouts, network)
        │   └── RateLimited        try again after ``retry_after`` seconds
        ├── InvalidAuthentication  credentials refused (401/403, expired token)
        ├── PayloadValidationError the destination refused the payload (4xx)
        ├── ListRemovalRefused     a removal aimed at an add-only journey list
        └── IntegrationError       anything else the destination reported

Every message is a single line so a CLI, a log and the TUI can show it as is.
"""

from __future__ import annotations

import copy
from typing import Self

__all__ = [
    "DeliveryError",
    "DestkitError",
    "InputError",
    "IntegrationError",
    "InvalidAuthentication",
    "InvalidEvent",
    "InvalidIdentifier",
    "InvalidJourney",
    "InvalidSettings",
    "ListRemovalRefused",
    "PayloadTooLarge",
    "PayloadValidationError",
    "RateLimited",
    "RetryableError",
    "SkipEvent",
    "UnknownDestination",
]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class DestkitError(Exception):
    """The base of every error destkit raises on purpose."""

    def __init__(self, message: str) -> None:
        self.message = _one_line(message)
        super().__init__(self.message)


class InputError(DestkitError):
    """Bad input, reported as ``<field>: <rule>`` on one line."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = _one_line(rule)
        super().__init__(f"{field}: {self.rule}" if field else self.rule)


class InvalidEvent(InputError):
    """A message breaks the Segment spec (missing id, bad type, too large...)."""


class InvalidSettings(InputError):
    """A destination's settings do not validate against its settings model."""


class InvalidIdentifier(InputError):
    """An identifier (email, phone, mobile ad id...) cannot be normalised."""


class InvalidJourney(InputError):
    """A journey or space file breaks its schema."""


class UnknownDestination(InputError):
    """No connector is registered under the requested name."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        hint = f"; known: {', '.join(sorted(known))}" if known else ""
        super().__init__("destination", f"no connector named {name!r}{hint}")


class PayloadTooLarge(InputError):
    """A message or batch is larger than the limit that applies to it."""


class SkipEvent(DestkitError):
    """Raised by an action's ``map`` for an event it takes by type but does not deliver
    (an audience exit to a Canvas entry, say). The event is recorded as filtered at the
    destination with this reason; no request is made and it is not an error."""


class DeliveryError(DestkitError):
    """An error raised while delivering to a destination.

    ``status`` is the HTTP status that caused it, when there was one.
    """

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)

    def reworded(self, message: str) -> Self:
        """The same error (its class, status and any wait) with another message.

        For a connector that words an error from the vendor's own answer while keeping the
        SDK's classification of its status: ``classify_status(...).reworded(vendor_text)``.
        """
        clone = copy.copy(self)
        DestkitError.__init__(clone, message)
        return clone


class RetryableError(DeliveryError):
    """A transient failure: the runtime tries again with backoff.

    ``retry_after`` is the wait in seconds the destination asked for (a ``503`` with
    ``Retry-After``), when it asked; the runtime waits at least that long (capped).
    """

    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status)


class RateLimited(RetryableError):
    """The destination asked us to slow down (a ``429``); ``retry_after`` is its wait in
    seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, status=status, retry_after=retry_after)


class InvalidAuthentication(DeliveryError):
    """The destination refused the credentials; retrying will not help."""


class PayloadValidationError(DeliveryError):
    """The destination refused the payload itself; retrying will not help."""


class ListRemovalRefused(DeliveryError):
    """A removal was aimed at a journey list, which is add-only."""


class IntegrationError(DeliveryError):
    """Any other failure a connector reports; not retried unless ``retryable``."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__(message, status=status)
