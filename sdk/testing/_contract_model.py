"""The contract declaration: what a connector declares (:class:`Contract`), one rule
(:class:`Check`), one rule's result (:class:`CheckResult`) and the error a broken rule raises."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from sdk.connector._destination import Destination
from sdk.delivery._runtime import Delivery
from sdk.testing._mockapi import Responder
from sdk.transport._retry import RetryPolicy

__all__ = [
    "CHECK_RETRY",
    "PERSONAS_FIELDS",
    "Check",
    "CheckResult",
    "Contract",
    "ContractViolation",
]

#: A fast policy for checks: real backoff shape, no real waiting (sleep is injected).
CHECK_RETRY = RetryPolicy(max_attempts=4, max_elapsed=600, initial_backoff=0.5, jitter=0.1)
#: The ``context.personas`` fields a request must carry unless the contract declares fewer.
PERSONAS_FIELDS: tuple[str, ...] = ("computation_id", "computation_key", "space_id")
_KNOWN_PERSONAS_FIELDS = frozenset(
    {"computation_class", "computation_id", "computation_key", "namespace", "space_id"}
)


class ContractViolation(AssertionError):
    """A connector broke a contract rule; the message says which and how."""


def _auth_failure(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"message": "Invalid credentials"})


def _auth_forbidden(request: httpx.Request) -> httpx.Response:
    return httpx.Response(403, json={"message": "Forbidden"})


@dataclass
class Contract:
    """What a connector declares so the suite can check it.

    - ``settings``: sample settings (secrets included; ``endpoint`` is optional).
    - ``respond``: the vendor's recorded success answer for a request (may look at the path).
    - ``auth_failure``: the vendor's recorded answer to bad credentials (401 by default);
      plain 401 and 403 answers are always checked as well.
    - ``samples``: extra sample events, beside those generated for the destination's kind.
    - ``count_events``: how many events an HTTP request carries (checks batch limits on the
      wire). Without it the check counts the longest JSON array in each body (a JSON object
      without one is one event); a batching action whose bodies hold no JSON array fails the
      check until the contract declares one.
      ``vendor_batch_limit``: the vendor's documented per-request maximum.
    - ``personas_in_request``: whether the API has room for the step key and
      ``context.personas`` (list APIs identify the list by id instead: say ``False`` and why in
      ``personas_note``).
    - ``personas_fields``: the ``context.personas`` fields whose values must reach the API
      (:data:`PERSONAS_FIELDS` by default); a sequence for every call, or a mapping from the
      call type (``"track"``, ``"identify"``) to a sequence, for an API with room for fewer on
      some calls (a profile update keeps only the key as a trait, say). Calls the mapping
      leaves out use the default.
    """

    destination: Destination[Any]
    settings: Mapping[str, Any]
    respond: Responder | None = None
    auth_failure: Responder = _auth_failure
    samples: Sequence[Mapping[str, Any]] = ()
    count_events: Callable[[httpx.Request], int] | None = None
    vendor_batch_limit: int | None = None
    personas_in_request: bool = True
    personas_note: str = ""
    personas_fields: Sequence[str] | Mapping[str, Sequence[str]] = PERSONAS_FIELDS
    #: Requests that are plumbing rather than delivery (an OAuth token call, a job creation).
    is_auxiliary: Callable[[httpx.Request], bool] = field(default=lambda request: False)

    def required_personas_fields(self, call: str) -> tuple[str, ...]:
        """The ``context.personas`` fields a ``call`` (track, identify) must carry to the API."""
        declared = self.personas_fields
        if isinstance(declared, str):
            fields: tuple[str, ...] = (declared,)
        elif isinstance(declared, Mapping):
            chosen = declared.get(call, PERSONAS_FIELDS)
            fields = (chosen,) if isinstance(chosen, str) else tuple(chosen)
        else:
            fields = tuple(declared)
        unknown = sorted(set(fields) - _KNOWN_PERSONAS_FIELDS)
        if unknown:
            known = ", ".join(sorted(_KNOWN_PERSONAS_FIELDS))
            raise ContractViolation(
                f"personas_fields names {', '.join(unknown)}, not a context.personas field "
                f"(known: {known})"
            )
        return fields

    def delivery(self, **kwargs: Any) -> Delivery[Any]:
        """A delivery with the contract's settings and an instant, recorded sleep."""
        values = dict(self.settings)
        values.setdefault("endpoint", "https://contract.test")
        return Delivery(
            self.destination,
            values,
            retry=kwargs.pop("retry", CHECK_RETRY),
            sleep=lambda seconds: None,
            **kwargs,
        )


@dataclass(frozen=True)
class Check:
    """One contract rule."""

    name: str
    description: str
    run: Callable[[Contract], str | None]


@dataclass(frozen=True)
class CheckResult:
    """The result of one check on one connector: passed, failed (with why) or skipped."""

    connector: str
    check: str
    status: str
    message: str = ""
    seconds: float = 0.0
