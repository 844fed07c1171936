"""The checks on how requests go out: retryable statuses are retried (honouring ``Retry-After``)
and others are not, and batches stay within the declared limits."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import httpx

from sdk.connector._settings import load_settings
from sdk.spec._messages import parse_message
from sdk.testing._contract_model import Contract, ContractViolation
from sdk.testing._contract_requests import (
    _count_array_events,
    _delivery_count,
    _delivery_requests,
    _describe_lifecycle,
    _longest_array,
)
from sdk.testing._contract_samples import _accepted_samples, _first_sample
from sdk.testing._mockapi import MockAPI, decoded_body, mock_api
from sdk.transport._lifecycle import Outcome

__all__ = ["NON_RETRYABLE_CASES", "RETRYABLE_CASES", "check_batch_limits", "check_retries"]

#: Statuses the SDK retries (Segment's rule: 408, 423, 429 and 5xx except 501), each answered
#: once before the recorded success; 503 then 429 with ``Retry-After`` is checked on its own.
RETRYABLE_CASES: tuple[int, ...] = (500, 502, 504, 408, 423)
#: Statuses never retried: each must cause exactly one delivery request.
NON_RETRYABLE_CASES: tuple[int, ...] = (400, 404, 422, 501)


def check_retries(contract: Contract) -> str | None:
    """Retryable statuses are retried and honour ``Retry-After``; others are not retried.

    Faults go to delivery requests only (not to an OAuth token call, say), and the requests the
    mock API received are counted: a connector that loops inside ``perform`` is caught even
    when its lifecycle shows one attempt.
    """
    event = _first_sample(contract)

    def is_delivery(request: httpx.Request) -> bool:
        return not contract.is_auxiliary(request)

    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        clean = delivery.send(event)
        per_send = _delivery_count(contract, api)
    if not clean.delivered or per_send == 0:
        raise ContractViolation(
            f"the sample event was not delivered on the recorded success response: "
            f"{_describe_lifecycle(clean)} ({per_send} delivery request(s))"
        )
    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        api.fail_with(503, where=is_delivery)
        api.fail_with(429, headers={"Retry-After": "7"}, where=is_delivery)
        lifecycle = delivery.send(event)
        if not lifecycle.delivered:
            raise ContractViolation(
                f"after 503 then 429 the event was not delivered: {_describe_lifecycle(lifecycle)}"
            )
        if len(lifecycle.attempts) != 3:
            raise ContractViolation(
                f"503 then 429 should take 3 attempts, not {len(lifecycle.attempts)}"
            )
        waited = lifecycle.attempts[2].wait_before_s
        if waited < 7:
            raise ContractViolation(f"Retry-After: 7 was not honoured (waited {waited:.2f}s)")
        _expect_requests(contract, api, 2 + per_send, "503 then 429", per_send)
    for status in RETRYABLE_CASES:
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            api.fail_with(status, json={"message": "try again"}, where=is_delivery)
            lifecycle = delivery.send(event)
            if not lifecycle.delivered or len(lifecycle.attempts) != 2:
                raise ContractViolation(
                    f"HTTP {status} is retryable: one {status} then success should be delivered "
                    f"in 2 attempts, got {_describe_lifecycle(lifecycle)} in "
                    f"{len(lifecycle.attempts)}"
                )
            _expect_requests(contract, api, 1 + per_send, f"HTTP {status} once", per_send)
    for status in NON_RETRYABLE_CASES:
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            api.fail_with(status, times=10, json={"message": "rejected"}, where=is_delivery)
            lifecycle = delivery.send(event)
            if len(lifecycle.attempts) != 1:
                raise ContractViolation(
                    f"HTTP {status} is not retryable but was tried {len(lifecycle.attempts)} times"
                )
            if lifecycle.outcome is not Outcome.FAILED_PERMANENT:
                raise ContractViolation(
                    f"HTTP {status} should fail permanently, got {_describe_lifecycle(lifecycle)}"
                )
            sent = _delivery_count(contract, api)
            if sent != 1:
                raise ContractViolation(
                    f"HTTP {status} is not retryable but the API received {sent} delivery "
                    "requests (a retry inside perform?)"
                )
    return None


def _expect_requests(
    contract: Contract, api: MockAPI, expected: int, what: str, per_send: int
) -> None:
    sent = _delivery_count(contract, api)
    if sent != expected:
        raise ContractViolation(
            f"after {what} the API received {sent} delivery requests, not {expected} "
            f"(one per failed attempt, then the {per_send} of a clean send)"
        )


def check_batch_limits(contract: Contract) -> str | None:
    """Batches never exceed the connector's declared limits (nor the vendor's)."""
    settings = load_settings(
        contract.destination.settings, {**contract.settings, "endpoint": "https://contract.test"}
    )
    batching = [
        (action, limits)
        for action in contract.destination.actions
        if (limits := action.batch_limits(settings)) is not None
    ]
    if not batching:
        return "skipped: no action batches"
    samples = _accepted_samples(contract)
    for action, limits in batching:
        limit = limits.max_events
        if contract.vendor_batch_limit is not None and limit > contract.vendor_batch_limit:
            raise ContractViolation(
                f"action {action.name!r} declares batches of {limit} events but the vendor's "
                f"limit is {contract.vendor_batch_limit}"
            )
        mine = [e for e in samples if contract.destination.action_for(parse_message(e)) is action]
        if not mine:
            continue
        count = min(2 * limit + 1, 2001)
        events = []
        for index in range(count):
            event = json.loads(json.dumps(mine[index % len(mine)]))
            event["messageId"] = f"contract-{index}"
            event["userId"] = f"contract-user-{index}"
            events.append(event)
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            lifecycles = delivery.send_many(events)
            failed = [lc for lc in lifecycles if not lc.delivered]
            if failed:
                raise ContractViolation(
                    f"{len(failed)} of {count} batched events were not delivered: "
                    f"{_describe_lifecycle(failed[0])}"
                )
            attempts = {id(a): a for lc in lifecycles for a in lc.attempts}.values()
            for attempt in attempts:
                if attempt.batch_size > limit:
                    raise ContractViolation(
                        f"a batch of {attempt.batch_size} events exceeds max_events={limit}"
                    )
            requests = _delivery_requests(contract, api)
            minimum = math.ceil(count / limit)
            if len(requests) < minimum:
                raise ContractViolation(
                    f"{count} events went out in {len(requests)} request(s); with "
                    f"max_events={limit} at least {minimum} are needed"
                )
            counts = _event_counts(contract, action.name, requests)
            over = [c for c in counts if c > limit]
            if over:
                raise ContractViolation(
                    f"a request carried {max(over)} events, over max_events={limit}"
                )
            if sum(counts) < count:
                raise ContractViolation(
                    f"requests carried {sum(counts)} events in all, {count} were sent"
                )
            max_bytes = limits.max_bytes
            if max_bytes is not None:
                for request in requests:
                    body = decoded_body(request)
                    size = len(json.dumps(body, separators=(",", ":"))) if body else 0
                    # The envelope around the payloads may add a little; payloads may not.
                    if size > max_bytes * 1.05 + 1024:
                        raise ContractViolation(
                            f"a request body of {size} bytes exceeds max_bytes={max_bytes}"
                        )
    return None


def _event_counts(contract: Contract, action: str, requests: Sequence[httpx.Request]) -> list[int]:
    """Events per request: the contract's ``count_events``, else the longest JSON array."""
    if contract.count_events is not None:
        return [contract.count_events(r) for r in requests]
    bodies = [decoded_body(r) for r in requests]
    if any(not isinstance(b, (list, dict)) for b in bodies) or all(
        _longest_array(b) is None for b in bodies
    ):
        raise ContractViolation(
            f"cannot count the events in action {action!r}'s requests (no JSON array in the "
            "bodies): the Contract must declare count_events"
        )
    return [_count_array_events(r) or 0 for r in requests]
