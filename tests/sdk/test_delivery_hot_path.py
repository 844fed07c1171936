"""The stream's per-event steps written for speed say the same as the general ones: the compact
result of a delivered event, and the size check a batched event goes through (its refusals)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Outcome,
    Subscription,
)
from sdk.delivery import DeliveryResult
from sdk.delivery._results import delivered_result

ENDPOINT = "https://mock.test"


def test_a_delivered_result_is_a_frozen_delivery_result_like_any_other() -> None:
    fast = delivered_result(7, "m-7", 2)
    built = DeliveryResult(7, "m-7", Outcome.DELIVERED, None, 2)
    assert type(fast) is DeliveryResult
    assert fast == built and repr(fast) == repr(built)
    assert dataclasses.asdict(fast) == dataclasses.asdict(built)
    assert fast.to_dict() == built.to_dict() and fast.delivered
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.index = 8  # type: ignore[misc]
    assert delivered_result(1, None, 1).message_id is None


class Settings(DestinationSettings):
    """Only the ``endpoint`` every destination has."""


class Sized(Action[Settings, dict[str, Any]]):
    """Batches of at most 200 bytes; ``payload_size`` crashes for a user named ``crash``."""

    name = "sized"
    subscribe = Subscription.of("track")
    batch = BatchLimits(max_events=100, max_bytes=200)

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id, "pad": event.properties.get("pad", "")}

    def payload_size(self, payload: dict[str, Any]) -> int:
        if payload["user"] == "crash":
            raise RuntimeError("cannot count")
        return len(json.dumps(payload, separators=(",", ":")))

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/batch", json=[payload])

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json=list(payloads))


def _destination() -> Destination[Settings]:
    return Destination(
        name="Sized",
        slug="sized",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[Sized()],
        base_url=ENDPOINT,
    )


class Sink(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(await request.aread())
        return httpx.Response(200, json={})


def _events() -> list[dict[str, Any]]:
    def track(i: int, user: str, pad: str = "") -> dict[str, Any]:
        message = {"type": "track", "event": "E", "userId": user, "messageId": f"m{i}"}
        return {**message, "properties": {"pad": pad}}

    return [
        track(0, "a"),
        track(1, "crash"),
        track(2, "b", "x" * 180),  # 201 bytes: over 200 even alone, as "[payload]"
        track(3, "c", "x" * 170),  # 191 bytes: fits alone
        track(4, "d"),
    ]


async def test_a_streamed_event_too_large_or_uncountable_is_refused_as_send_many_refuses_it() -> (
    None
):
    async with AsyncDelivery(_destination(), transport=Sink()) as delivery:
        expected = await delivery.send_many(_events())
    sink = Sink()
    async with AsyncDelivery(_destination(), transport=sink) as delivery:
        results = {r.index: r async for r in delivery.stream(_events())}
    assert [results[i].outcome for i in range(5)] == [lc.outcome for lc in expected]
    assert [results[i].error for i in range(5)] == [lc.error for lc in expected]
    crash, big = results[1].error, results[2].error
    assert crash is not None and crash.message == (
        "sized.payload_size crashed: RuntimeError: cannot count"
    )
    assert big is not None and big.cls == "PayloadTooLarge"
    assert results[1].attempts == results[2].attempts == 0  # never sent
    sent = [payload["user"] for body in sink.bodies for payload in json.loads(body)]
    assert sorted(sent) == ["a", "c", "d"]
    assert all(len(body) <= 200 for body in sink.bodies)
