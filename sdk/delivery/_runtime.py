"""The delivery runtime: validate, route, check journey rules, map, batch, send with retries,
and record the lifecycle of every event.

``AsyncDelivery`` is the core; ``Delivery`` is its synchronous twin with the same names and
arguments (called inside a running event loop, a notebook's say, it runs on a worker thread).
One delivery object holds one pooled httpx client, one rate limiter and one redactor for one
destination with one set of settings.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from sdk._errors import (
    DeliveryError,
    DestkitError,
    InputError,
    IntegrationError,
    InvalidEvent,
    ListRemovalRefused,
    PayloadTooLarge,
    RetryableError,
    SkipEvent,
)
from sdk.connector._destination import (
    Action,
    AnyMessage,
    BatchLimits,
    BatchResult,
    Context,
    Destination,
)
from sdk.connector._settings import DestinationSettings, load_settings, secret_values
from sdk.engage._personas import membership_of
from sdk.routing._integrations import route
from sdk.spec._messages import (
    Alias,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    message_to_json,
    parse_message,
)
from sdk.transport._http import DestinationHTTP
from sdk.transport._lifecycle import Attempt, ErrorInfo, Exchange, Lifecycle, Outcome, RetryDecision
from sdk.transport._ratelimit import RateLimiter
from sdk.transport._redaction import Redactor
from sdk.transport._retry import RetryPolicy

__all__ = ["AsyncDelivery", "Delivery"]

SettingsT = TypeVar("SettingsT", bound=DestinationSettings)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Listener = Callable[[Lifecycle], None]
_MESSAGE_CLASSES = (Track, Identify, Page, Screen, Group, Alias)
#: Events redacted together in one pass (bounds the JSON document that pass builds).
_REDACT_SLICE = 500


def _record(event: object) -> dict[str, Any]:
    """The event as its lifecycle records it (before redaction): the wire document."""
    if isinstance(event, Mapping):
        return dict(event)
    if isinstance(event, _MESSAGE_CLASSES):
        return event.to_wire()
    return {}  # a JSON array, a string...: refused by _prepare with one line


class _Item:
    """One event on its way: its lifecycle, its mapped payload and the action's notes on it
    (not yet redacted)."""

    __slots__ = ("lifecycle", "notes", "payload")

    def __init__(self, lifecycle: Lifecycle, payload: Any, notes: Sequence[str] = ()) -> None:
        self.lifecycle = lifecycle
        self.payload = payload
        self.notes = notes


class AsyncDelivery(Generic[SettingsT]):
    """Delivers events to one destination, recording a :class:`Lifecycle` for each.

    ``settings`` may be a settings instance or a mapping (validated, with environment
    fallbacks). ``sleep``, ``clock`` (monotonic seconds) and ``transport`` are injectable for
    tests; ``on_update`` is called with a lifecycle every time it changes, so a UI can draw it
    as it fills in.

    With ``rate_limit`` set, no sliding one-second window ever carries more than that many
    requests (see :meth:`RateLimiter.per_second`); each attempt records its wait for it.
    """

    def __init__(
        self,
        destination: Destination[SettingsT],
        settings: SettingsT | Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        on_update: Listener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 8,
        batching: bool = True,
        clock: Clock = time.monotonic,
    ) -> None:
        self.destination = destination
        if isinstance(settings, destination.settings):
            self.settings: SettingsT = settings
        else:
            values = settings if isinstance(settings, Mapping) else {}
            self.settings = load_settings(destination.settings, values, slug=destination.slug)
        self.retry = retry or destination.retry
        self.redactor = Redactor(secret_values(self.settings))
        self._sleep = sleep
        self._clock = clock
        self._on_update = on_update
        self._client = httpx.AsyncClient(
            transport=transport,
            limits=httpx.Limits(max_connections=max(concurrency, 1) * 2),
            follow_redirects=False,
        )
        self._limiter = (
            RateLimiter.per_second(destination.rate_limit, clock=clock, sleep=sleep)
            if destination.rate_limit
            else None
        )
        self._semaphore = asyncio.Semaphore(max(concurrency, 1))
        self._state: dict[str, Any] = {}
        self.batching = batching

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled HTTP client."""
        await self._client.aclose()

    # -- public calls -------------------------------------------------------------------

    async def send(self, event: AnyMessage | Mapping[str, Any]) -> Lifecycle:
        """Deliver one event and return its lifecycle."""
        return (await self.send_many([event]))[0]

    async def send_many(self, events: Iterable[AnyMessage | Mapping[str, Any]]) -> list[Lifecycle]:
        """Deliver events, batching where the action allows; one lifecycle per event, in order."""
        lifecycles: list[Lifecycle] = []
        groups: dict[tuple[str, Hashable], tuple[Action[SettingsT, Any], list[_Item]]] = {}
        limits_of: dict[str, BatchLimits | None] = {}
        events = list(events)
        # The input events as recorded, redacted a slice at a time: one pass over a slice's
        # JSON decides for all of its events (the same masks as one event at a time).
        records: list[dict[str, Any]] = []
        for start in range(0, len(events), _REDACT_SLICE):
            records.extend(
                self.redactor.value([_record(e) for e in events[start : start + _REDACT_SLICE]])
            )
        prepared_items: list[tuple[Action[SettingsT, Any], _Item]] = []
        for event, record in zip(events, records, strict=True):
            lifecycle, prepared = self._prepare(event, record)
            lifecycles.append(lifecycle)
            if prepared is not None:
                prepared_items.append(prepared)
        self._record_payloads(prepared_items)
        for action, item in prepared_items:
            lifecycle = item.lifecycle
            if action.name not in limits_of:
                try:
                    limits_of[action.name] = (
                        action.batch_limits(self.settings) if self.batching else None
                    )
                except Exception as exc:  # a connector bug must not lose the other events
                    crash = _crashed(f"{action.name}.batch_limits", exc)
                    self._refuse(lifecycle, crash)
                    continue
            batches = limits_of[action.name] is not None
            try:
                key = (action.name, action.batch_key(item.payload) if batches else id(item))
                hash(key)
            except Exception as exc:  # a connector bug must not lose the other events
                crash = _crashed(f"{action.name}.batch_key", exc)
                self._refuse(lifecycle, crash)
                continue
            groups.setdefault(key, (action, []))[1].append(item)
        jobs = []
        for action, items in groups.values():
            limits = limits_of[action.name]
            if limits is not None:
                for chunk in _chunks(self._sized(items, action, limits), limits):
                    jobs.append(self._deliver(action, chunk, batched=len(chunk) > 1))
            else:
                jobs.extend(self._deliver(action, [item], batched=False) for item in items)
        await asyncio.gather(*jobs)
        return lifecycles

    async def test_authentication(self) -> Lifecycle:
        """Run the destination's credentials check once and record it."""
        lifecycle = Lifecycle(
            destination=self.destination.name,
            slug=self.destination.slug,
            event={},
            action="test_authentication",
        )
        test = self.destination.authentication.test
        if test is None:
            lifecycle.finish(
                Outcome.FAILED_PERMANENT,
                ErrorInfo("NotSupported", "this destination has no test_authentication call"),
            )
            return lifecycle
        attempt = Attempt(number=1)
        lifecycle.attempts.append(attempt)
        try:
            ctx = self._context(attempt, [lifecycle])
        except DestkitError as exc:  # headers or base_url crashed: nothing was sent
            attempt.error = self._error_info(exc)
            attempt.retry = RetryDecision("give up", f"{type(exc).__name__} is not retryable")
            lifecycle.finish(Outcome.FAILED_PERMANENT, attempt.error)
            self._notify(lifecycle)
            return lifecycle
        try:
            await test(ctx)
        except DestkitError as exc:
            attempt.error = self._error_info(exc)
            attempt.retry = RetryDecision("give up", "authentication checks are not retried")
            lifecycle.finish(Outcome.FAILED_PERMANENT, attempt.error)
        except Exception as exc:  # a connector bug must not crash the caller
            attempt.error = self._error_info(IntegrationError(f"connector crashed: {exc!r}"))
            lifecycle.finish(Outcome.FAILED_PERMANENT, attempt.error)
        else:
            attempt.retry = RetryDecision("done", "credentials accepted")
            lifecycle.finish(Outcome.DELIVERED)
        self._add_notes(lifecycle, ctx.notes)
        self._notify(lifecycle)
        return lifecycle

    # -- preparation: validate, route, journey rules, map ---------------------------------

    def _prepare(
        self, event: AnyMessage | Mapping[str, Any], record: dict[str, Any]
    ) -> tuple[Lifecycle, tuple[Action[SettingsT, Any], _Item] | None]:
        """Validate, route, apply the journey rules and map one event; ``record`` is the
        event as the lifecycle shows it, already redacted. The payload is recorded (redacted)
        by :meth:`_record_payloads`, for all prepared events at once."""
        destination = self.destination
        lifecycle = Lifecycle(destination=destination.name, slug=destination.slug, event=record)
        try:
            if isinstance(event, Mapping):
                message = parse_message(event)  # validates, and refuses one over 32 KB
            elif isinstance(event, _MESSAGE_CLASSES):
                message = event
                message_to_json(message)  # a message built in Python: size checked here
            else:  # a JSON array, a string...: one line, not a crash
                raise InvalidEvent("message", "must be a JSON object")
        except (InvalidEvent, PayloadTooLarge) as exc:
            return self._refuse(lifecycle, exc), None
        lifecycle.routing = route(message.integrations, destination.name).to_dict()
        if not lifecycle.routing["delivered"]:
            lifecycle.finish(Outcome.FILTERED)
            self._notify(lifecycle)
            return lifecycle, None
        action = destination.action_for(message)
        if action is None:
            what = message.type + (f' "{message.event}"' if isinstance(message, Track) else "")
            lifecycle.routing = {
                "decision": "filtered at destination",
                "delivered": False,
                "reason": f"no action of {destination.name} subscribes to {what}",
            }
            lifecycle.finish(Outcome.FILTERED)
            self._notify(lifecycle)
            return lifecycle, None
        lifecycle.action = action.name
        try:
            # Journey steps are add-only for every kind of destination: a journey never sends
            # Audience Exited (nor KEY: false), so one that arrives is refused, never sent.
            membership = membership_of(message)
            if membership is not None and membership.is_journey and not membership.member:
                raise ListRemovalRefused(
                    f"{membership.key} is a journey step: journeys are add-only, "
                    "so a removal or exit is never sent"
                )
            payload = action.map(message, self.settings)
        except SkipEvent as exc:
            lifecycle.routing = {
                "decision": "filtered at destination",
                "delivered": False,
                "reason": f"{action.name}: {exc.message}",
            }
            lifecycle.finish(Outcome.FILTERED)
            self._notify(lifecycle)
            return lifecycle, None
        except (InputError, DeliveryError) as exc:
            return self._refuse(lifecycle, exc), None
        except Exception as exc:  # a connector bug must not lose the rest of the batch
            crash = _crashed(f"{action.name}.map", exc)
            return self._refuse(lifecycle, crash), None
        try:
            notes = [str(text) for text in action.payload_notes(payload)]
        except Exception as exc:  # a connector bug must not lose the rest of the batch
            crash = _crashed(f"{action.name}.payload_notes", exc)
            return self._refuse(lifecycle, crash), None
        return lifecycle, (action, _Item(lifecycle, payload, notes))

    def _record_payloads(self, prepared: Sequence[tuple[Action[SettingsT, Any], _Item]]) -> None:
        """Record each prepared event's mapped payload, redacted a slice at a time."""
        for start in range(0, len(prepared), _REDACT_SLICE):
            part = prepared[start : start + _REDACT_SLICE]
            masked = self.redactor.value([a.payload_record(i.payload) for a, i in part])
            for (_, item), payload in zip(part, masked, strict=True):
                item.lifecycle.payload = payload
                self._add_notes(item.lifecycle, item.notes)
                self._notify(item.lifecycle)

    def _refuse(self, lifecycle: Lifecycle, error: DestkitError) -> Lifecycle:
        lifecycle.finish(Outcome.FAILED_PERMANENT, self._error_info(error))
        self._notify(lifecycle)
        return lifecycle

    # -- delivery with retries ----------------------------------------------------------

    def _context(self, attempt: Attempt, lifecycles: Sequence[Lifecycle]) -> Context[SettingsT]:
        """The context of one attempt. The destination's ``base_url`` and ``headers`` functions
        run here: a crash in one is raised as an :class:`IntegrationError` naming it."""

        def on_exchange(exchange: Exchange) -> None:
            attempt.exchanges.append(exchange)
            for lifecycle in lifecycles:
                self._notify(lifecycle)

        def on_rate_limit_wait(seconds: float) -> None:
            attempt.rate_limit_wait_s += seconds

        settings = self.settings
        base_url = self._connector_call("base_url", self.destination.base_url_for, settings)
        headers = self._connector_call("headers", self.destination.headers_for, settings)
        http = DestinationHTTP(
            self._client,
            base_url=base_url,
            redactor=self.redactor,
            default_headers=headers,
            rate_limiter=self._limiter,
            timeout=settings.timeout,
            on_exchange=on_exchange,
            on_rate_limit_wait=on_rate_limit_wait,
        )
        return Context(self.destination, settings, http, self.redactor, self._state)

    def _connector_call(self, what: str, call: Callable[[SettingsT], T], settings: SettingsT) -> T:
        try:
            return call(settings)
        except DestkitError:
            raise  # raised on purpose (InvalidSettings...): its message is meant to be read
        except Exception as exc:
            # These functions handle credentials: their exception text may quote one in a form
            # the redactor cannot know (a slice, a decoded value), so only its class is shown.
            raise IntegrationError(
                f"{self.destination.slug}: the destination's {what} function crashed "
                f"({type(exc).__name__}); nothing was sent"
            ) from None

    async def _deliver(
        self, action: Action[SettingsT, Any], items: list[_Item], *, batched: bool
    ) -> None:
        async with self._semaphore:
            await self._attempt_loop(action, items, batched=batched, first_number=1)

    async def _attempt_loop(
        self,
        action: Action[SettingsT, Any],
        items: list[_Item],
        *,
        batched: bool,
        first_number: int,
        spent: float = 0.0,
    ) -> None:
        pending = items
        number = first_number - 1
        wait = 0.0
        started = self._clock()
        # Seconds of waiting that did not pass on the clock: an injected sleep (tests, a
        # simulated clock) returns at once, yet its waits count against ``max_elapsed``.
        unslept = 0.0

        def elapsed() -> float:
            return spent + self._clock() - started + unslept

        while pending:
            number += 1
            if wait:
                before = self._clock()
                await self._sleep(wait)
                unslept += max(0.0, wait - (self._clock() - before))
            attempt = Attempt(number=number, batch_size=len(pending), wait_before_s=wait)
            lifecycles = [item.lifecycle for item in pending]
            for lifecycle in lifecycles:
                lifecycle.attempts.append(attempt)
                self._notify(lifecycle)
            errors = await self._perform(action, pending, attempt, lifecycles, batched=batched)
            whole = errors.get(-1)
            if whole is not None and whole.status == 413 and len(pending) > 1:
                attempt.retry = RetryDecision(
                    "split", f"413 for {len(pending)} events: sending the batch in two halves"
                )
                half = len(pending) // 2
                await asyncio.gather(
                    *(
                        self._attempt_loop(
                            action,
                            part,
                            batched=len(part) > 1,
                            first_number=number + 1,
                            spent=elapsed(),
                        )
                        for part in (pending[:half], pending[half:])
                    )
                )
                return
            retry_next: list[_Item] = []
            retry_errors: list[DeliveryError] = []
            for index, item in enumerate(pending):
                error = errors.get(index, whole)
                if error is None:
                    item.lifecycle.finish(Outcome.DELIVERED)
                elif not error.retryable:
                    item.lifecycle.finish(Outcome.FAILED_PERMANENT, self._error_info(error))
                else:
                    retry_next.append(item)
                    retry_errors.append(error)
            if not retry_next:
                failed = [errors.get(i, whole) for i in range(len(pending))]
                permanent = [error for error in failed if error is not None]
                if not permanent:
                    attempt.retry = RetryDecision("done", "delivered")
                elif len(permanent) == len(pending):
                    decision, reason, _ = self.retry.decide(number, permanent[0], elapsed())
                    attempt.retry = RetryDecision(decision, reason)
                else:
                    attempt.retry = RetryDecision(
                        "done",
                        f"{len(permanent)} of {len(pending)} events failed, none retryable",
                    )
                pending = []
            else:
                representative = _longest_wait(retry_errors)
                decision, reason, next_wait = self.retry.decide(number, representative, elapsed())
                if len(retry_next) < len(pending):
                    reason += f" ({len(retry_next)} of {len(pending)} events)"
                attempt.retry = RetryDecision(decision, reason, next_wait)
                if decision == "retry":
                    pending, wait = retry_next, next_wait or 0.0
                else:
                    for item, error in zip(retry_next, retry_errors, strict=True):
                        item.lifecycle.finish(Outcome.FAILED_RETRYABLE, self._error_info(error))
                    pending = []
            for lifecycle in lifecycles:
                self._notify(lifecycle)

    async def _perform(
        self,
        action: Action[SettingsT, Any],
        pending: list[_Item],
        attempt: Attempt,
        lifecycles: list[Lifecycle],
        *,
        batched: bool,
    ) -> dict[int, DeliveryError]:
        """Run the action once; errors by payload index, or under -1 for the whole request.
        The notes the action adds (``ctx.note``, ``BatchResult.note``) are recorded, even when
        the call then fails."""
        ctx: Context[SettingsT] | None = None
        try:
            ctx = self._context(attempt, lifecycles)
            if batched:
                result = await action.perform_batch(ctx, [item.payload for item in pending])
            else:
                await action.perform(ctx, pending[0].payload)
                result = None
        except DeliveryError as exc:
            attempt.error = self._error_info(exc)
            return {-1: exc}
        except InputError as exc:
            error = IntegrationError(exc.message)
            attempt.error = self._error_info(exc)
            return {-1: error}
        except AssertionError:
            raise  # a test's own assertion (respx's unmocked request), not a connector bug
        except Exception as exc:  # a connector bug: permanent, recorded, never a crash
            crash = _crashed(action.name, exc)
            attempt.error = self._error_info(crash)
            return {-1: crash}
        finally:
            if ctx is not None:
                for lifecycle in lifecycles:
                    self._add_notes(lifecycle, ctx.notes)
        if isinstance(result, BatchResult):
            for index, texts in result.notes.items():
                if 0 <= index < len(pending):
                    self._add_notes(pending[index].lifecycle, texts)
        if result is None or not isinstance(result, BatchResult) or not result.errors:
            return {}
        first = next(iter(result.errors.values()))
        summary = f"{result.failed} of {len(pending)} events failed; first: {first.message}"
        attempt.error = ErrorInfo(
            type(first).__name__, self.redactor.text(summary), first.status, first.retryable
        )
        return dict(result.errors)

    # -- helpers ------------------------------------------------------------------------

    def _sized(
        self, items: list[_Item], action: Action[SettingsT, Any], limits: BatchLimits
    ) -> list[tuple[_Item, int]]:
        """Items with their JSON size; one too large to send even alone fails here."""
        limit = limits.max_bytes
        if limit is None:
            return [(item, 0) for item in items]
        sized: list[tuple[_Item, int]] = []
        for item in items:
            try:
                size = action.payload_size(item.payload)
            except Exception as exc:  # a connector bug must not lose the other events
                crash = _crashed(f"{action.name}.payload_size", exc)
                self._refuse(item.lifecycle, crash)
                continue
            if size + 2 > limit:  # even alone, as "[payload]"
                self._refuse(
                    item.lifecycle,
                    PayloadTooLarge(
                        "payload",
                        f"{size + 2} bytes (as a batch of one) is over {action.name}'s "
                        f"max_bytes={limit}; not sent",
                    ),
                )
                continue
            sized.append((item, size))
        return sized

    def _add_notes(self, lifecycle: Lifecycle, texts: Iterable[str]) -> None:
        """Record a connector's notes on an event, redacted (never a secret)."""
        for text in texts:
            lifecycle.add_note(self.redactor.text(str(text)))

    def _error_info(self, error: BaseException) -> ErrorInfo:
        message = error.message if isinstance(error, DestkitError) else str(error)
        return ErrorInfo.of(error, self.redactor.text(message))

    def _notify(self, lifecycle: Lifecycle) -> None:
        if self._on_update is not None:
            self._on_update(lifecycle)


