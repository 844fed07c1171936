"""Sending one batch (or one event) with retries: the attempt loop, a 413 split in halves, and
one run of the action with its errors by payload."""

from __future__ import annotations

import asyncio
from typing import Any

from sdk._errors import DeliveryError, InputError, IntegrationError, RetryableError
from sdk.connector._destination import Action, BatchResult, Context
from sdk.delivery._engine import Engine, SettingsT, crashed
from sdk.delivery._results import Item
from sdk.transport._lifecycle import Attempt, ErrorInfo, Outcome, RetryDecision

__all__ = ["deliver"]


async def deliver(
    engine: Engine[SettingsT], action: Action[SettingsT, Any], items: list[Item], *, batched: bool
) -> None:
    """Deliver ``items`` (one request's worth) under the concurrency limit; every item has its
    outcome when this returns."""
    slots = engine._slots
    if not slots.take():
        await slots.wait()
    try:
        await _attempt_loop(engine, action, items, batched=batched, first_number=1)
    finally:
        slots.release()


async def _attempt_loop(
    engine: Engine[SettingsT],
    action: Action[SettingsT, Any],
    items: list[Item],
    *,
    batched: bool,
    first_number: int,
    spent: float = 0.0,
) -> None:
    clock = engine._clock
    started = clock()
    # The first attempt, in a straight line: most requests are accepted at once.
    attempt = Attempt(number=first_number, batch_size=len(items), wait_before_s=0.0)
    engine._start_attempts(items, attempt)
    errors = await _perform(engine, action, items, attempt, batched=batched)
    if not errors:
        attempt.retry = RetryDecision("done", "delivered")
        _delivered(engine, items)
        return
    await _failed_attempts(
        engine, action, items, attempt, errors, batched=batched, spent=spent, started=started
    )


async def _failed_attempts(
    engine: Engine[SettingsT],
    action: Action[SettingsT, Any],
    items: list[Item],
    attempt: Attempt,
    errors: dict[int, DeliveryError],
    *,
    batched: bool,
    spent: float,
    started: float,
) -> None:
    """The attempt loop after an attempt that failed (in part): split on 413, retry what may
    be retried, settle the rest."""
    pending = items
    number = attempt.number
    wait = 0.0
    clock = engine._clock
    # Seconds of waiting that did not pass on the clock: an injected sleep (tests, a
    # simulated clock) returns at once, yet its waits count against ``max_elapsed``.
    unslept = 0.0

    def elapsed() -> float:
        return spent + clock() - started + unslept

    first = True
    while pending:
        current = pending
        if first:  # the attempt already made
            first = False
        else:
            number += 1
            if wait:
                before = clock()
                await engine._sleep(wait)
                unslept += max(0.0, wait - (clock() - before))
            attempt = Attempt(number=number, batch_size=len(pending), wait_before_s=wait)
            engine._start_attempts(current, attempt)
            errors = await _perform(engine, action, current, attempt, batched=batched)
            if not errors:  # the whole request accepted: one pass
                attempt.retry = RetryDecision("done", "delivered")
                _delivered(engine, current)
                return
        whole = errors.get(-1)
        if whole is not None and whole.status == 413 and len(current) > 1:
            attempt.retry = RetryDecision(
                "split", f"413 for {len(current)} events: sending the batch in two halves"
            )
            half = len(current) // 2
            await asyncio.gather(
                *(
                    _attempt_loop(
                        engine,
                        action,
                        part,
                        batched=len(part) > 1,
                        first_number=number + 1,
                        spent=elapsed(),
                    )
                    for part in (current[:half], current[half:])
                )
            )
            return
        retry_next: list[Item] = []
        retry_errors: list[DeliveryError] = []
        for index, item in enumerate(current):
            error = errors.get(index, whole)
            if error is None:
                engine._finish(item, Outcome.DELIVERED)
            elif not error.retryable:
                engine._finish(item, Outcome.FAILED_PERMANENT, engine._error_info(error))
            else:
                retry_next.append(item)
                retry_errors.append(error)
        if not retry_next:
            failed = [errors.get(i, whole) for i in range(len(current))]
            permanent = [error for error in failed if error is not None]
            if not permanent:
                attempt.retry = RetryDecision("done", "delivered")
            elif len(permanent) == len(current):
                decision, reason, _ = engine.retry.decide(number, permanent[0], elapsed())
                attempt.retry = RetryDecision(decision, reason)
            else:
                attempt.retry = RetryDecision(
                    "done",
                    f"{len(permanent)} of {len(current)} events failed, none retryable",
                )
            pending = []
        else:
            representative = _longest_wait(retry_errors)
            decision, reason, next_wait = engine.retry.decide(number, representative, elapsed())
            if len(retry_next) < len(current):
                reason += f" ({len(retry_next)} of {len(current)} events)"
            attempt.retry = RetryDecision(decision, reason, next_wait)
            if decision == "retry":
                pending, wait = retry_next, next_wait or 0.0
            else:
                for item, error in zip(retry_next, retry_errors, strict=True):
                    engine._finish(item, Outcome.FAILED_RETRYABLE, engine._error_info(error))
                pending = []
        for item in current:
            if item.lifecycle is not None:
                engine._notify(item.lifecycle)


