"""The one place the service calls the SDK's delivery engine: a claimed batch in, one verdict
per job out. The engine makes a single attempt (``max_attempts=1``); waiting between attempts
is the queue's job, so a retry survives a restart and never holds a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sdk.delivery._runtime import AsyncDelivery
from sdk.transport._lifecycle import Lifecycle, Outcome
from sdk.transport._retry import parse_retry_after

__all__ = ["Verdict", "deliver_batch"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one delivery came to: ``delivered``, ``filtered``, ``retry`` or ``dead``, with
    the (redacted) reason or error, and the destination's ``Retry-After`` if it sent one."""

    kind: str
    detail: str = ""
    retry_after: float | None = None


async def deliver_batch(delivery: AsyncDelivery[Any], bodies: list[bytes]) -> list[Verdict]:
    """Deliver the jobs' messages with the engine (batching, rate limit, one attempt)."""
    lifecycles = await delivery.send_many([orjson.loads(body) for body in bodies])
    return [_verdict(lifecycle) for lifecycle in lifecycles]


def _verdict(lifecycle: Lifecycle) -> Verdict:
    outcome = lifecycle.outcome
    if outcome is Outcome.DELIVERED:
        return Verdict("delivered")
    if outcome is Outcome.FILTERED:
        reason = str((lifecycle.routing or {}).get("reason") or "filtered")
        # Counted per reason (a status row, a metric label): the quoted event name the engine
        # adds ('... subscribes to track "Clicked"') would make one per event name, so it goes.
        return Verdict("filtered", reason.split(' "', 1)[0][:120])
    error = lifecycle.error
    detail = f"{error.cls}: {error.message}" if error is not None else str(outcome.value)
    if outcome is Outcome.FAILED_RETRYABLE or (error is not None and error.retryable):
        response = lifecycle.last_response
        retry_after = None
        if response is not None:
            headers = {k.lower(): v for k, v in response.headers.items()}
            retry_after = parse_retry_after(headers.get("retry-after"))
        return Verdict("retry", detail, retry_after)
    return Verdict("dead", detail)
