"""What a streaming run shares, for :class:`StreamRun` (events) and :class:`ListSyncRun` (a
list sync's users): requests queued for a pool of at most ``concurrency`` sender tasks, each
settled item's compact result queued for the caller, a full record for the items the policy
records from the start, and the caller's side (results taken a batch at a time, what broke the
run raised after what settled before)."""

from __future__ import annotations

import asyncio
import collections
import sys
from collections.abc import Iterator
from typing import Any

from sdk.connector._destination import Action
from sdk.delivery._attempts import deliver
from sdk.delivery._engine import Engine, Event, event_record
from sdk.delivery._results import DeliveryResult, Item, delivered_result
from sdk.delivery._signals import Signal
from sdk.transport._lifecycle import Lifecycle, Outcome

__all__ = ["SettlingRun", "results_of"]

_DELIVERED = Outcome.DELIVERED
#: One queued request: the action, its items, whether it is sent as a batch.
_Job = tuple[Action[Any, Any], list[Item], bool]


class _Delivered:
    """Events of one request delivered without a full record, in order, as the caller will
    take them: their results are made then (``delivered_result``), not when the request
    settles. A result made at once would wait for the caller as an object of its own; made
    when taken, it is gone as soon as the caller is done with it, and the garbage collector,
    which counts and sweeps the objects that live a while, has one fewer per event."""

    __slots__ = ("indices", "message_ids", "tries")

    def __init__(self) -> None:
        self.indices: list[int] = []
        self.message_ids: list[str | None] = []
        self.tries: list[int] = []


def results_of(settled: list[DeliveryResult | _Delivered]) -> Iterator[DeliveryResult]:
    """The results of what :meth:`SettlingRun._next_settled` returned, in order, each made as
    it is reached."""
    for entry in settled:
        if type(entry) is _Delivered:
            yield from map(delivered_result, entry.indices, entry.message_ids, entry.tries)
        else:
            yield entry  # type: ignore[misc]


class SettlingRun:
    """A run whose ``_feed`` task reads its input and launches requests: each is queued in
    ``_jobs`` for the senders (``_tasks``, at most the engine's concurrency; a sender takes
    jobs in order until none is left, so no task is made per request while requests keep
    coming). Each settled item's result goes to ``_results`` (a request's delivered events as
    one :class:`_Delivered` run) and sets ``_ready``.
    :meth:`next_results` returns the results settled since the last call (at least one), or
    ``[]`` at the end."""

    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine
        self._results: collections.deque[DeliveryResult | _Delivered] = collections.deque()
        self._ready = Signal()
        self._room = Signal()
        self._jobs: collections.deque[_Job] = collections.deque()
        self._senders = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._feeder: asyncio.Task[None] | None = None
        self._held = 0  # items read whose result the caller has not taken yet
        #: The reader, stopped by a full window, goes on once at most this many are held
        #: (a subclass sets it below its window, so the reader wakes once per several
        #: results rather than once per result).
        self._room_at = sys.maxsize
        self._fed = False
        self._error: BaseException | None = None
        self._source_error: BaseException | None = None
        #: The most items ever held at once.
        self.peak_held = 0

    async def _feed(self) -> None:
        """Read the input, launch the requests; set ``_fed`` at the end (``_source_error`` when
        reading failed)."""
        raise NotImplementedError

    # -- the caller's side ----------------------------------------------------------------

    async def next_results(self) -> list[DeliveryResult]:
        """The results settled since the last call: at least one, or ``[]`` when every item
        has its result. Raises what broke the run (reading the input, a send), after the
        results settled before it."""
        return list(results_of(await self._next_settled()))

    async def _next_settled(self) -> list[DeliveryResult | _Delivered]:
        """:meth:`next_results` with each run of delivered events left as it was queued:
        :func:`results_of` makes their results as they are iterated (``stream`` yields them
        so, one made as the caller takes the one before)."""
        if self._feeder is None:
            self._feeder = asyncio.create_task(self._feed())
        while not self._results:
            if self._error is not None:  # a send broke (a test's assertion): at once
                error, self._error = self._error, None
                raise error
            if self._fed and not self._tasks:
                if self._source_error is not None:  # after what was read has settled
                    error, self._source_error = self._source_error, None
                    raise error
                return []
            self._ready.clear()
            await self._ready.wait()
        settled = list(self._results)
        self._results.clear()
        count = 0
        for entry in settled:
            count += len(entry.indices) if type(entry) is _Delivered else 1
        held = self._held = self._held - count
        if held <= self._room_at:
            self._room.set()
        return settled

    async def aclose(self) -> None:
        """Stop: cancel what is still reading or sending (a caller that left early)."""
        pending = [t for t in (self._feeder, *self._tasks) if t is not None and not t.done()]
        for task in pending:
            task.cancel()
        self._stopped()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _stopped(self) -> None:
        """What else a run stops when it is closed (timers); nothing by default."""

    # -- records --------------------------------------------------------------------------

    def _recorded_item(self, event: Event, index: int) -> Item:
        """An item recorded in full from the start (the policy's every Nth)."""
        engine = self._engine
        destination = engine.destination
        record = engine.redactor.value(event_record(event))
        lifecycle = Lifecycle(destination=destination.name, slug=destination.slug, event=record)
        return Item(event, index, lifecycle, keep=True)

    def _record_payload(self, action: Action[Any, Any], item: Item) -> None:
        """Add the mapped payload and its notes to a recorded item's lifecycle."""
        engine = self._engine
        assert item.lifecycle is not None
        item.lifecycle.payload = engine.redactor.value(action.payload_record(item.payload))
        engine._add_notes(item.lifecycle, item.notes)
        engine._notify(item.lifecycle)

    # -- requests out and results in ------------------------------------------------------

    def _launch(self, action: Action[Any, Any], items: list[Item], *, batched: bool) -> bool:
        """Queue one request; ``True`` when a sender task was started for it (the caller
        lets it start), ``False`` when a running sender will take it."""
        self._jobs.append((action, items, batched))
        if self._senders >= self._engine._concurrency:
            return False
        self._senders += 1
        task = asyncio.create_task(self._sender())
        self._tasks.add(task)
        task.add_done_callback(self._sent)
        return True

    async def _sender(self) -> None:
        """Send queued requests, oldest first, until none is left."""
        jobs = self._jobs
        send = self._send
        try:
            while jobs:
                action, items, batched = jobs.popleft()
                try:
                    await send(action, items, batched)
                except Exception:  # kept in ``_error`` for the caller: the next job goes on
                    continue
        finally:
            self._senders -= 1

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._ready.set()  # the caller may be waiting for the last send to be gone

    async def _send(self, action: Action[Any, Any], items: list[Item], batched: bool) -> None:
        try:
            await deliver(self._engine, action, items, batched=batched)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self._error = exc
                self._ready.set()
            raise
        # Most events of a request are delivered without a record: they are queued as one
        # run of indices, message ids and tries, whose results are made when the caller takes
        # them (see _Delivered); any other event's result is made here, in its place.
        result = self._engine._result
        out = self._results
        run: _Delivered | None = None
        for item in items:
            if item.lifecycle is None and item.outcome is _DELIVERED:  # most of them
                if run is None:
                    run = _Delivered()
                    out.append(run)
                run.indices.append(item.index)
                run.message_ids.append(item.message_id)
                run.tries.append(item.tries)
            else:
                run = None
                out.append(result(item))
        self._ready.set()

    def _settle(self, item: Item) -> None:
        self._results.append(self._engine._result(item))
        self._ready.set()
