"""Bulk list sync: the users of one audience delivered to one list connector, doing per user
only what differs per user.

Every user of a list sync becomes the same event (the audience's identify, or its exit) but
for its ids and traits: one space, one audience, one membership, one routing decision, one
action, one list. :class:`ListSyncRun` decides all of that once, from the audience's template
event validated and routed through the normal path, and then per user only reads the user's
identifiers (:func:`sdk.engage.identifiers_of`), lets the connector build its record
(:meth:`ListAction.member`, which the per-event ``map`` uses too) and adds it to the current
chunk, sent with the normal attempts, retries and rate limit (:func:`deliver`).

A user whose line the fast path cannot vouch for (an id that is not text, a line large enough
to approach Segment's 32 KB limit, a value read by the fallback JSON parser), every user when
the template is not simply delivered by a list action (filtered, refused, a ``subscribe:``
condition), and every user whose full lifecycle the ``record`` policy asks for from the start,
goes through the per-event preparation instead: the same outcome, error and record as
:meth:`AsyncDelivery.stream` gives. Identifiers left out are counted per note (field and rule)
in :attr:`ListSyncRun.notes`, and kept on the user's record when one is built.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from sdk._errors import DeliveryError, InputError, SkipEvent
from sdk.connector._destination import Action, BatchLimits
from sdk.connector._lists import _new_user
from sdk.delivery._batching import Batch, Grouper, Refused, size_of
from sdk.delivery._bulk_plan import list_plan
from sdk.delivery._engine import Engine, crashed
from sdk.delivery._prepare import prepare
from sdk.delivery._results import Item, Record, RecordPolicy
from sdk.delivery._settling import SettlingRun
from sdk.delivery._stream import default_window
from sdk.engage._identifiers import identifiers_of
from sdk.spec._messages import (
    message_ids,
)

__all__ = ["ListSyncRun", "UserRow"]

#: One user: ``(user_id, anonymous_id, traits, line_bytes)``. ``line_bytes`` is the size of the
#: JSON text the user was read from, or -1 when the fast path must not vouch for it (read by a
#: parser other than orjson: a NaN, a very long integer...).
UserRow = tuple[str | None, str | None, dict[str, Any], int]

#: Users prepared between two turns of the event loop (requests in flight keep moving).
_TURN = 500


class ListSyncRun(SettlingRun):
    """One bulk list sync over ``users`` (:data:`UserRow`), each the identify event
    ``template`` describes (the audience's event for a placeholder user, wire form) with the
    user's ids and traits, and ``traits[key]`` the template's membership.

    :meth:`next_results` returns the results settled since the last call (one
    :class:`DeliveryResult` per user), ``[]`` at the end. At most ``in_flight`` chunks are
    being sent at once and at most ``in_flight + 2`` chunks of users are held, so memory is flat
    in the number of users. ``record`` is :meth:`AsyncDelivery.stream`'s policy.
    """

    def __init__(
        self,
        engine: Engine[Any],
        template: Mapping[str, Any],
        key: str,
        users: Iterable[UserRow],
        *,
        record: Record = "failures",
        in_flight: int = 4,
    ) -> None:
        if in_flight < 1:
            raise ValueError(f"in_flight: {in_flight} must be at least 1")
        super().__init__(engine)
        self._users = users
        self._key = key
        self._base = {name: value for name, value in template.items() if name != "messageId"}
        traits = template.get("traits")
        self._membership = traits.get(key, True) if isinstance(traits, Mapping) else True
        self._policy = RecordPolicy(record)
        self._every = self._policy.every
        self._keep = self._policy.failures
        #: The fast path's chunk being filled (a list action without a byte limit).
        self._chunk: list[Item] = []
        self._in_flight = in_flight
        self._plan = list_plan(engine, template)
        if self._plan is not None:
            self._window = self._plan.limits.max_events * (in_flight + 2)
        else:  # every user prepared in full: as stream() holds them
            self._window = default_window(engine)
        self._grouper = Grouper(engine)
        self._batches: dict[Hashable, tuple[Action[Any, Any], Batch]] = {}
        #: Identifiers left out, by note (``field: left out of the list upload: rule``).
        self.notes: collections.Counter[str] = collections.Counter()
        #: Users that went through the per-event preparation rather than the fast path.
        self.prepared_in_full = 0

    # -- reading users ----------------------------------------------------------------------

    async def _feed(self) -> None:
        try:
            for index, row in enumerate(self._users):
                while self._held >= self._window:
                    if not self._tasks:  # nothing in flight will make room: send what waits
                        await self._flush_all()
                    self._room.clear()
                    await self._room.wait()
                self._held += 1
                if self._held > self.peak_held:
                    self.peak_held = self._held
                self._take(index, row)
                if index % _TURN == _TURN - 1:
                    await asyncio.sleep(0)
            await self._flush_all()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._source_error = exc
            await self._flush_all()
        finally:
            self._fed = True
            self._ready.set()

    def _event(self, row: UserRow) -> dict[str, Any]:
        """The user's event, as ``destkit sync`` has always built it (wire form)."""
        user_id, anonymous_id, traits, _ = row
        event = dict(self._base)
        if user_id is not None:
            event["userId"] = user_id
        else:
            event.pop("userId", None)
        if anonymous_id is not None:
            event["anonymousId"] = anonymous_id
        traits[self._key] = self._membership
        event["traits"] = traits
        return event

    def _take(self, index: int, row: UserRow) -> None:
        plan = self._plan
        user_id, anonymous_id, traits, size = row
        if (
            plan is None
            or not 0 <= size <= plan.budget
            or not (user_id is None or type(user_id) is str)
            or not (anonymous_id is None or type(anonymous_id) is str)
            or not (user_id or anonymous_id)
            or (self._every and index % self._every == 0)
        ):
            self._take_in_full(index, row)
            return
        engine = self._engine
        keep = self._keep
        traits[self._key] = self._membership
        item = Item(self._event(row) if keep else None, index, None, keep=keep)
        message_id = item.message_id = message_ids.next()
        action = plan.action
        item.routing = plan.routing
        item.action = plan.action_name
        properties, context_traits = plan.roots
        found = identifiers_of(
            user_id, anonymous_id, (traits, properties, context_traits), plan.context
        )
        user = _new_user(found, found.get("country") or plan.country)
        try:
            member = action.member(user, plan.target, plan.settings, message_id)
            notes = action.payload_notes(member) if member.skipped or plan.own_notes else ()
        except SkipEvent as exc:
            engine._filter_at_destination(item, f"{action.name}: {exc.message}")
            self._settle(item)
            return
        except (InputError, DeliveryError) as exc:
            engine._refuse(item, exc)
            self._settle(item)
            return
        except Exception as exc:  # a connector bug must not lose the other users
            engine._refuse(item, crashed(f"{action.name}.map", exc))
            self._settle(item)
            return
        item.payload = member
        if notes:
            texts = [str(text) for text in notes]
            self.notes.update(texts)
            if keep:
                item.notes = [*item.notes, *texts]
        if plan.limits.max_bytes is not None:
            self._add(action, plan.limits, plan.batch, item)
            return
        chunk = self._chunk  # counted by users only: no sizes to add up
        chunk.append(item)
        if len(chunk) >= plan.limits.max_events:
            self._chunk = []
            self._launch(action, chunk, batched=len(chunk) > 1)

    def _take_in_full(self, index: int, row: UserRow) -> None:
        """The per-event path, as :meth:`AsyncDelivery.stream` prepares an event."""
        self.prepared_in_full += 1
        engine = self._engine
        event = self._event(row)
        policy = self._policy
        if policy.full(index):
            item = self._recorded_item(event, index)
        else:
            item = Item(event, index, None, keep=policy.failures)
        action = prepare(engine, item)
        if action is None:
            self._settle(item)
            return
        # prepare() called payload_notes already: had it crashed, the user would be refused.
        self.notes.update(str(text) for text in action.payload_notes(item.payload))
        if item.lifecycle is not None:
            self._record_payload(action, item)
        limits = self._grouper.limits(action, item)
        if isinstance(limits, Refused):
            self._settle(item)
            return
        if limits is None:
            self._launch(action, [item], batched=False)
            return
        key = self._grouper.key(action, item, True)
        if isinstance(key, Refused):
            self._settle(item)
            return
        self._add(action, limits, key, item)

    # -- chunks out -----------------------------------------------------------------------

    def _add(
        self, action: Action[Any, Any], limits: BatchLimits, key: Hashable, item: Item
    ) -> None:
        size = 0  # without a byte limit, sizes are not counted
        if limits.max_bytes is not None:
            counted = size_of(self._engine, item, action, limits)
            if counted is None:
                self._settle(item)
                return
            size = counted
        entry = self._batches.get(key)
        if entry is None:
            entry = self._batches[key] = (action, Batch(limits))
        batch = entry[1]
        done = batch.add(item, size)
        if done is not None:
            self._launch(action, done, batched=len(done) > 1)
        if batch.full:
            items = batch.take()
            self._launch(action, items, batched=len(items) > 1)

    async def _flush_all(self) -> None:
        """Send what is waiting in every chunk (the users are all read, or reading broke)."""
        if self._chunk and self._plan is not None:
            chunk, self._chunk = self._chunk, []
            await self._launch_and_yield(self._plan.action, chunk)
        for action, batch in self._batches.values():
            if batch.items:
                await self._launch_and_yield(action, batch.take())

    async def _launch_and_yield(self, action: Action[Any, Any], items: list[Item]) -> None:
        self._launch(action, items, batched=len(items) > 1)
        await asyncio.sleep(0)
