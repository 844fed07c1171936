"""Batching against a mocked HTTP API: exact limits, multi-status answers, 413 splits, batch
keys, shared attempts, and connector bugs that must not take other events down."""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Sequence
from typing import Any

import httpx
import pytest
import respx

from sdk import (
    Action,
    AnyMessage,
    BatchLimits,
    BatchResult,
    Context,
    Delivery,
    DeliveryError,
    Destination,
    DestinationKind,
    DestinationSettings,
    InvalidEvent,
    Lifecycle,
    PayloadValidationError,
    RetryableError,
    RetryPolicy,
    Subscription,
    Track,
)

ENDPOINT = "https://mock.test"
BATCH_URL = f"{ENDPOINT}/v1/batch"
ONE_URL = f"{ENDPOINT}/v1/one"


class Settings(DestinationSettings):
    max_events: int = 3
    max_bytes: int | None = None


class SendBatch(Action[Settings, dict[str, Any]]):
    """A batching action whose API answers per event: ``{"errors": [{index, status, message}]}``."""

    name = "send_batch"
    subscribe = Subscription.of("track")
    batch = BatchLimits(max_events=3)

    def batch_limits(self, settings: Settings) -> BatchLimits:
        return BatchLimits(max_events=settings.max_events, max_bytes=settings.max_bytes)

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        assert isinstance(event, Track)
        if event.properties.get("bad"):
            raise InvalidEvent("properties.bad", "cannot be mapped")
        payload: dict[str, Any] = {"id": event.properties["id"]}
        payload.update({k: v for k, v in event.properties.items() if k in ("op", "pad")})
        return payload

    def batch_key(self, payload: dict[str, Any]) -> Hashable:
        return payload.get("op")

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/one", json=payload)

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult:
        response = await ctx.http.post("/v1/batch", json={"events": list(payloads)})
        result = BatchResult(len(payloads))
        data = response.data if isinstance(response.data, dict) else {}
        for item in data.get("errors", []):
            error: DeliveryError
            if item["status"] >= 500 or item["status"] == 429:
                error = RetryableError(item["message"], status=item["status"])
            else:
                error = PayloadValidationError(item["message"], status=item["status"])
            result.fail(item["index"], error)
        return result


POLICY = RetryPolicy(max_attempts=3, jitter=0.0)


def make_destination(action: Action[Settings, Any]) -> Destination[Settings]:
    return Destination(
        name="Batch Test",
        slug="batch_test",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[action],
        retry=POLICY,
    )


destination = make_destination(SendBatch())


def event(i: int, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Item",
        "userId": f"u-{i}",
        "messageId": f"m-{i}",
        "properties": {"id": i, **properties},
    }


def sent_ids(call: Any) -> list[int]:
    body = json.loads(call.request.content)
    if isinstance(body, list):
        return [p["id"] for p in body]
    if "events" in body:
        return [p["id"] for p in body["events"]]
    return [body["id"]]


def deliver(
    events: list[dict[str, Any]],
    *,
    settings: dict[str, Any] | None = None,
    batch: Any = None,
    one: Any = None,
    dest: Destination[Settings] = destination,
) -> tuple[list[Lifecycle], respx.Route, respx.Route, list[float]]:
    sleeps: list[float] = []
    ok = httpx.Response(200, json={"errors": []})
    with respx.mock(assert_all_called=False) as mock:
        batch_route = mock.post(BATCH_URL).mock(side_effect=batch, return_value=ok)
        one_route = mock.post(ONE_URL).mock(side_effect=one, return_value=ok)
        values = {"endpoint": ENDPOINT, **(settings or {})}
        with Delivery(dest, values, sleep=sleeps.append) as delivery:
            lifecycles = delivery.send_many(events)
    return lifecycles, batch_route, one_route, sleeps