def _crashed(what: str, exc: Exception) -> IntegrationError:
    """A connector hook (``map``, ``batch_key``, ``perform``...) raised where it should not: a
    permanent failure of the events it was for, never a crash of the whole delivery."""
    return IntegrationError(f"{what} crashed: {type(exc).__name__}: {exc}")


def _longest_wait(errors: list[DeliveryError]) -> DeliveryError:
    asked = [e for e in errors if isinstance(e, RetryableError) and e.retry_after is not None]
    if asked:
        return max(asked, key=lambda e: e.retry_after or 0.0)
    return errors[0]


def _chunks(sized: list[tuple[_Item, int]], limits: BatchLimits) -> Iterable[list[_Item]]:
    """Split into batches that respect both limits, in order. Sizes are exact for a JSON
    array: ``[`` plus each payload followed by ``,`` or ``]``, so ``1 + sum(size + 1)``."""
    chunk: list[_Item] = []
    array = 1  # "["
    for item, item_size in sized:
        full = len(chunk) >= limits.max_events
        too_big = (
            limits.max_bytes is not None and chunk and array + item_size + 1 > limits.max_bytes
        )
        if full or too_big:
            yield chunk
            chunk, array = [], 1
        chunk.append(item)
        array += item_size + 1
    if chunk:
        yield chunk


