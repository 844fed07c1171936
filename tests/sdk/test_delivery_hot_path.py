"""The stream's per-event steps written for speed say the same as the general ones: the compact
result of a delivered event, the size check a batched event goes through (its refusals), and a
failure's record made from the event's JSON once the stream has let the event go."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    BatchLimits,
    BatchResult,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Outcome,
    PayloadValidationError,
    Subscription,
)
from sdk.delivery import DeliveryResult
from sdk.delivery._results import delivered_result, event_snapshot
from sdk.transport._redaction import Redactor

ENDPOINT = "https://mock.test"
SECRET = "secret-key-1234"


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


# -- a settling event's record, from the event's JSON rather than the event -------------------

_text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["api_key", "token", "password", "Basic c2VjcmV0LWtleS0xMjM0OjE=", "a=b"]),
    st.just(SECRET),
)
_plain = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        _text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_text, inner, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_text, _plain, max_size=5))
def test_a_record_read_back_from_the_snapshot_is_the_record_of_the_event(
    event: dict[str, Any],
) -> None:
    redactor = Redactor([SECRET])
    snapshot = event_snapshot(event)
    assert snapshot is not None  # plain JSON: always kept as JSON
    assert redactor.value(orjson.loads(snapshot)) == redactor.value(dict(event))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        date(2026, 1, 1),
        2**64,
        {1: "not a text key"},
        b"bytes",
        {"a": frozenset()},
        type("Text", (str,), {})("a str subclass"),
    ],
)
def test_an_event_of_other_values_is_kept_as_it_is(value: Any) -> None:
    assert event_snapshot({"type": "track", "properties": {"v": value}}) is None
    assert event_snapshot(type("Event", (dict,), {})(a=1)) is None  # a dict subclass


class Holding(httpx.AsyncBaseTransport):
    """Answers once ``release`` is set; ``400`` for a batch holding the user ``bad``."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.arrived.set()
        await self.release.wait()
        users = [payload["user"] for payload in json.loads(await request.aread())]
        return httpx.Response(400 if "bad" in users else 200, json={})


@pytest.mark.parametrize("record", ["failures", "none"])
async def test_an_event_in_flight_is_not_held_by_the_stream(record: Any) -> None:
    events = [_track(i, "bad" if i == 1 else f"u{i}") for i in range(3)]
    transport = Holding()
    async with AsyncDelivery(_destination(), transport=transport) as delivery:
        results: list[DeliveryResult] = []

        async def consume() -> None:
            async for result in delivery.stream(iter(events), record=record, linger=0.0):
                results.append(result)

        task = asyncio.create_task(consume())
        await transport.arrived.wait()  # sent, not answered: the events are in flight
        for event in events:
            holders = [type(r).__name__ for r in gc.get_referrers(event)]
            assert "Item" not in holders, holders
        transport.release.set()
        await task
    assert sorted(r.index for r in results) == [0, 1, 2]
    assert all(r.outcome is Outcome.FAILED_PERMANENT for r in results)  # one batch, one 400
    if record == "failures":  # each record's event read back from its JSON: the event's
        for result in results:
            assert result.lifecycle is not None
            event = result.lifecycle.event
            assert event == delivery.redactor.value(dict(events[result.index]))
            assert event["properties"]["api_key"] == "[REDACTED]"


@pytest.mark.parametrize("masked", [True, False])
async def test_a_failure_record_is_the_same_whether_its_event_was_kept_or_read_back(
    masked: bool,
) -> None:
    # plain: read back from its JSON; dated (a datetime object): kept as it is
    properties: dict[str, Any] = {"pad": "", "api_key": SECRET} if masked else {"pad": ""}
    plain = {**_track(0, "bad"), "properties": properties}
    dated = {**_track(1, "bad"), "properties": {**properties, "at": datetime(2026, 1, 1)}}
    async with AsyncDelivery(_destination(), transport=BadSink()) as delivery:
        results = {r.index: r async for r in delivery.stream([plain, dated])}
        for index, event in enumerate([plain, dated]):
            (lifecycle,) = await delivery.send_many([event])  # recorded on its own too
            record = results[index].lifecycle
            assert record is not None
            assert record.event == lifecycle.event
            assert record.payload == lifecycle.payload
    assert isinstance(results[1].lifecycle.event["properties"]["at"], datetime) is masked


def _track(i: int, user: str) -> dict[str, Any]:
    message = {"type": "track", "event": "E", "userId": user, "messageId": f"m{i}"}
    return {**message, "properties": {"pad": "", "api_key": SECRET}}


class BadSink(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={})


class PartlyRefused(Sized):
    """Batches whose API refuses the user ``bad`` alone (a per-event error)."""

    batch = BatchLimits(max_events=100)

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult:
        await ctx.http.post("/v1/batch", json=list(payloads))
        result = BatchResult(len(payloads))
        for index, payload in enumerate(payloads):
            if payload["user"] == "bad":
                result.fail(index, PayloadValidationError("refused", status=400))
        return result


async def test_results_of_one_request_come_in_its_order_delivered_or_not() -> None:
    users = ["a", "b", "bad", "c", "bad", "d"]
    events = [{**_track(i, user), "properties": {"pad": ""}} for i, user in enumerate(users)]
    destination = Destination(
        name="Partly",
        slug="partly",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[PartlyRefused()],
        base_url=ENDPOINT,
    )
    async with AsyncDelivery(destination, transport=Sink()) as delivery:
        streamed = [r async for r in delivery.stream(events)]
        run = delivery.open_stream(events)
        taken: list[DeliveryResult] = []
        while results := await run.next_results():
            taken.extend(results)
        await run.aclose()
    for results in (streamed, taken):
        assert [r.index for r in results] == list(range(6))  # one request: its order
        assert [r.delivered for r in results] == [user != "bad" for user in users]
        assert all(r.lifecycle is not None for r in results if not r.delivered)
        assert all(r.attempts == 1 and r.message_id == f"m{r.index}" for r in results)
