"""``stream()``: a bounded in-flight window, exactly one result per event, batching per the
action's limits, lifecycles on demand, and the synchronous twin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
import pytest

from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    BatchLimits,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    Outcome,
    RetryPolicy,
    Subscription,
)
from sdk.delivery import DeliveryResult

ENDPOINT = "https://mock.test"


class Settings(DestinationSettings):
    """Only the ``endpoint`` every destination has."""


class Batched(Action[Settings, dict[str, Any]]):
    """Track events, up to 500 per ``POST /v1/batch``; a user id starting ``bad`` is refused by
    the API with a 400 (the whole batch fails)."""

    name = "batched"
    subscribe = Subscription.of("track")
    batch = BatchLimits(max_events=500)

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/batch", json=[payload])

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json=list(payloads))


def _destination() -> Destination[Settings]:
    return Destination(
        name="Streamed",
        slug="streamed",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[Batched()],
        base_url=ENDPOINT,
        retry=RetryPolicy(max_attempts=2, initial_backoff=0.0, jitter=0.0),
    )


class Sink(httpx.AsyncBaseTransport):
    """An instant API: counts the events of every batch; 400 when one of them is ``bad``."""

    def __init__(self) -> None:
        self.requests = 0
        self.sizes: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(await request.aread())
        self.requests += 1
        self.sizes.append(len(body))
        if any(str(p["user"]).startswith("bad") for p in body):
            return httpx.Response(400, json={"error": "bad user"})
        return httpx.Response(200, json={})


def _event(i: int, user: str | None = None) -> dict[str, Any]:
    return {"type": "track", "event": "E", "userId": user or f"u{i}", "messageId": f"m{i}"}


async def test_200k_events_bounded_window_and_one_result_each() -> None:
    count, window = 200_000, 2_000
    sink = Sink()
    pulled = 0
    taken = 0
    most_held = 0

    def events() -> Iterator[dict[str, Any]]:
        nonlocal pulled, most_held
        for i in range(count):
            pulled += 1
            most_held = max(most_held, pulled - taken)
            yield _event(i)

    seen = bytearray(count)
    async with AsyncDelivery(_destination(), transport=sink) as delivery:
        async for result in delivery.stream(events(), window=window):
            taken += 1
            seen[result.index] += 1
            assert result.delivered, result
            assert result.lifecycle is None  # successes keep no record by default
    assert taken == count
    assert seen.count(1) == count  # each event exactly one result
    assert most_held <= window
    assert sum(sink.sizes) == count
    assert max(sink.sizes) == 500  # batching per the action's limits keeps working
    assert sink.requests < count // 100


async def test_failures_get_a_full_record_by_default() -> None:
    events = [_event(0), _event(1, "bad-1"), {"type": "track"}, [1, 2]]
    async with AsyncDelivery(_destination(), transport=Sink(), batching=False) as delivery:
        results = {r.index: r async for r in delivery.stream(events)}
    assert sorted(results) == [0, 1, 2, 3]
    ok, bad, invalid, not_object = (results[i] for i in range(4))
    assert ok.delivered and ok.lifecycle is None and ok.attempts == 1
    assert ok.message_id == "m0"
    assert bad.outcome is Outcome.FAILED_PERMANENT and bad.error is not None
    assert bad.error.status == 400 and bad.attempts == 1
    assert bad.lifecycle is not None
    record = bad.lifecycle.to_dict()
    assert record["event"]["userId"] == "bad-1"
    assert record["payload"] == {"user": "bad-1"}
    assert record["action"] == "batched"
    assert record["attempts"][0]["exchanges"][0]["response"]["status"] == 400
    assert record["outcome"] == "failed: permanent"
    assert invalid.outcome is Outcome.FAILED_PERMANENT and invalid.attempts == 0
    assert invalid.lifecycle is not None and invalid.error is not None
    assert not_object.message_id is None and not_object.error is not None
    assert "JSON object" in not_object.error.message


async def test_a_filtered_result_says_why_without_a_record() -> None:
    events = [
        _event(0),
        {**_event(1), "integrations": {"Streamed": False}},  # the integrations object
        {"type": "identify", "userId": "u2", "messageId": "m2"},  # no action subscribes
    ]
    async with AsyncDelivery(_destination(), transport=Sink()) as delivery:
        results = {r.index: r async for r in delivery.stream(events)}
    assert results[0].delivered and results[0].reason is None
    off, unsubscribed = results[1], results[2]
    assert off.outcome is Outcome.FILTERED and off.lifecycle is None and off.attempts == 0
    assert off.reason is not None and "Streamed" in off.reason
    assert unsubscribed.reason == "no action of Streamed subscribes to identify"
    assert unsubscribed.to_dict()["reason"] == unsubscribed.reason


@pytest.mark.parametrize(
    ("record", "recorded"),
    [("all", [0, 1, 2, 3, 4, 5]), ("none", []), (2, [0, 2, 4, 5]), ("failures", [5])],
)
async def test_record_policy(record: Any, recorded: list[int]) -> None:
    events = [_event(i) for i in range(5)] + [_event(5, "bad-5")]
    async with AsyncDelivery(_destination(), transport=Sink(), batching=False) as delivery:
        results = [r async for r in delivery.stream(events, record=record)]
    assert sorted(r.index for r in results if r.lifecycle is not None) == recorded


async def test_record_all_matches_send_many() -> None:
    events = [_event(0), _event(1)]
    async with AsyncDelivery(_destination(), transport=Sink()) as delivery:
        streamed = sorted(
            [r async for r in delivery.stream(events, record="all")], key=lambda r: r.index
        )
        sent = await delivery.send_many(events)
    for result, lifecycle in zip(streamed, sent, strict=True):
        assert result.lifecycle is not None
        mine, theirs = result.lifecycle.to_dict(), lifecycle.to_dict()
        for volatile in ("id", "started_at", "finished_at", "duration_ms", "attempts"):
            mine.pop(volatile), theirs.pop(volatile)
        assert mine == theirs
        assert result.lifecycle.attempts[0].exchanges[0].request.body_kind == "json"


async def test_a_trickling_async_source_is_sent_without_waiting_for_the_end() -> None:
    sink = Sink()
    sent_before_end: list[int] = []

    async def events() -> AsyncIterator[dict[str, Any]]:
        for i in range(3):
            yield _event(i)
        await asyncio.sleep(0.2)  # longer than linger: the part-filled batch goes meanwhile
        sent_before_end.append(sink.requests)
        yield _event(3)

    async with AsyncDelivery(_destination(), transport=sink) as delivery:
        results = [r async for r in delivery.stream(events(), linger=0.01)]
    assert len(results) == 4 and all(r.delivered for r in results)
    assert sent_before_end == [1]
    assert sink.sizes == [3, 1]


async def test_a_broken_source_raises_after_what_it_gave_settled() -> None:
    def events() -> Iterator[dict[str, Any]]:
        yield _event(0)
        yield _event(1)
        raise RuntimeError("source broke")

    results: list[DeliveryResult] = []
    async with AsyncDelivery(_destination(), transport=Sink()) as delivery:
        with pytest.raises(RuntimeError, match="source broke"):
            async for result in delivery.stream(events()):
                results.append(result)
    assert sorted(r.index for r in results) == [0, 1]


def test_sync_twin_streams_too() -> None:
    sink = Sink()
    with Delivery(_destination(), transport=sink) as delivery:
        results = list(delivery.stream(_event(i) for i in range(1_200)))
    assert sorted(r.index for r in results) == list(range(1_200))
    assert all(r.delivered for r in results)
    assert sorted(sink.sizes) == [200, 500, 500]


def test_bad_arguments_are_one_line() -> None:
    with Delivery(_destination(), transport=Sink()) as delivery:
        with pytest.raises(ValueError, match="record"):
            list(delivery.stream([], record="some"))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="window"):
            list(delivery.stream([], window=0))


async def test_sync_twin_streams_inside_a_running_loop() -> None:
    # A notebook's situation: the sync twin runs its loop on its worker thread.
    sink = Sink()
    with Delivery(_destination(), transport=sink) as delivery:
        results = list(delivery.stream([_event(i) for i in range(10)], record="all"))
    assert sorted(r.index for r in results) == list(range(10))
    assert all(r.lifecycle is not None and r.lifecycle.delivered for r in results)


async def test_leaving_early_cancels_what_is_in_flight() -> None:
    sink = Sink()
    async with AsyncDelivery(_destination(), transport=sink, batching=False) as delivery:
        stream = delivery.stream(_event(i) for i in range(10_000))
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        assert sink.requests < 10_000
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not [t for t in left if "StreamRun" in repr(t.get_coro())]