# -- exact limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("max_events", [1, 3, 5])
@pytest.mark.parametrize("count", [1, 3, 4, 6, 10])
def test_max_events_splits_into_ceil_n_over_max_requests(max_events: int, count: int) -> None:
    lifecycles, batch, one, _ = deliver(
        [event(i) for i in range(count)], settings={"max_events": max_events}
    )

    calls = list(batch.calls) + list(one.calls)
    assert len(calls) == math.ceil(count / max_events)
    sizes = [len(sent_ids(call)) for call in calls]
    assert max(sizes) <= max_events
    assert sorted(i for call in calls for i in sent_ids(call)) == list(range(count))
    # a chunk of one goes through perform, never perform_batch
    assert all(len(sent_ids(call)) > 1 for call in batch.calls)
    assert all(lc.outcome == "delivered" for lc in lifecycles)
    assert [lc.attempts[0].batch_size for lc in lifecycles] == [
        min(max_events, count - (i // max_events) * max_events) for i in range(count)
    ]


def payload_bytes(payload: dict[str, Any]) -> int:
    """A payload's compact JSON size."""
    return len(json.dumps(payload, separators=(",", ":")))


def padded(i: int, size: int) -> dict[str, Any]:
    """An event whose payload's compact JSON is exactly ``size`` bytes."""
    base = payload_bytes({"id": i, "pad": ""})
    return event(i, pad="x" * (size - base))


def array_bytes(payloads: list[Any]) -> int:
    """The bytes of the payloads sent as one compact JSON array."""
    return len(json.dumps(payloads, separators=(",", ":")).encode())


class SendArray(SendBatch):
    """A batching action whose request body is the bare JSON array of its payloads."""

    name = "send_array"

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/one", json=[payload])

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json=list(payloads))


array_destination = make_destination(SendArray())


def bodies(*routes: respx.Route) -> list[bytes]:
    return [call.request.content for route in routes for call in route.calls]


def test_a_batch_whose_array_body_is_exactly_max_bytes_is_sent_whole() -> None:
    events = [padded(i, 100) for i in range(3)]
    limit = 2 + 3 * 100 + 2  # "[" p "," p "," p "]"
    _, batch, one, _ = deliver(
        events, settings={"max_events": 100, "max_bytes": limit}, dest=array_destination
    )

    assert batch.call_count == 1
    assert one.call_count == 0
    (body,) = bodies(batch)
    assert len(body) == limit
    assert [p["id"] for p in json.loads(body)] == [0, 1, 2]


def test_one_byte_under_the_array_body_splits_the_batch() -> None:
    events = [padded(i, 100) for i in range(3)]
    limit = 2 + 3 * 100 + 2 - 1
    _, batch, one, _ = deliver(
        events, settings={"max_events": 100, "max_bytes": limit}, dest=array_destination
    )

    assert [sent_ids(c) for c in batch.calls] == [[0, 1]]
    assert len(bodies(batch)[0]) == 2 + 2 * 100 + 1
    assert [sent_ids(c) for c in one.calls] == [[2]]
    assert all(len(body) <= limit for body in bodies(batch, one))


def test_byte_limit_is_never_exceeded_with_mixed_sizes() -> None:
    sizes = [40, 90, 60, 100, 20, 75, 100, 33, 67, 98, 99]
    events = [padded(i, size) for i, size in enumerate(sizes)]
    lifecycles, batch, one, _ = deliver(
        events, settings={"max_events": 100, "max_bytes": 200}, dest=array_destination
    )

    sent: list[int] = []
    for body in bodies(batch, one):
        payloads = json.loads(body)
        assert len(body) == array_bytes(payloads) <= 200
        sent.extend(p["id"] for p in payloads)
    assert sorted(sent) == list(range(len(sizes)))
    assert all(lc.delivered for lc in lifecycles)
    # in order, each batch as full as the limit allows: 1 + (40+1) + (90+1) + (60+1) = 194
    assert [sent_ids(c) for c in batch.calls] == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]


def test_a_payload_alone_at_max_bytes_is_sent() -> None:
    events = [padded(0, 198)]  # "[" + 198 + "]" == 200
    lifecycles, batch, one, _ = deliver(
        events, settings={"max_events": 100, "max_bytes": 200}, dest=array_destination
    )

    assert [len(b) for b in bodies(batch, one)] == [200]
    assert lifecycles[0].delivered


def test_a_payload_alone_over_max_bytes_fails_and_the_others_are_delivered() -> None:
    events = [padded(0, 50), padded(1, 199), padded(2, 50)]
    lifecycles, batch, one, _ = deliver(
        events, settings={"max_events": 100, "max_bytes": 200}, dest=array_destination
    )

    assert [[p["id"] for p in json.loads(b)] for b in bodies(batch, one)] == [[0, 2]]
    first, big, last = lifecycles
    assert first.delivered and last.delivered
    assert big.outcome == "failed: permanent"
    assert big.attempts == []  # never sent
    assert big.error is not None
    assert big.error.cls == "PayloadTooLarge"
    assert big.error.message == (
        "payload: 201 bytes (as a batch of one) is over send_array's max_bytes=200; not sent"
    )


# -- multi-status answers --------------------------------------------------------------------


def multi_status(*errors: tuple[int, int]) -> httpx.Response:
    return httpx.Response(
        200,
        json={"errors": [{"index": i, "status": s, "message": f"HTTP {s}"} for i, s in errors]},
    )