class Delivery(Generic[SettingsT]):
    """The synchronous twin of :class:`AsyncDelivery`: same names, same arguments.

    It runs its own event loop. Called from a thread where an event loop is already running (a
    Jupyter notebook, an async web handler), it runs that loop on a worker thread and blocks
    until the call is done, rather than refusing.
    """

    def __init__(
        self,
        destination: Destination[SettingsT],
        settings: SettingsT | Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        on_update: Listener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 8,
        batching: bool = True,
        clock: Clock = time.monotonic,
    ) -> None:
        self._runner = asyncio.Runner()
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        async_sleep: Sleep = asyncio.sleep
        if sleep is not None:
            blocking = sleep

            async def async_sleep(seconds: float) -> None:
                blocking(seconds)

        async def build() -> AsyncDelivery[SettingsT]:
            return AsyncDelivery(
                destination,
                settings,
                retry=retry,
                sleep=async_sleep,
                on_update=on_update,
                transport=transport,
                concurrency=concurrency,
                batching=batching,
                clock=clock,
            )

        try:
            self._async = self._run(build())
        except BaseException:
            self._shutdown()
            raise
        self.destination = destination
        self.settings = self._async.settings

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the private loop: here, or on the worker thread when this thread already
        runs an event loop (``asyncio.Runner.run`` refuses to nest)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if self._worker is None:
                return self._runner.run(coroutine)
        if self._worker is None:
            # One worker, kept: the loop, and the pooled connections bound to it, stay on it.
            self._worker = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="destkit-delivery"
            )
        return self._worker.submit(self._runner.run, coroutine).result()

    def _shutdown(self) -> None:
        try:
            if self._worker is not None:
                self._worker.submit(self._runner.close).result()
            else:
                self._runner.close()
        finally:
            if self._worker is not None:
                self._worker.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled HTTP client and the private event loop."""
        try:
            self._run(self._async.aclose())
        finally:
            self._shutdown()

    def send(self, event: AnyMessage | Mapping[str, Any]) -> Lifecycle:
        """Deliver one event and return its lifecycle."""
        return self._run(self._async.send(event))

    def send_many(self, events: Iterable[AnyMessage | Mapping[str, Any]]) -> list[Lifecycle]:
        """Deliver events, batching where the action allows; one lifecycle per event."""
        return self._run(self._async.send_many(list(events)))

    def test_authentication(self) -> Lifecycle:
        """Run the destination's credentials check once and record it."""
        return self._run(self._async.test_authentication())
