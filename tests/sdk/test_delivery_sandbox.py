"""Delivery end to end over real loopback HTTP, against the sandbox destination: retries as
the lifecycle records them, and the synchronous ``Delivery`` inside a running event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sdk import (
    Action,
    AnyMessage,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    RetryPolicy,
    Subscription,
)
from sdk.testing import Faults, Sandbox


class Settings(DestinationSettings):
    pass


class SendOne(Action[Settings, dict[str, Any]]):
    name = "send_one"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id, "event": event.event}  # type: ignore[union-attr]

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/track", json=payload)


destination: Destination[Settings] = Destination(
    name="Sandbox Test",
    slug="sandbox_test",
    kind=DestinationKind.EVENT,
    settings=Settings,
    actions=[SendOne()],
    # No jitter, so the waits are exactly 0.5 then 1.0.
    retry=RetryPolicy(max_attempts=5, initial_backoff=0.5, jitter=0.0),
)

EVENT = {"type": "track", "event": "Order Completed", "userId": "u-1"}


def test_503_503_200_is_three_recorded_attempts_and_delivered() -> None:
    sleeps: list[float] = []
    with Sandbox(faults=Faults(sequence=[503, 503, 200])) as sandbox:
        with Delivery(destination, {"endpoint": sandbox.url}, sleep=sleeps.append) as delivery:
            lifecycle = delivery.send(EVENT)
        requests = sandbox.wait_for(3)

    assert lifecycle.outcome == "delivered"
    assert sleeps == [0.5, 1.0]
    record = lifecycle.to_dict()
    attempts = record["attempts"]
    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert [a["wait_before_s"] for a in attempts] == [0.0, 0.5, 1.0]
    assert [a["exchanges"][0]["response"]["status"] for a in attempts] == [503, 503, 200]
    assert [a["retry"]["decision"] for a in attempts] == ["retry", "retry", "done"]
    assert [a["retry"]["wait_s"] for a in attempts] == [0.5, 1.0, None]
    assert [a["error"] and a["error"]["class"] for a in attempts] == [
        "RetryableError",
        "RetryableError",
        None,
    ]
    assert record["error"] is None
    # the sandbox saw the same three requests, answered as recorded
    assert len(requests) == 3
    assert [r.status for r in requests] == [503, 503, 200]
    assert all(r.path == "/v1/track" and r.method == "POST" for r in requests)
    assert all(r.json == {"user": "u-1", "event": "Order Completed"} for r in requests)
    last = attempts[-1]["exchanges"][0]["response"]
    assert last["body"]["request_id"] == requests[-1].request_id


async def test_the_sync_delivery_works_inside_a_running_event_loop() -> None:
    # A notebook cell: an event loop is running in this thread, and the caller is not async.
    asyncio.get_running_loop()
    seen: list[str] = []
    with Sandbox() as sandbox:
        with Delivery(
            destination,
            {"endpoint": sandbox.url},
            on_update=lambda _: seen.append(threading.current_thread().name),
        ) as delivery:
            first = delivery.send(EVENT)
            rest = delivery.send_many([EVENT, EVENT])
        requests = sandbox.wait_for(3)

    assert first.delivered
    assert [lc.outcome for lc in rest] == ["delivered", "delivered"]
    assert len(requests) == 3
    # the work ran on the worker thread, never on the loop's own thread
    assert seen and all(name.startswith("destkit-delivery") for name in seen)


def test_the_sync_delivery_runs_here_without_an_event_loop() -> None:
    with Sandbox() as sandbox, Delivery(destination, {"endpoint": sandbox.url}) as delivery:
        lifecycle = delivery.send(EVENT)

    assert lifecycle.delivered