def test_a_partial_failure_resends_only_the_retryable_events() -> None:
    lifecycles, batch, one, sleeps = deliver(
        [event(i) for i in range(5)],
        settings={"max_events": 10},
        batch=[multi_status((1, 503), (2, 429), (3, 400)), multi_status()],
    )

    assert [sent_ids(c) for c in batch.calls] == [[0, 1, 2, 3, 4], [1, 2]]
    assert one.call_count == 0
    assert sleeps == [0.5]
    outcomes = [lc.outcome.value for lc in lifecycles]
    assert outcomes == ["delivered", "delivered", "delivered", "failed: permanent", "delivered"]
    assert [len(lc.attempts) for lc in lifecycles] == [1, 2, 2, 1, 1]
    assert lifecycles[3].error is not None
    assert lifecycles[3].error.cls == "PayloadValidationError"
    first = lifecycles[0].to_dict()["attempts"][0]
    assert first["batch_size"] == 5
    assert first["error"]["message"].startswith("3 of 5 events failed")
    assert first["retry"]["decision"] == "retry"
    assert "(2 of 5 events)" in first["retry"]["reason"]
    second = lifecycles[1].to_dict()["attempts"][1]
    assert (second["batch_size"], second["wait_before_s"]) == (2, 0.5)
    assert second["retry"]["decision"] == "done"


def test_good_events_are_never_resent_while_the_retryable_ones_are_exhausted() -> None:
    lifecycles, batch, _, sleeps = deliver(
        [event(i) for i in range(4)],
        settings={"max_events": 10},
        batch=[multi_status((0, 500), (2, 500))] + [multi_status((0, 500), (1, 500))] * 2,
    )

    assert [sent_ids(c) for c in batch.calls] == [[0, 1, 2, 3], [0, 2], [0, 2]]
    assert sleeps == [0.5, 1.0]
    assert [lc.outcome.value for lc in lifecycles] == [
        "failed: retryable exhausted",
        "delivered",
        "failed: retryable exhausted",
        "delivered",
    ]
    last = lifecycles[0].attempts[-1].retry
    assert last is not None and "max_attempts=3" in last.reason
    assert lifecycles[0].attempts[-1] is lifecycles[2].attempts[-1]


def test_a_whole_batch_failure_retries_the_whole_batch() -> None:
    lifecycles, batch, _, _ = deliver(
        [event(i) for i in range(3)], batch=[httpx.Response(502), multi_status()]
    )

    assert [sent_ids(c) for c in batch.calls] == [[0, 1, 2], [0, 1, 2]]
    assert all(lc.delivered and len(lc.attempts) == 2 for lc in lifecycles)


def test_a_permanent_whole_batch_failure_fails_every_event() -> None:
    lifecycles, batch, _, _ = deliver(
        [event(i) for i in range(3)], batch=[httpx.Response(400, json={"message": "bad"})]
    )

    assert batch.call_count == 1
    for lc in lifecycles:
        assert lc.outcome == "failed: permanent"
        assert lc.error is not None and lc.error.message == "HTTP 400 Bad Request: bad"
        assert lc.attempts[0].retry is not None
        assert lc.attempts[0].retry.decision == "give up"


# -- 413 -------------------------------------------------------------------------------------


def too_large_above(limit: int) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        if len(json.loads(request.content)["events"]) > limit:
            return httpx.Response(413, json={"message": "payload too large"})
        return httpx.Response(200, json={"errors": []})

    return answer


def test_413_on_a_batch_splits_it_in_halves() -> None:
    lifecycles, batch, one, sleeps = deliver(
        [event(i) for i in range(8)], settings={"max_events": 8}, batch=too_large_above(4)
    )

    first, *rest = (sent_ids(c) for c in batch.calls)
    assert first == list(range(8))
    halves = sorted(rest)
    assert halves == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert one.call_count == 0
    assert sleeps == []
    for lc in lifecycles:
        assert lc.delivered
        first, second = lc.to_dict()["attempts"]
        assert first["retry"]["decision"] == "split"
        assert first["error"]["status"] == 413
        assert (second["number"], second["batch_size"]) == (2, 4)


def test_413_splits_again_until_the_batches_fit() -> None:
    lifecycles, batch, one, _ = deliver(
        [event(i) for i in range(8)],
        settings={"max_events": 8},
        batch=too_large_above(1),
        one=[httpx.Response(200)] * 8,
    )

    assert batch.call_count == 1 + 2 + 4
    assert sorted(i for c in one.calls for i in sent_ids(c)) == list(range(8))
    for lc in lifecycles:
        assert lc.delivered
        decisions = [a.retry.decision for a in lc.attempts if a.retry]
        assert decisions == ["split", "split", "split", "done"]
        assert [a.batch_size for a in lc.attempts] == [8, 4, 2, 1]


def test_413_for_a_single_event_is_permanent() -> None:
    (lifecycle,), _, one, _ = deliver([event(0)], one=[httpx.Response(413)])

    assert one.call_count == 1
    assert lifecycle.outcome == "failed: permanent"
    assert lifecycle.error is not None and lifecycle.error.status == 413


# -- batch keys and shared attempts ----------------------------------------------------------


