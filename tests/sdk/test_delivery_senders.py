"""The engine's per-request machinery: the concurrency limit (``Slots``), the run's wake-ups
(``Signal``), and a stream's pool of sender tasks (at most ``concurrency``, requests started in
input order, one limit shared by every call of one delivery object)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Subscription,
)
from sdk.delivery._signals import Signal, Slots


class Settings(DestinationSettings):
    """Only the ``endpoint`` every destination has."""


class OnePerRequest(Action[Settings, dict[str, Any]]):
    """Each track event in its own request."""

    name = "one_per_request"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/event", json=payload)

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        raise AssertionError("not batched")


def _destination() -> Destination[Settings]:
    return Destination(
        name="Senders",
        slug="senders",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[OnePerRequest()],
        base_url="https://mock.test",
    )


class SlowSink(httpx.AsyncBaseTransport):
    """An API that answers after a few loop turns, counting requests in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.order: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.order.append(json.loads(await request.aread())["user"])
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
        return httpx.Response(200, json={})


def _event(i: int) -> dict[str, Any]:
    return {"type": "track", "event": "E", "userId": f"u{i}", "messageId": f"m{i}"}


async def test_at_most_concurrency_requests_and_sender_tasks_in_input_order() -> None:
    sink = SlowSink()
    count = 300
    senders = 0
    async with AsyncDelivery(_destination(), transport=sink, concurrency=3) as delivery:
        run = delivery.open_stream(_event(i) for i in range(count))
        indexes: list[int] = []
        try:
            while results := await run.next_results():
                indexes += [result.index for result in results]
                assert all(result.delivered for result in results)
                senders = max(senders, len(run._tasks))
        finally:
            await run.aclose()
    assert sorted(indexes) == list(range(count))
    assert sink.most <= 3
    assert sink.most == 3  # the pool is used
    assert 1 <= senders <= 3
    assert sink.order == [f"u{i}" for i in range(count)]  # started in input order


async def test_two_streams_of_one_delivery_share_its_concurrency() -> None:
    sink = SlowSink()

    async def drain(delivery: AsyncDelivery[Settings], start: int) -> int:
        events = (_event(i) for i in range(start, start + 100))
        return sum([result.delivered async for result in delivery.stream(events)])

    async with AsyncDelivery(_destination(), transport=sink, concurrency=2) as delivery:
        done = await asyncio.gather(drain(delivery, 0), drain(delivery, 1000))
        assert delivery._slots.free == 2  # every slot given back
    assert done == [100, 100]
    assert sink.most <= 2


async def test_slots_are_handed_over_in_arrival_order() -> None:
    slots = Slots(1)
    assert slots.take()
    assert not slots.take()
    order: list[int] = []

    async def holder(n: int) -> None:
        await slots.wait()
        order.append(n)
        await asyncio.sleep(0)
        slots.release()

    tasks = [asyncio.create_task(holder(n)) for n in range(3)]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    assert slots.free == 1


async def test_a_cancelled_waiter_loses_no_slot() -> None:
    slots = Slots(1)
    assert slots.take()
    waiting = asyncio.create_task(slots.wait())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    slots.release()  # nobody live waits: the slot is free again
    assert slots.free == 1 and slots.take()


async def test_a_waiter_cancelled_after_being_handed_a_slot_passes_it_on() -> None:
    slots = Slots(1)
    assert slots.take()
    first = asyncio.create_task(slots.wait())
    second = asyncio.create_task(slots.wait())
    await asyncio.sleep(0)
    slots.release()  # handed to the first...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the slot went on to the second
    assert slots.free == 0
    slots.release()
    assert slots.free == 1


async def test_signal_remembers_a_set_until_cleared() -> None:
    signal = Signal()
    signal.set()
    await asyncio.wait_for(signal.wait(), 1)  # at once
    signal.clear()
    waiter = asyncio.create_task(signal.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    signal.set()
    await asyncio.wait_for(waiter, 1)
