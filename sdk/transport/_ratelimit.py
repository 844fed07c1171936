"""A per-destination rate limit, so a connector never sends faster than its API allows."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["Limiter", "RateLimiter", "per_second_shape"]


class Limiter(Protocol):
    """What the delivery engine asks of a rate limit: wait until ``tokens`` requests may start.

    :class:`RateLimiter` keeps the limit in one process; a queue shared by several workers
    offers one kept where they all see it (``Queue.rate_limiter``), so the limit holds across
    all of them.
    """

    async def acquire(self, tokens: int = 1) -> float:
        """Wait until ``tokens`` requests may start; returns the seconds waited."""
        ...


def per_second_shape(rate: float) -> tuple[int, float]:
    """``(burst, window)`` of the limit for an API allowing ``rate`` requests per second (see
    :meth:`RateLimiter.per_second`): at most ``burst`` starts within any ``window`` seconds."""
    if rate <= 0:
        raise ValueError("rate: must be positive (requests per second)")
    if rate >= 1:
        return int(rate), 1.0
    return 1, 1 / rate


class RateLimiter:
    """A sliding-window limit: at most ``burst`` requests start within any ``burst / rate``
    seconds, so ``rate`` requests per second in the long run.

    ``burst=1`` spaces requests evenly, ``1 / rate`` apart. ``burst=rate`` (a whole number) lets
    a full second's worth go at once and then waits for the window to slide: either way no
    sliding one-second window ever holds more than ``rate`` requests. (A token bucket with
    ``burst`` tokens does not keep that bound: a full bucket plus a second of refill lets
    ``burst + rate`` requests into one second.)

    ``acquire()`` waits until a request may start. The clock and sleep are injectable so tests
    can check the spacing without waiting for it.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate: must be positive (requests per second)")
        if burst < 1:
            raise ValueError("burst: must be at least 1")
        self.rate = rate
        self.burst = burst
        #: Seconds within which at most ``burst`` requests start.
        self.window = burst / rate
        self._clock = clock
        self._sleep = sleep
        # Start times of the last ``burst`` requests, oldest first.
        self._starts: collections.deque[float] = collections.deque(maxlen=burst)
        # Seconds an injected sleep waited without the clock showing it (a test's sleep that
        # returns at once): they count as passed, so waits do not pile up across calls.
        self._unslept = 0.0
        self._lock = asyncio.Lock()
        #: Total seconds spent waiting (shown in benchmarks and the lifecycle).
        self.waited = 0.0

    @classmethod
    def per_second(
        cls,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> RateLimiter:
        """The limiter for an API allowing ``rate`` requests per second: never more than
        ``rate`` in any sliding one-second window.

        ``rate`` at or above 1 goes in bursts of ``floor(rate)`` per one-second window (a
        fraction of a request per second cannot be sent without a window over the bound);
        below 1, one request per ``1 / rate`` seconds (0.5: one every two seconds).
        """
        if rate >= 1:
            burst = int(rate)
            return cls(float(burst), burst, clock=clock, sleep=sleep)
        return cls(rate, clock=clock, sleep=sleep)

    def _now(self) -> float:
        return self._clock() + self._unslept

    async def acquire(self, tokens: int = 1) -> float:
        """Wait until ``tokens`` requests may start (at most ``burst``: more wait as for
        ``burst``); returns the seconds waited."""
        tokens = min(max(tokens, 1), self.burst)
        async with self._lock:
            now = self._now()
            waited = 0.0
            # The start that must be a window old before these ``tokens`` may start.
            older = len(self._starts) + tokens - self.burst - 1
            if older >= 0:
                ready = self._starts[older] + self.window
                if ready > now:
                    waited = ready - now
                    before = self._clock()
                    await self._sleep(waited)
                    advanced = self._clock() - before
                    if advanced < waited / 2:  # the sleep was simulated: take it as passed
                        self._unslept += waited - advanced
                    # A real sleep may wake a hair early: the start counts as on time.
                    now = max(self._now(), ready)
            self._starts.extend([now] * tokens)
            self.waited += waited
            return waited