def test_batch_key_keeps_groups_apart() -> None:
    ops = ["add", "remove", "add", "remove", "add", "add"]
    _, batch, one, _ = deliver(
        [event(i, op=op) for i, op in enumerate(ops)], settings={"max_events": 10}
    )

    calls = list(batch.calls) + list(one.calls)
    groups = []
    for call in calls:
        body = json.loads(call.request.content)
        payloads = body.get("events", [body])
        assert len({p["op"] for p in payloads}) == 1
        groups.append(sorted(p["id"] for p in payloads))
    assert sorted(groups) == [[0, 2, 4, 5], [1, 3]]


def test_events_of_a_batch_share_its_attempts() -> None:
    lifecycles, _, _, _ = deliver(
        [event(i) for i in range(3)], batch=[httpx.Response(500), multi_status()]
    )

    a, b, c = lifecycles
    for i in range(2):
        assert a.attempts[i] is b.attempts[i] is c.attempts[i]
    assert a.to_dict()["attempts"] == b.to_dict()["attempts"] == c.to_dict()["attempts"]
    assert a.id != b.id
    assert [lc.payload for lc in lifecycles] == [{"id": 0}, {"id": 1}, {"id": 2}]


def test_batching_off_sends_one_request_per_event() -> None:
    sleeps: list[float] = []
    with respx.mock() as mock:
        one = mock.post(ONE_URL).mock(return_value=httpx.Response(200))
        with Delivery(
            destination, {"endpoint": ENDPOINT}, sleep=sleeps.append, batching=False
        ) as delivery:
            lifecycles = delivery.send_many([event(i) for i in range(4)])
    assert one.call_count == 4
    assert all(lc.delivered for lc in lifecycles)


# -- bad events and connector bugs -----------------------------------------------------------


def test_an_event_that_cannot_be_mapped_does_not_stop_the_others() -> None:
    events = [event(0), event(1, bad=True), event(2), event(3)]
    lifecycles, batch, _, _ = deliver(events, settings={"max_events": 10})

    assert [sent_ids(c) for c in batch.calls] == [[0, 2, 3]]
    bad = lifecycles[1]
    assert bad.outcome == "failed: permanent"
    assert bad.attempts == []
    assert bad.error is not None
    assert (bad.error.cls, bad.error.message) == (
        "InvalidEvent",
        "properties.bad: cannot be mapped",
    )
    assert [lc.outcome.value for lc in lifecycles].count("delivered") == 3


class CrashesInPerform(SendBatch):
    name = "crashes"

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult:
        raise RuntimeError("connector bug")

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        raise KeyError("missing")


class CrashesInMap(SendBatch):
    name = "crashes_in_map"

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        assert isinstance(event, Track)
        if event.properties["id"] == 1:
            return {}["nope"]  # type: ignore[no-any-return]
        return super().map(event, settings)


class CrashesInBatchKey(SendBatch):
    name = "crashes_in_batch_key"

    def batch_key(self, payload: dict[str, Any]) -> Hashable:
        if payload["id"] == 1:
            raise ValueError("no key")
        return None


def test_a_crashing_perform_fails_permanently_without_raising() -> None:
    lifecycles, batch, one, _ = deliver(
        [event(i) for i in range(4)], dest=make_destination(CrashesInPerform())
    )

    assert batch.call_count == one.call_count == 0
    for lc in lifecycles:
        assert lc.outcome == "failed: permanent"
        assert lc.error is not None and lc.error.cls == "IntegrationError"
        assert "crashed" in lc.error.message
    assert lifecycles[0].error is not None
    assert lifecycles[0].error.message == "crashes crashed: RuntimeError: connector bug"
    assert lifecycles[3].error is not None
    assert "KeyError" in lifecycles[3].error.message  # the chunk of one, through perform


def test_a_crashing_map_fails_only_that_event() -> None:
    lifecycles, batch, _, _ = deliver(
        [event(i) for i in range(3)], dest=make_destination(CrashesInMap())
    )

    assert [sent_ids(c) for c in batch.calls] == [[0, 2]]
    assert lifecycles[1].outcome == "failed: permanent"
    assert lifecycles[1].error is not None
    assert lifecycles[1].error.cls == "IntegrationError"
    assert lifecycles[1].error.message.startswith("crashes_in_map.map crashed: KeyError")
    assert lifecycles[0].delivered and lifecycles[2].delivered


def test_a_crashing_batch_key_fails_only_that_event() -> None:
    lifecycles, batch, _, _ = deliver(
        [event(i) for i in range(3)], dest=make_destination(CrashesInBatchKey())
    )

    assert [sent_ids(c) for c in batch.calls] == [[0, 2]]
    assert lifecycles[1].outcome == "failed: permanent"
    assert lifecycles[1].error is not None
    assert "batch_key crashed: ValueError: no key" in lifecycles[1].error.message
