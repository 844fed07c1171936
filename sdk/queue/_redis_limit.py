"""A destination's rate limit kept in Redis, so it holds across every worker on the queue (the
in-process :class:`~sdk.transport.RateLimiter` holds within one process only)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError

from sdk._errors import RetryableError
from sdk.queue._redis_scripts import RATE
from sdk.transport._ratelimit import per_second_shape

__all__ = ["RedisRateLimiter"]


class RedisRateLimiter:
    """At most ``rate`` requests per second to one destination, across every process that
    shares ``key`` in the Redis behind ``redis``: the same sliding window as
    :meth:`RateLimiter.per_second` (``floor(rate)`` starts within any second, or one start per
    ``1 / rate`` seconds below 1).

    Each acquisition is one round trip (a Lua script reserves the start and says how long to
    wait); a batch request acquires once. Redis being unreachable is a :class:`RetryableError`:
    the request is not sent and the job is retried, as for a network error.
    """

    def __init__(
        self,
        redis: Any,
        key: str,
        rate: float,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.burst, self.window = per_second_shape(rate)
        self.rate = rate
        self.key = key
        self._script = redis.register_script(RATE)
        self._args = (self.burst, round(self.window * 1_000_000))
        self._sleep = sleep
        #: Total seconds spent waiting.
        self.waited = 0.0

    async def acquire(self, tokens: int = 1) -> float:
        """Wait until ``tokens`` requests may start; returns the seconds waited."""
        try:
            micros = await self._script(keys=[self.key], args=[*self._args, max(tokens, 1)])
        except RedisError as exc:
            raise RetryableError(f"rate limit: redis: {exc}") from None
        waited = int(micros) / 1_000_000
        if waited > 0:
            await self._sleep(waited)
        self.waited += waited
        return waited