async def _perform(
    engine: Engine[SettingsT],
    action: Action[SettingsT, Any],
    pending: list[Item],
    attempt: Attempt,
    *,
    batched: bool,
) -> dict[int, DeliveryError]:
    """Run the action once; errors by payload index, or under -1 for the whole request.
    The notes the action adds (``ctx.note``, ``BatchResult.note``) are recorded, even when
    the call then fails."""
    ctx: Context[SettingsT] | None = None
    try:
        ctx = engine._context(attempt, pending)
        if batched:
            result = await action.perform_batch(ctx, [item.payload for item in pending])
        else:
            await action.perform(ctx, pending[0].payload)
            result = None
    except DeliveryError as exc:
        attempt.error = engine._error_info(exc)
        return {-1: exc}
    except InputError as exc:
        error = IntegrationError(exc.message)
        attempt.error = engine._error_info(exc)
        return {-1: error}
    except AssertionError:
        raise  # a test's own assertion (respx's unmocked request), not a connector bug
    except Exception as exc:  # a connector bug: permanent, recorded, never a crash
        crash = crashed(action.name, exc)
        attempt.error = engine._error_info(crash)
        return {-1: crash}
    finally:
        if ctx is not None and ctx.notes:
            for item in pending:
                engine._note(item, ctx.notes)
    if isinstance(result, BatchResult):
        for index, texts in result.notes.items():
            if 0 <= index < len(pending):
                engine._note(pending[index], texts)
    if result is None or not isinstance(result, BatchResult) or not result.errors:
        return {}
    first = next(iter(result.errors.values()))
    summary = f"{result.failed} of {len(pending)} events failed; first: {first.message}"
    attempt.error = ErrorInfo(
        type(first).__name__, engine.redactor.text(summary), first.status, first.retryable
    )
    return dict(result.errors)


def _delivered(engine: Engine[SettingsT], items: list[Item]) -> None:
    """Every item of an accepted request delivered (``Engine._finish``, inlined: per event)."""
    delivered = Outcome.DELIVERED
    for item in items:
        item.outcome = delivered
        item.error = None
        lifecycle = item.lifecycle
        if lifecycle is not None:
            lifecycle.finish(delivered, None)
            engine._notify(lifecycle)


def _longest_wait(errors: list[DeliveryError]) -> DeliveryError:
    asked = [e for e in errors if isinstance(e, RetryableError) and e.retry_after is not None]
    if asked:
        return max(asked, key=lambda e: e.retry_after or 0.0)
    return errors[0]
