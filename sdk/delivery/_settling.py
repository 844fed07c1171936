"""The caller's side of a streaming run, shared by :class:`StreamRun` (events) and
:class:`ListSyncRun` (a list sync's users): results settled a batch at a time and taken by the
caller, with what broke the run raised after what settled before it."""

from __future__ import annotations

import asyncio
import collections

from sdk.delivery._results import DeliveryResult

__all__ = ["SettlingRun"]


class SettlingRun:
    """A run whose ``_feed`` task reads its input and starts sends (``_tasks``); each settled
    item's result goes to ``_results`` and sets ``_ready``. :meth:`next_results` returns the
    results settled since the last call (at least one), or ``[]`` at the end."""

    def __init__(self) -> None:
        self._results: collections.deque[DeliveryResult] = collections.deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._feeder: asyncio.Task[None] | None = None
        self._held = 0  # items read whose result the caller has not taken yet
        self._fed = False
        self._error: BaseException | None = None
        self._source_error: BaseException | None = None
        #: The most items ever held at once.
        self.peak_held = 0

    async def _feed(self) -> None:
        """Read the input, start the sends; set ``_fed`` at the end (``_source_error`` when
        reading failed)."""
        raise NotImplementedError

    async def next_results(self) -> list[DeliveryResult]:
        """The results settled since the last call: at least one, or ``[]`` when every item
        has its result. Raises what broke the run (reading the input, a send), after the
        results settled before it."""
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
        results = list(self._results)
        self._results.clear()
        self._held -= len(results)
        self._room.set()
        return results

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
