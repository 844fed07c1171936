"""A per-destination rate limit, so a connector never sends faster than its API allows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """A token bucket: ``rate`` requests per second, with bursts of up to ``burst``.

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
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()
        #: Total seconds spent waiting for a token (shown in benchmarks and the lifecycle).
        self.waited = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        async with self._lock:
            self._refill()
            waited = 0.0
            if self._tokens < 1:
                waited = (1 - self._tokens) / self.rate
                await self._sleep(waited)
                self._refill()
                # An injected sleep may not advance the clock: take the token regardless.
                self._tokens = max(self._tokens, 1.0)
            self._tokens -= 1
            self.waited += waited
            return waited
