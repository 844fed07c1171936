"""The one place the service calls the SDK's delivery engine: a claimed batch in, one verdict
per job out. The engine makes a single attempt (``max_attempts=1``); waiting between attempts
is the queue's job, so a retry survives a restart and never holds a worker.

The engine's bulk path (``stream`` with ``record="failures"``) is used: a delivered event costs
a compact result, and only a failure gets its full (redacted) record, which carries the error
and the destination's ``Retry-After``. The engine validates each event again (its input is a
JSON mapping, the queue's stored wire bytes decoded once): it maps and routes validated
messages only, and the stored body is what ingest stamped (``receivedAt``, ``timestamp``...),
not the message object ingest validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sdk.delivery._results import DeliveryResult
from sdk.delivery._runtime import AsyncDelivery
from sdk.transport._lifecycle import Outcome
from sdk.transport._retry import parse_retry_after

__all__ = ["Verdict", "deliver_batch"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one delivery came to: ``delivered``, ``filtered``, ``retry`` or ``dead``, with
    the (redacted) reason or error, and the destination's ``Retry-After`` if it sent one."""

    kind: str
    detail: str = ""
    retry_after: float | None = None


_DELIVERED = Verdict("delivered")


async def deliver_batch(delivery: AsyncDelivery[Any], bodies: list[bytes]) -> list[Verdict]:
    """Deliver the jobs' messages with the engine (batching, rate limit, one attempt); one
    verdict per body, in order."""
    if not bodies:
        return []
    events = [orjson.loads(body) for body in bodies]
    verdicts: list[Verdict | None] = [None] * len(bodies)
    # The whole claimed batch is one window and nothing lingers: every event is in hand.
    async for result in delivery.stream(events, window=len(events), record="failures", linger=0.0):
        verdicts[result.index] = _of_result(result)
    missing = [i for i, verdict in enumerate(verdicts) if verdict is None]
    if missing:  # the engine yields one result per event: a bug if not, and never a loss
        raise RuntimeError(f"the engine gave no result for {len(missing)} of the batch's events")
    return [verdict for verdict in verdicts if verdict is not None]


def _of_result(result: DeliveryResult) -> Verdict:
    outcome = result.outcome
    if outcome is Outcome.DELIVERED:
        return _DELIVERED
    if outcome is Outcome.FILTERED:
        return _filtered(result.reason or "filtered")
    error = result.error
    detail = f"{error.cls}: {error.message}" if error is not None else str(outcome.value)
    if not (outcome is Outcome.FAILED_RETRYABLE or (error is not None and error.retryable)):
        return Verdict("dead", detail)
    # A failure is recorded in full with record="failures": its last answer's Retry-After.
    retry_after = None
    response = None if result.lifecycle is None else result.lifecycle.last_response
    if response is not None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        retry_after = parse_retry_after(headers.get("retry-after"))
    return Verdict("retry", detail, retry_after)


def _filtered(reason: str) -> Verdict:
    # Counted per reason (a status row, a metric label): the quoted event name the engine adds
    # ('... subscribes to track "Clicked"') would make one per event name, so it goes.
    return Verdict("filtered", reason.split(' "', 1)[0][:120])
