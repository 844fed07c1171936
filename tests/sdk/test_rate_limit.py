"""The rate limit: no sliding one-second window carries more than ``rate`` requests, checked
with a fake clock and a fake sleep (the sleeps are counted, never timed)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
import respx
from _connectors import NoSettings, SendOne

from sdk import (
    AsyncDelivery,
    Delivery,
    Destination,
    DestinationKind,
    RateLimiter,
    RetryPolicy,
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


def busiest_second(times: list[float]) -> int:
    """The most requests any sliding one-second window ``[t, t + 1)`` holds."""
    # The busiest window can always be slid to start at a request.
    return max(sum(1 for u in times if t <= u < t + 1 - 1e-9) for t in times)


@pytest.mark.parametrize(
    ("rate", "allowed"),
    [(1.0, 1), (1.5, 1), (1.99, 1), (4.0, 4), (10.0, 10), (2.5, 2), (0.5, 1), (1000.0, 1000)],
)
async def test_no_sliding_second_ever_carries_more_than_the_rate(rate: float, allowed: int) -> None:
    time = FakeTime()
    limiter = RateLimiter.per_second(rate, clock=time.clock, sleep=time.sleep)
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(time.now)

    count = max(3 * allowed, 6)
    await asyncio.gather(*(one() for _ in range(count)))
    time.now += 0.3  # an idle gap, then more: the window keeps sliding, never resets
    await asyncio.gather(*(one() for _ in range(count)))

    assert busiest_second(times) == allowed
    # and the full allowed rate is used: ``count`` requests take count / allowed windows
    window = 1.0 if rate >= 1 else 1 / rate
    assert times[count - 1] - times[0] == pytest.approx((count / allowed - 1) * window)


async def test_a_whole_rate_goes_a_second_at_a_time() -> None:
    time = FakeTime()
    limiter = RateLimiter.per_second(4.0, clock=time.clock, sleep=time.sleep)

    times = await starts(limiter, time, 12)

    assert times == pytest.approx([100.0] * 4 + [101.0] * 4 + [102.0] * 4)
    assert time.sleeps == pytest.approx([1.0, 1.0])


async def test_a_burst_is_at_most_burst_requests_per_burst_over_rate_seconds() -> None:
    time = FakeTime()
    limiter = RateLimiter(2.0, burst=3, clock=time.clock, sleep=time.sleep)

    times = await starts(limiter, time, 7)

    # a token bucket would let 100.5 and 101.0 follow the burst: 5 requests in one second
    assert times == pytest.approx([100.0] * 3 + [101.5] * 3 + [103.0])


async def test_idle_time_frees_the_window_up_to_the_burst() -> None:
    time = FakeTime()
    limiter = RateLimiter(1.0, burst=2, clock=time.clock, sleep=time.sleep)
    await starts(limiter, time, 2)
    time.now += 60  # a long pause frees at most ``burst`` requests

    times = await starts(limiter, time, 3)

    assert times == pytest.approx([160.0, 160.0, 162.0])


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


@pytest.mark.parametrize(
    ("rate", "expected_rate", "burst"),
    [(1, 1.0, 1), (1.0, 1.0, 1), (1.5, 1.0, 1), (2.0, 2.0, 2), (2.9, 2.0, 2), (0.25, 0.25, 1)],
)
def test_per_second_keeps_a_whole_rate_as_a_float(
    rate: float, expected_rate: float, burst: int
) -> None:
    limiter = RateLimiter.per_second(rate)
    assert (limiter.rate, limiter.burst) == (expected_rate, burst)
    assert type(limiter.rate) is float
    assert limiter.window == pytest.approx(burst / expected_rate)


@pytest.mark.parametrize(
    ("fraction", "waits"),
    [
        # The sleep moved the clock by less than half the wait: it was simulated, and the
        # whole wait counts as passed (the next request waits a full interval, no more).
        (0.0, [0.0, 1.0, 1.0, 1.0]),
        (0.4, [0.0, 1.0, 1.0, 1.0]),
        # Half or more: a real sleep; only the clock counts, so an early wake-up makes the next
        # request wait the rest as well.
        (0.5, [0.0, 1.0, 1.5, 1.75]),
        (1.0, [0.0, 1.0, 1.0, 1.0]),
    ],
)
async def test_a_sleep_counts_as_simulated_when_the_clock_moves_less_than_half_of_it(
    fraction: float, waits: list[float]
) -> None:
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds * fraction

    limiter = RateLimiter(1.0, clock=lambda: now[0], sleep=sleep)
    assert [await limiter.acquire() for _ in range(4)] == pytest.approx(waits)


async def test_a_simulated_sleep_moves_the_window_by_exactly_the_wait() -> None:
    # Burst 2 per 2 s, a sleep that moves the clock by a fifth of the wait, and 0.3 s of real
    # time between the first two requests: each start lands exactly where the wait said.
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds * 0.2

    limiter = RateLimiter(1.0, burst=2, clock=lambda: now[0], sleep=sleep)
    waits = []
    for gap in (0.0, 0.3, 0.0, 0.0, 0.0):
        now[0] += gap
        waits.append(await limiter.acquire())
    assert waits == pytest.approx([0.0, 0.0, 1.7, 0.3, 1.7])


# -- a destination with rate_limit -----------------------------------------------------------


def limited(rate: float | None) -> Destination[NoSettings]:
    return Destination(
        name="Limited",
        slug="limited",
        kind=DestinationKind.EVENT,
        settings=NoSettings,
        actions=[SendOne()],
        rate_limit=rate,
    )


def events(count: int) -> list[dict[str, Any]]:
    return [{"type": "track", "event": "E", "userId": f"u-{i}"} for i in range(count)]


class SyncFakeTime(FakeTime):
    def sleep_now(self, seconds: float) -> None:  # Delivery's sleep is blocking
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("rate", "count", "expected_sleeps"), [(1.0, 5, 4), (2.0, 6, 2)])
def test_a_rate_limited_destination_waits_between_requests(
    rate: float, count: int, expected_sleeps: int
) -> None:
    time = SyncFakeTime()
    with respx.mock() as mock:
        route = mock.post(f"{ENDPOINT}/v1/track").mock(return_value=httpx.Response(200))
        with Delivery(
            limited(rate), {"endpoint": ENDPOINT}, sleep=time.sleep_now, clock=time.clock
        ) as delivery:
            lifecycles = delivery.send_many(events(count))

    assert route.call_count == count
    assert all(lc.delivered for lc in lifecycles)
    # a second's worth (rate requests) goes at once; then the window slides a second on
    assert time.sleeps == pytest.approx([1.0] * expected_sleeps)


def test_an_injected_sleep_that_does_not_move_the_clock_still_spaces_requests() -> None:
    sleeps: list[float] = []
    with respx.mock() as mock:
        route = mock.post(f"{ENDPOINT}/v1/track").mock(return_value=httpx.Response(200))
        with Delivery(limited(1.0), {"endpoint": ENDPOINT}, sleep=sleeps.append) as delivery:
            lifecycles = delivery.send_many(events(4))

    assert route.call_count == 4
    assert all(lc.delivered for lc in lifecycles)
    # each wait is about a second (less what the real clock ran meanwhile), never piling up
    assert len(sleeps) == 3
    assert all(0.5 < s <= 1.0 for s in sleeps)


def test_a_destination_at_4_per_second_never_sends_8_in_one_second() -> None:
    time = SyncFakeTime()
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(time.now)
        return httpx.Response(200)

    with respx.mock() as mock:
        mock.post(f"{ENDPOINT}/v1/track").mock(side_effect=answer)
        with Delivery(
            limited(4.0), {"endpoint": ENDPOINT}, sleep=time.sleep_now, clock=time.clock
        ) as delivery:
            lifecycles = delivery.send_many(events(12))

    assert all(lc.delivered for lc in lifecycles)
    assert sorted(sent) == pytest.approx([100.0] * 4 + [101.0] * 4 + [102.0] * 4)
    assert busiest_second(sent) == 4
    # the time queued behind the limit is in each attempt's record
    waits = sorted(lc.attempts[0].rate_limit_wait_s for lc in lifecycles)
    assert waits == pytest.approx([0.0] * 10 + [1.0, 1.0])
    assert {lc.to_dict()["attempts"][0]["rate_limit_wait_s"] for lc in lifecycles} == {0.0, 1.0}


def test_no_rate_limit_means_no_waiting() -> None:
    sleeps: list[float] = []
    with respx.mock() as mock:
        mock.post(f"{ENDPOINT}/v1/track").mock(return_value=httpx.Response(200))
        with Delivery(limited(None), {"endpoint": ENDPOINT}, sleep=sleeps.append) as delivery:
            delivery.send_many(events(5))

    assert sleeps == []


async def test_retries_wait_for_the_rate_limit_as_well() -> None:
    time = FakeTime()
    with respx.mock() as mock:
        route = mock.post(f"{ENDPOINT}/v1/track").mock(
            side_effect=[httpx.Response(503), httpx.Response(200)]
        )
        async with AsyncDelivery(
            limited(1.0),
            {"endpoint": ENDPOINT},
            retry=RetryPolicy(jitter=0.0),
            sleep=time.sleep,
            clock=time.clock,
        ) as delivery:
            lifecycle = await delivery.send(events(1)[0])

    assert route.call_count == 2
    assert lifecycle.delivered
    # the retry's 0.5 s backoff, then the rest of the limiter's second
    assert time.sleeps == pytest.approx([0.5, 0.5])
    first, second = lifecycle.attempts
    assert second.wait_before_s == 0.5
    assert (first.rate_limit_wait_s, second.rate_limit_wait_s) == (0.0, pytest.approx(0.5))


async def test_several_tokens_are_taken_at_once() -> None:
    time = FakeTime()
    limiter = RateLimiter.per_second(5, clock=time.clock, sleep=time.sleep)

    assert await limiter.acquire(4) == 0.0
    assert await limiter.acquire(1) == 0.0  # five within the second: still free
    assert await limiter.acquire(3) == pytest.approx(1.0)  # the window slides first
    assert await limiter.acquire(9) == pytest.approx(1.0)  # more than the burst: as for it
    assert time.sleeps == pytest.approx([1.0, 1.0])
