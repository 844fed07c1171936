"""Streaming delivery: events pulled from an (async) iterable with a bounded in-flight window,
prepared, batched per the action's limits and sent; one compact result per event as it
settles. Memory is flat in the number of events: at most ``window`` events are held between
being pulled and their result being taken by the caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Hashable, Iterable
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from sdk.connector._destination import Action, AnyMessage, BatchLimits
from sdk.delivery._batching import Batch, Grouper, Refused, size_of
from sdk.delivery._engine import Engine, Event
from sdk.delivery._fused import lanes_of
from sdk.delivery._prepare import prepare
from sdk.delivery._results import SNAPSHOT_OPTIONS, Item, RecordPolicy
from sdk.delivery._settling import SettlingRun
from sdk.spec._wire import REPLACEMENT, validate_raw

__all__ = ["StreamRun", "default_window"]

_dumps = orjson.dumps

#: Largest default window (events held at once) whatever the batch size.
_WINDOW_CAP = 40_000


def default_window(engine: Engine[Any]) -> int:
    """Room for every concurrent request's batch plus one filling, within a cap: the largest
    batch of the destination's actions times (concurrency + 1), at most ``_WINDOW_CAP`` (or
    four batches when one batch is larger)."""
    largest = 1
    if engine.batching:
        for action in engine.destination.actions:
            try:
                limits = action.batch_limits(engine.settings)
            except Exception:  # reported on the first event it applies to
                continue
            if limits is not None:
                largest = max(largest, limits.max_events)
    concurrency = engine._concurrency
    window = largest * (concurrency + 1)
    return max(min(window, max(_WINDOW_CAP, 4 * largest)), 4 * concurrency)


class _Group:
    __slots__ = ("action", "batch", "key", "timer")

    def __init__(self, action: Action[Any, Any], limits: BatchLimits, key: Hashable) -> None:
        self.action = action
        self.batch = Batch(limits)
        self.key = key
        self.timer: asyncio.TimerHandle | None = None


class StreamRun(SettlingRun):
    """One :meth:`AsyncDelivery.stream` run. :meth:`next_results` returns the results settled
    since the last call (at least one), or ``[]`` at the end."""

    def __init__(
        self,
        engine: Engine[Any],
        events: Iterable[Event] | AsyncIterable[Event],
        *,
        window: int,
        record: RecordPolicy,
        linger: float,
    ) -> None:
        if window < 1:
            raise ValueError(f"window: {window} must be at least 1")
        if linger < 0:
            raise ValueError(f"linger: {linger} must not be negative")
        super().__init__(engine)
        self._events = events
        self._window = window
        self._room_at = window - max(1, window // 4)
        self._policy = record
        #: ``record.full``, or ``None`` when no event is recorded in full from the start
        #: (most runs: no call per event then); ``record.failures``.
        self._full = record.full if record.every else None
        self._keep = record.failures
        self._linger = linger
        self._grouper = Grouper(engine)
        self._groups: dict[Hashable, _Group] = {}
        #: The group of each batched action whose batch key is not its own (one group), by
        #: ``id(action)`` (the group keeps the action alive).
        self._plain: dict[int, _Group] = {}
        self._count = 0
        #: The fused path's lanes by message class (see ``sdk.delivery._fused``), if any.
        self._lanes = lanes_of(engine)

    # -- the caller's side ----------------------------------------------------------------

    def _stopped(self) -> None:
        for group in self._groups.values():
            if group.timer is not None:
                group.timer.cancel()

    # -- pulling and preparing ------------------------------------------------------------

    async def _feed(self) -> None:
        try:
            events = self._events
            take = self._take if self._lanes is None else self._take_fused
            if isinstance(events, AsyncIterable):
                async for event in events:
                    if self._held >= self._window:
                        await self._wait_for_room()
                    if take(event):
                        await asyncio.sleep(0)  # let the request start
            else:
                for event in events:
                    if self._held >= self._window:
                        await self._wait_for_room()
                    if take(event):
                        await asyncio.sleep(0)  # let the request start
            self._flush_all()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._source_error = exc
            self._flush_all()
        finally:
            self._fed = True
            self._ready.set()

    async def _wait_for_room(self) -> None:
        while self._held >= self._window:
            self._flush_all()  # the window is full: what is waiting for company goes now
            self._room.clear()
            await self._room.wait()

    def _take_fused(self, event: Event) -> bool:
        """:meth:`_take` for a run with lanes (``sdk.delivery._fused``): a plain event of a
        lane is validated, written once, checked and added to its batch here; any other
        goes to :meth:`_take`, which says what it always said."""
        if type(event) is not dict:
            return self._take(event)
        full = self._full
        if full is not None and full(self._count):  # recorded in full from the start
            return self._take(event)
        try:
            message = validate_raw(event)
        except ValidationError:  # the general path validates it again and words the error
            return self._take(event)
        lane = self._lanes.get(type(message))  # type: ignore[union-attr]
        if lane is None or message.integrations or message.context.get("personas"):
            return self._take(event, message)
        unless = lane.unless
        if unless:
            extra = message.__pydantic_extra__
            if extra and not unless.isdisjoint(extra):
                return self._take(event, message)
        group = self._plain.get(lane.action_id)
        if group is None:  # the action's first event makes its group, as ever
            return self._take(event, message)
        try:
            payload = lane.write(message)
        except PydanticSerializationError:  # a lone surrogate...: refused there, named
            return self._take(event, message)
        size = len(payload)
        if (  # within both limits, and no NaN, Infinity or U+FFFD: message_to_json's checks
            # (nonfinite_written, replacement_written), inlined: per event (calling them
            # measured 0.15 us an event more, about 2%)
            size > lane.largest
            or (payload.find(b"N") >= 0 and payload.find(b"NaN") >= 0)
            or payload.find(b"Infinity") >= 0
            or (not payload.isascii() and payload.find(REPLACEMENT) >= 0)
        ):
            return self._take(event, message)  # refused there as ever (or a U+FFFD taken)
        index = self._count
        self._count = index + 1
        held = self._held = self._held + 1
        if held > self.peak_held:
            self.peak_held = held
        keep = self._keep
        item = Item(None, index, None, keep=keep)
        item.message_id = message.message_id
        item.action = lane.name
        item.routing = lane.routing
        item.payload = payload
        if keep:  # kept as its JSON for a late record (event_snapshot, inlined)
            try:
                item.snapshot = _dumps(event, option=SNAPSHOT_OPTIONS)[:-1]  # newline cut off
            except TypeError:  # not plain JSON: the event itself is kept
                item.event = event
        batch = group.batch
        items = batch.items
        count = len(items)
        if count and (count >= lane.max_events or batch.array + size + 1 > lane.max_bytes):
            return self._add_sized(group, item, size)  # the batch goes out without it
        items.append(item)  # Batch.add and _add_sized, inlined (per event) where none is cut
        batch.array += size + 1
        if count + 1 >= lane.max_events:  # full by count
            return self._flush(group.key)
        if group.timer is None:
            loop = asyncio.get_running_loop()
            group.timer = loop.call_later(self._linger, self._flush, group.key)
        return False

    def _take(self, event: Event, message: AnyMessage | None = None) -> bool:
        """Prepare one event and put it in its batch (or send it, or settle it); ``True`` when
        a sender task was started (the caller lets it start). ``message``: the event
        validated already (by :meth:`_take_fused`)."""
        index = self._count
        self._count = index + 1
        held = self._held = self._held + 1
        if held > self.peak_held:
            self.peak_held = held
        engine = self._engine
        full = self._full
        if full is not None and full(index):
            item = self._recorded_item(event, index)
        else:
            item = Item(event, index, None, keep=self._keep)
        action = prepare(engine, item, message)
        if action is None:
            self._settle(item)
            return False
        if item.lifecycle is not None:
            self._record_payload(action, item)
        elif not self._keep:  # no record will be made: the event is no longer needed
            item.event = None
        elif type(event) is dict:  # kept as its JSON for a late record (event_snapshot, inlined)
            try:
                item.snapshot = _dumps(event, option=SNAPSHOT_OPTIONS)[:-1]  # newline cut off
                item.event = None
            except TypeError:  # not plain JSON: the event itself is kept
                pass
        group = self._plain.get(id(action))
        if group is not None:  # batched, one group per action (most): found at once
            return self._add(group, item)
        grouper = self._grouper
        limits = grouper.limits(action, item)
        if limits is None:  # one event per request (no batch key to ask for)
            return self._launch(action, [item], batched=False)
        if isinstance(limits, Refused):
            self._settle(item)
            return False
        key = grouper.key(action, item, True)
        if isinstance(key, Refused):
            self._settle(item)
            return False
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(action, limits, key)
            if grouper.one_group(action):
                self._plain[id(action)] = group
        return self._add(group, item)

    def _add(self, group: _Group, item: Item) -> bool:
        """Put a prepared item in its group's batch, sending what is complete; ``True`` when
        a sender task was started."""
        action = group.action
        batch = group.batch
        limit = batch.limits.max_bytes
        if limit is None:
            size = 0
        else:  # size_of, inlined (per event) up to a refusal, which size_of words
            try:
                size = action.payload_size(item.payload)
            except Exception:
                size = limit  # payload_size crashed: size_of says so
            if size + 2 > limit:  # even alone, as "[payload]": too large, or the crash
                size_of(self._engine, item, action, batch.limits)
                self._settle(item)
                return False
        return self._add_sized(group, item, size)

    def _add_sized(self, group: _Group, item: Item, size: int) -> bool:
        """:meth:`_add` once the item's size is known (and within the limit)."""
        action = group.action
        batch = group.batch
        done = batch.add(item, size)
        started = False
        if done is not None:
            if group.timer is not None:
                group.timer.cancel()
                group.timer = None
            started = self._launch(action, done, batched=len(done) > 1)
        if len(batch.items) >= batch.limits.max_events:  # full by count
            started = self._flush(group.key) or started
        elif group.timer is None:
            loop = asyncio.get_running_loop()
            group.timer = loop.call_later(self._linger, self._flush, group.key)
        return started

    # -- batches out ------------------------------------------------------------------------

    def _flush(self, key: Hashable) -> bool:
        """Send what the group's batch holds; ``True`` when a sender task was started."""
        group = self._groups.get(key)
        if group is None:
            return False
        if group.timer is not None:
            group.timer.cancel()
            group.timer = None
        items = group.batch.take()
        if items:
            return self._launch(group.action, items, batched=len(items) > 1)
        return False

    def _flush_all(self) -> None:
        for key in list(self._groups):
            self._flush(key)
