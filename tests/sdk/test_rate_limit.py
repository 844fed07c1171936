"""The rate limit: requests are spaced at 1/rate, checked with a fake clock and a fake sleep
(the sleeps are counted, never timed)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
import respx

from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    RateLimiter,
    Subscription,
)

ENDPOINT = "https://mock.test"


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def starts(limiter: RateLimiter, time: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await limiter.acquire()
        times.append(time.now)
    return times


@pytest.mark.parametrize("rate", [1.0, 4.0, 10.0, 0.5])
async def test_requests_are_spaced_at_one_over_the_rate(rate: float) -> None:
    time = FakeTime()
    limiter = RateLimiter(rate, clock=time.clock, sleep=time.sleep)

    times = await starts(limiter, time, 6)

    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([1 / rate] * 5)
    assert time.sleeps == pytest.approx([1 / rate] * 5)
    assert limiter.waited == pytest.approx(5 / rate)


async def test_a_burst_goes_at_once_then_the_rate_applies() -> None:
    time = FakeTime()
    limiter = RateLimiter(2.0, burst=3, clock=time.clock, sleep=time.sleep)

    times = await starts(limiter, time, 6)

    assert times == pytest.approx([100.0, 100.0, 100.0, 100.5, 101.0, 101.5])


async def test_idle_time_refills_the_bucket_up_to_the_burst() -> None:
    time = FakeTime()
    limiter = RateLimiter(1.0, burst=2, clock=time.clock, sleep=time.sleep)
    await starts(limiter, time, 2)
    time.now += 60  # a long pause earns at most ``burst`` tokens

    times = await starts(limiter, time, 3)

    assert times == pytest.approx([160.0, 160.0, 161.0])


async def test_a_partly_refilled_bucket_waits_only_the_rest() -> None:
    time = FakeTime()
    limiter = RateLimiter(1.0, clock=time.clock, sleep=time.sleep)
    await limiter.acquire()
    time.now += 0.75

    waited = await limiter.acquire()

    assert waited == pytest.approx(0.25)


async def test_concurrent_callers_are_spaced_too() -> None:
    time = FakeTime()
    limiter = RateLimiter(5.0, clock=time.clock, sleep=time.sleep)
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(time.now)

    await asyncio.gather(*(one() for _ in range(5)))

    assert sorted(times) == pytest.approx([100.0, 100.2, 100.4, 100.6, 100.8])


async def test_a_sleep_that_does_not_advance_the_clock_still_lets_requests_through() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    limiter = RateLimiter(2.0, clock=lambda: 0.0, sleep=sleep)
    for _ in range(4):
        await limiter.acquire()

    assert sleeps == pytest.approx([0.5, 0.5, 0.5])


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1.0, 1), (1.0, 0)])
def test_bad_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match=r"^(rate|burst): "):
        RateLimiter(rate, burst)


# -- a destination with rate_limit -----------------------------------------------------------


class Settings(DestinationSettings):
    pass


class SendOne(Action[Settings, dict[str, Any]]):
    name = "send_one"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/track", json=payload)


def limited(rate: float | None) -> Destination[Settings]:
    return Destination(
        name="Limited",
        slug="limited",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[SendOne()],
        rate_limit=rate,
    )


def events(count: int) -> list[dict[str, Any]]:
    return [{"type": "track", "event": "E", "userId": f"u-{i}"} for i in range(count)]


@pytest.mark.parametrize(("rate", "count", "expected_sleeps"), [(1.0, 5, 4), (2.0, 6, 4)])
def test_a_rate_limited_destination_waits_between_requests(
    rate: float, count: int, expected_sleeps: int
) -> None:
    sleeps: list[float] = []
    with respx.mock() as mock:
        route = mock.post(f"{ENDPOINT}/v1/track").mock(return_value=httpx.Response(200))
        with Delivery(limited(rate), {"endpoint": ENDPOINT}, sleep=sleeps.append) as delivery:
            lifecycles = delivery.send_many(events(count))

    assert route.call_count == count
    assert all(lc.delivered for lc in lifecycles)
    # the burst (int(rate) requests) goes at once; every later request waits ~1/rate
    assert len(sleeps) == expected_sleeps
    assert sleeps == pytest.approx([1 / rate] * expected_sleeps, abs=0.05)


def test_no_rate_limit_means_no_waiting() -> None:
    sleeps: list[float] = []
    with respx.mock() as mock:
        mock.post(f"{ENDPOINT}/v1/track").mock(return_value=httpx.Response(200))
        with Delivery(limited(None), {"endpoint": ENDPOINT}, sleep=sleeps.append) as delivery:
            delivery.send_many(events(5))

    assert sleeps == []


async def test_retries_wait_for_the_rate_limit_as_well() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with respx.mock() as mock:
        route = mock.post(f"{ENDPOINT}/v1/track").mock(
            side_effect=[httpx.Response(503), httpx.Response(200)]
        )
        async with AsyncDelivery(limited(1.0), {"endpoint": ENDPOINT}, sleep=sleep) as delivery:
            lifecycle = await delivery.send(events(1)[0])

    assert route.call_count == 2
    assert lifecycle.delivered
    (backoff, token) = sleeps  # the retry's backoff, then the limiter's wait for a token
    assert 0.5 <= backoff <= 1.0
    assert token == pytest.approx(1.0, abs=0.05)
