"""The batched path's shared pieces: the wire JSON an action receives (``Action.map_wire``),
routing decisions made once, late records that own their routing, and the frozen result."""

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
    Track,
    message_to_json,
    route,
)
from sdk.delivery import DeliveryResult


class Settings(DestinationSettings):
    """Only the ``endpoint`` every destination has."""


class Forward(Action[Settings, bytes]):
    """Forwards the wire JSON it is handed; ``map`` (without it) writes the message again."""

    name = "forward"
    subscribe = Subscription.of("track", "identify")
    batch = BatchLimits(max_events=10)

    def __init__(self) -> None:
        self.wires: list[bytes] = []
        self.mapped = 0

    def map(self, event: AnyMessage, settings: Settings) -> bytes:
        self.mapped += 1
        return message_to_json(event)

    def map_wire(self, event: AnyMessage, wire: bytes, settings: Settings) -> bytes:
        self.wires.append(wire)
        return wire

    def payload_size(self, payload: bytes) -> int:
        return len(payload)

    def payload_record(self, payload: bytes) -> Any:
        return json.loads(payload)

    async def perform(self, ctx: Context[Settings], payload: bytes) -> None:
        await self.perform_batch(ctx, [payload])

    async def perform_batch(self, ctx: Context[Settings], payloads: Sequence[bytes]) -> None:
        await ctx.http.post("/batch", content=b"[" + b",".join(payloads) + b"]")


class MapOnly(Action[Settings, dict[str, Any]]):
    """An action written before ``map_wire``: only ``map``."""

    name = "map_only"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/one", json=payload)


def _destination(action: Action[Settings, Any], name: str = "Wire") -> Destination[Settings]:
    return Destination(
        name=name,
        slug="wire",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[action],
        base_url="https://wire.test",
    )


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, status: int = 200) -> None:
        self.bodies: list[bytes] = []
        self.status = status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(await request.aread())
        return httpx.Response(self.status, json={})


async def test_map_wire_gets_the_bytes_written_for_the_size_check() -> None:
    action = Forward()
    transport = Recorder()
    built = Track(event="Built", user_id="u2", properties={"é": 1.5})
    events: list[Any] = [{"type": "track", "event": "E", "userId": "u1"}, built]
    async with AsyncDelivery(_destination(action), transport=transport) as delivery:
        lifecycles = await delivery.send_many(events)
    assert [lifecycle.outcome for lifecycle in lifecycles] == [Outcome.DELIVERED] * 2
    assert action.mapped == 0
    assert action.wires[1] == message_to_json(built)
    first = json.loads(action.wires[0])
    assert first["userId"] == "u1" and first["integrations"] == {}
    assert action.wires[0] == message_to_json(Track.model_validate(first))
    assert transport.bodies == [b"[" + b",".join(action.wires) + b"]"]
    assert lifecycles[1].payload == json.loads(message_to_json(built))


async def test_an_action_with_only_map_is_mapped_as_before() -> None:
    transport = Recorder()
    async with AsyncDelivery(_destination(MapOnly()), transport=transport) as delivery:
        event = {"type": "track", "event": "E", "userId": "u"}
        results = [r async for r in delivery.stream([event])]
    assert [r.outcome for r in results] == [Outcome.DELIVERED]
    assert json.loads(transport.bodies[0]) == {"user": "u"}


async def test_late_records_own_their_routing() -> None:
    transport = Recorder(status=400)
    events = [{"type": "track", "event": "E", "userId": f"u{i}"} for i in range(3)]
    async with AsyncDelivery(_destination(Forward()), transport=transport) as delivery:
        results = [r async for r in delivery.stream(events)]
    records = [r.lifecycle for r in results]
    assert all(record is not None for record in records)
    first, second = records[0], records[1]
    assert first is not None and second is not None
    assert first.routing == second.routing == route({}, "Wire").to_dict()
    assert first.routing is not second.routing
    assert first.routing is not None
    first.routing["reason"] = "changed"
    assert second.routing is not None and second.routing["reason"] != "changed"
    async with AsyncDelivery(_destination(Forward()), transport=Recorder(400)) as delivery:
        again = [r async for r in delivery.stream(events[:1])]
    # the decision's form shared by the items that keep it was not changed through a record
    assert again[0].lifecycle is not None
    assert again[0].lifecycle.routing == route({}, "Wire").to_dict()


def test_the_default_routing_decision_is_unchanged() -> None:
    expected = '"Braze" is not named and integrations.All defaults to true'
    for integrations in (None, {}, {"Mixpanel": False}, {"Other": True}):
        decision = route(integrations, "Braze")
        assert decision.delivered and decision.reason == expected
    assert route({}, "Braze") is route(None, "Braze")  # made once
    assert route({}, "Amplitude").reason.startswith('"Amplitude"')
    assert not route({"All": False}, "Braze").delivered


def test_delivery_result_is_still_a_frozen_dataclass() -> None:
    result = DeliveryResult(3, "m", Outcome.DELIVERED, None, 1)
    assert result == DeliveryResult(3, "m", Outcome.DELIVERED, None, 1, None)
    assert result.lifecycle is None and result.delivered
    assert [f.name for f in dataclasses.fields(result)] == [
        "index",
        "message_id",
        "outcome",
        "error",
        "attempts",
        "lifecycle",
        "reason",
    ]
    assert result.reason is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.index = 4  # type: ignore[misc]
    assert hash(result) == hash(DeliveryResult(3, "m", Outcome.DELIVERED, None, 1))
    assert result.to_dict()["delivered"] is True
