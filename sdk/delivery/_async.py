"""``AsyncDelivery``: validate, route, check journey rules, map, batch, send with retries; the
full lifecycle of every event (``send``, ``send_many``), or a compact result per event as it
settles, with lifecycles on demand (``stream``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Hashable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

from sdk._errors import DestkitError, IntegrationError
from sdk.connector._destination import Action, AnyMessage, BatchLimits
from sdk.delivery._attempts import deliver
from sdk.delivery._batching import Grouper, Refused, chunks, sized
from sdk.delivery._engine import Engine, Event, SettingsT, event_record
from sdk.delivery._prepare import prepare
from sdk.delivery._results import DeliveryResult, Item, Record, RecordPolicy
from sdk.delivery._settling import results_of
from sdk.delivery._stream import StreamRun, default_window
from sdk.transport._lifecycle import Attempt, ErrorInfo, Lifecycle, Outcome, RetryDecision

__all__ = ["AsyncDelivery"]

#: Events redacted together in one pass (bounds the JSON document that pass builds).
_REDACT_SLICE = 500


class AsyncDelivery(Engine[SettingsT]):
    """Delivers events to one destination, recording a :class:`Lifecycle` for each.

    ``settings`` may be a settings instance or a mapping (validated, with environment
    fallbacks). ``sleep``, ``clock`` (monotonic seconds) and ``transport`` are injectable for
    tests; ``on_update`` is called with a lifecycle every time it changes, so a UI can draw it
    as it fills in.

    With ``rate_limit`` set, no sliding one-second window ever carries more than that many
    requests (see :meth:`RateLimiter.per_second`); each attempt records its wait for it.
    ``rate_limiter`` replaces that in-process limit with another :class:`Limiter` (one shared
    by several processes, ``Queue.rate_limiter``).

    ``http`` picks what carries the requests under the httpx API connectors see: ``"auto"``
    (the default: the lean HTTP/1.1 carrier for :meth:`stream`, httpx for the calls that record
    every lifecycle), ``"httpx"``, ``"direct"``, ``"aiohttp"`` or ``"httpx-aiohttp"`` (see
    :mod:`sdk.delivery._client`).
    """

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
        events = list(events)
        destination = self.destination
        items: list[Item] = []
        # The input events as recorded, redacted a slice at a time: one pass over a slice's
        # JSON decides for all of its events (the same masks as one event at a time).
        for start in range(0, len(events), _REDACT_SLICE):
            part = events[start : start + _REDACT_SLICE]
            records = self.redactor.value([event_record(e) for e in part])
            for offset, (event, record) in enumerate(zip(part, records, strict=True)):
                lifecycle = Lifecycle(
                    destination=destination.name, slug=destination.slug, event=record
                )
                items.append(Item(event, start + offset, lifecycle, keep=True))
        prepared: list[tuple[Action[SettingsT, Any], Item]] = []
        for item in items:
            action = prepare(self, item)
            if action is not None:
                prepared.append((action, item))
        self._record_payloads(prepared)
        grouper = Grouper(self)
        groups: dict[Hashable, tuple[Action[SettingsT, Any], BatchLimits | None, list[Item]]] = {}
        for action, item in prepared:
            limits = grouper.limits(action, item)
            if isinstance(limits, Refused):
                continue
            key = grouper.key(action, item, limits is not None)
            if isinstance(key, Refused):
                continue
            batch_limits = limits if isinstance(limits, BatchLimits) else None
            groups.setdefault(key, (action, batch_limits, []))[2].append(item)
        jobs = []
        for action, batch_limits, group in groups.values():
            if batch_limits is not None:
                for chunk in chunks(sized(self, group, action, batch_limits), batch_limits):
                    jobs.append(deliver(self, action, chunk, batched=len(chunk) > 1))
            else:
                jobs.extend(deliver(self, action, [item], batched=False) for item in group)
        await asyncio.gather(*jobs)
        return [item.lifecycle for item in items if item.lifecycle is not None]

    async def stream(
        self,
        events: Iterable[Event] | AsyncIterable[Event],
        *,
        window: int | None = None,
        record: Record = "failures",
        linger: float = 0.05,
    ) -> AsyncIterator[DeliveryResult]:
        """Deliver events as they are pulled, yielding one :class:`DeliveryResult` per event as
        it settles (not in input order: ``result.index`` is the event's position).

        At most ``window`` events are held at once, between being pulled from ``events`` and
        their result being yielded, so memory is flat in the number of events; by default
        enough for every concurrent request's batch plus one filling. Batching follows the
        action's limits as in :meth:`send_many`; a part-filled batch waits at most ``linger``
        seconds for more events. ``record`` says which events also get a full lifecycle
        (``result.lifecycle``): ``"failures"`` (the default), ``"all"``, ``"none"``, or N for
        every Nth event plus the failures.
        """
        run = self.open_stream(events, window=window, record=record, linger=linger)
        try:
            # Results made one at a time as they are yielded: each is gone once the caller is
            # done with it, rather than waiting in a list with all the others.
            while settled := await run._next_settled():
                for result in results_of(settled):
                    yield result
        finally:
            await run.aclose()

    def open_stream(
        self,
        events: Iterable[Event] | AsyncIterable[Event],
        *,
        window: int | None = None,
        record: Record = "failures",
        linger: float = 0.05,
    ) -> StreamRun:
        """The run behind :meth:`stream`, for callers that take results a batch at a time
        (``await run.next_results()`` until ``[]``, then ``await run.aclose()``)."""
        return StreamRun(
            self,
            events,
            window=window if window is not None else default_window(self),
            record=RecordPolicy(record),
            linger=linger,
        )

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
        item = Item({}, 0, lifecycle, keep=True)
        try:
            ctx = self._context(attempt, [item])
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

    def _record_payloads(self, prepared: list[tuple[Action[SettingsT, Any], Item]]) -> None:
        """Record each prepared event's mapped payload, redacted a slice at a time."""
        for start in range(0, len(prepared), _REDACT_SLICE):
            part = prepared[start : start + _REDACT_SLICE]
            masked = self.redactor.value([a.payload_record(i.payload) for a, i in part])
            for (_, item), payload in zip(part, masked, strict=True):
                lifecycle = item.lifecycle
                assert lifecycle is not None
                lifecycle.payload = payload
                self._add_notes(lifecycle, item.notes)
                self._notify(lifecycle)
