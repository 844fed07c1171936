"""The engine's two small synchronisation primitives, cheaper than asyncio's on a per-event
path: :class:`Slots` (the concurrency limit: a counter, and a future only for a request that
has to wait) and :class:`Signal` (a wake-up for the one task that waits on it)."""

from __future__ import annotations

import asyncio
import collections

__all__ = ["Signal", "Slots"]


class Slots:
    """At most ``size`` holders at once, first come first served. :meth:`take` is synchronous
    when a slot is free and nobody waits (the common case); otherwise :meth:`wait` queues a
    future, and :meth:`release` hands its slot straight to the oldest waiter."""

    __slots__ = ("_waiters", "free")

    def __init__(self, size: int) -> None:
        #: Slots nobody holds.
        self.free = size
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def take(self) -> bool:
        """Take a slot without waiting; ``False`` when :meth:`wait` must be awaited instead."""
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait for a slot (handed over by :meth:`release`), in arrival order."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot, then cancelled
                self.release()
            raise

    def release(self) -> None:
        """Give a slot back: to the oldest live waiter, else to the free count."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


class Signal:
    """A flag one task waits on (``asyncio.Event`` for a single waiter, without its
    per-wait bookkeeping): :meth:`set` wakes the waiter or is remembered until it waits."""

    __slots__ = ("_flag", "_waiter")

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        """Set the flag, waking the waiter if there is one."""
        self._flag = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Clear the flag."""
        self._flag = False

    async def wait(self) -> None:
        """Return once the flag is set (at once when it is)."""
        if self._flag:
            return
        waiter = self._waiter
        if waiter is None or waiter.done():
            waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            if self._waiter is waiter:
                self._waiter = None
