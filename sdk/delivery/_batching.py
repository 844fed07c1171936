"""Batches: grouping prepared events by action and batch key, and cutting them into requests
that respect the action's :class:`BatchLimits` (events and bytes), in order."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from sdk._errors import PayloadTooLarge
from sdk.connector._destination import Action, BatchLimits
from sdk.delivery._engine import Engine, SettingsT, crashed
from sdk.delivery._results import Item

__all__ = ["REFUSED", "Batch", "Grouper", "Refused", "chunks", "size_of", "sized"]


class Refused:
    """What a :class:`Grouper` answers when a connector hook crashed (the event is refused)."""


REFUSED = Refused()
#: ``Action.batch_key`` as not overridden: every payload of the action has the key ``None``.
_DEFAULT_BATCH_KEY = Action.batch_key


class Grouper:
    """Finds each prepared event's batch: its action's limits (``None``: one event per
    request) and its batch key. A crash in either connector hook fails that event only."""

    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine
        self._limits: dict[str, BatchLimits | None] = {}

    def limits(self, action: Action[Any, Any], item: Item) -> BatchLimits | Refused | None:
        """The action's limits, or ``REFUSED`` when ``batch_limits`` crashed (item refused)."""
        name = action.name
        if name in self._limits:
            return self._limits[name]
        engine = self._engine
        try:
            limits = action.batch_limits(engine.settings) if engine.batching else None
        except Exception as exc:  # a connector bug must not lose the other events
            engine._refuse(item, crashed(f"{name}.batch_limits", exc))
            return REFUSED
        self._limits[name] = limits
        return limits

    @staticmethod
    def one_group(action: Action[Any, Any]) -> bool:
        """Whether every payload of ``action`` has the same batch key (``batch_key`` is not
        overridden): one group per action."""
        return type(action).batch_key is _DEFAULT_BATCH_KEY and "batch_key" not in action.__dict__

    def key(self, action: Action[Any, Any], item: Item, batches: bool) -> Hashable | Refused:
        """The group key, or ``REFUSED`` when ``batch_key`` crashed (item refused)."""
        if batches and self.one_group(action):  # not overridden: one group per action
            return (action.name, None)
        try:
            key = (action.name, action.batch_key(item.payload) if batches else id(item))
            hash(key)
        except Exception as exc:  # a connector bug must not lose the other events
            self._engine._refuse(item, crashed(f"{action.name}.batch_key", exc))
            return REFUSED
        return key


def size_of(
    engine: Engine[SettingsT], item: Item, action: Action[SettingsT, Any], limits: BatchLimits
) -> int | None:
    """An item's JSON size (0 without a byte limit); ``None`` when it was refused: too large to
    send even alone, or ``payload_size`` crashed."""
    limit = limits.max_bytes
    if limit is None:
        return 0
    try:
        size = action.payload_size(item.payload)
    except Exception as exc:  # a connector bug must not lose the other events
        engine._refuse(item, crashed(f"{action.name}.payload_size", exc))
        return None
    if size + 2 > limit:  # even alone, as "[payload]"
        engine._refuse(
            item,
            PayloadTooLarge(
                "payload",
                f"{size + 2} bytes (as a batch of one) is over {action.name}'s "
                f"max_bytes={limit}; not sent",
            ),
        )
        return None
    return size


def sized(
    engine: Engine[SettingsT],
    items: list[Item],
    action: Action[SettingsT, Any],
    limits: BatchLimits,
) -> list[tuple[Item, int]]:
    """Items with their JSON size; one too large to send even alone fails here."""
    result: list[tuple[Item, int]] = []
    for item in items:
        size = size_of(engine, item, action, limits)
        if size is not None:
            result.append((item, size))
    return result


def chunks(sized_items: list[tuple[Item, int]], limits: BatchLimits) -> Iterable[list[Item]]:
    """Split into batches that respect both limits, in order. Sizes are exact for a JSON
    array: ``[`` plus each payload followed by ``,`` or ``]``, so ``1 + sum(size + 1)``."""
    batch = Batch(limits)
    for item, item_size in sized_items:
        full = batch.add(item, item_size)
        if full is not None:
            yield full
    if batch.items:
        yield batch.items


class Batch:
    """The batch being filled for one group: :meth:`add` returns the previous batch when the
    new item does not fit in it (by count or bytes), so it goes out whole."""

    __slots__ = ("array", "items", "limits")

    def __init__(self, limits: BatchLimits) -> None:
        self.limits = limits
        self.items: list[Item] = []
        self.array = 1  # "["

    def add(self, item: Item, item_size: int) -> list[Item] | None:
        """Add an item; the batch that is complete without it, if any."""
        limits = self.limits
        done: list[Item] | None = None
        full = len(self.items) >= limits.max_events
        too_big = (
            limits.max_bytes is not None
            and self.items
            and self.array + item_size + 1 > limits.max_bytes
        )
        if full or too_big:
            done = self.items
            self.items, self.array = [], 1
        self.items.append(item)
        self.array += item_size + 1
        return done

    def take(self) -> list[Item]:
        """Empty the batch, returning what it held."""
        items, self.items, self.array = self.items, [], 1
        return items

    @property
    def full(self) -> bool:
        """No further event fits by count."""
        return len(self.items) >= self.limits.max_events
