"""The stream's fused path (``sdk.delivery._fused``) against the general path it shortcuts.

The same events go through ``stream()`` twice: as it runs (plain events of a ``WireForward``
action take the fused path) and with its lanes taken away (every event prepared in full, as
before the fused path). The bytes sent, request by request, and each event's result (outcome,
error, attempts, reason, and the full record of a failure) must be the same, for any mix of
events: valid and invalid, with integrations objects that filter or keep entries, from Engage,
with an upstream ``writeKey``, over 32 KB or over a batch's byte limit, with NaN, Infinity or
lone surrogates, not objects at all."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.segment import destination as segment
from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Subscription,
)
from sdk.connector import WireForward
from sdk.delivery import DeliveryResult
from sdk.delivery import _stream as stream_module
from sdk.delivery._fused import lanes_of
from sdk.spec._messages import _VALIDATE, message_to_json
from sdk.spec._wire import INTEGRATIONS_BYTES, WITHOUT_INTEGRATIONS

ENDPOINT = "https://mock.test"


class Capture(httpx.AsyncBaseTransport):
    """Keeps each request's body; answers 400 to a request holding a ``fail`` user."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.bodies.append(body)
        if b'"userId":"fail' in body:
            return httpx.Response(400, json={"error": "refused"})
        return httpx.Response(200, json={})

    def messages(self) -> list[bytes]:
        """Each request's messages as sent (the body less its envelope and ``sentAt``)."""
        out = []
        for body in self.bodies:
            assert body.startswith(b'{"batch":[') or body.startswith(b'{"events":[')
            out.append(body[body.index(b"[") + 1 : body.rindex(b"]")])
        return out


def _comparable(result: DeliveryResult) -> tuple[Any, ...]:
    lifecycle = result.lifecycle
    record = None
    if lifecycle is not None:
        record = (
            lifecycle.event,
            lifecycle.routing,
            lifecycle.action,
            lifecycle.payload,
            lifecycle.notes,
            lifecycle.outcome,
            lifecycle.error,
            [(a.number, a.batch_size, a.error) for a in lifecycle.attempts],
        )
    error = None if result.error is None else result.error.to_dict()
    return (
        result.index,
        result.message_id,
        result.outcome,
        error,
        result.attempts,
        result.reason,
        record,
    )


async def _run(
    destination: Destination[Any],
    settings: dict[str, Any],
    events: list[Any],
    *,
    fused: bool,
    record: Any = "failures",
) -> tuple[list[bytes], list[tuple[Any, ...]], int]:
    """Stream ``events`` (one request at a time, so requests go in order): the messages sent,
    the results by index, and how many events the general path prepared."""
    capture = Capture()
    prepared = 0
    real_prepare = stream_module.prepare

    def counting(*args: Any) -> Any:
        nonlocal prepared
        prepared += 1
        return real_prepare(*args)

    stream_module.prepare = counting  # type: ignore[assignment]
    try:
        async with AsyncDelivery(
            destination, settings, transport=capture, concurrency=1, sleep=_no_sleep
        ) as delivery:
            run = delivery.open_stream(iter(events), record=record, linger=60)
            if not fused:
                run._lanes = None
            else:
                assert run._lanes is not None
            results = []
            try:
                while batch := await run.next_results():
                    results.extend(batch)
            finally:
                await run.aclose()
    finally:
        stream_module.prepare = real_prepare  # type: ignore[assignment]
    assert sorted(r.index for r in results) == list(range(len(events)))
    return capture.messages(), sorted(map(_comparable, results)), prepared


async def _no_sleep(seconds: float) -> None:
    return None


SEGMENT = {"write_key": "wk-secret-1"}

# -- events -----------------------------------------------------------------------------------

_characters = st.characters(codec=None, exclude_categories=())  # surrogates and controls too
_text = st.one_of(
    st.text(_characters, max_size=8),
    st.sampled_from(["NaN", "Infinity", "\ufffd", "é", "\ud800", "fail", "integrations"]),
)
_numbers = st.one_of(
    st.integers(), st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 2.5, 1e300])
)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _numbers, _text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=8,
)
_objects = st.dictionaries(_text, _values, max_size=3)
_integrations = st.sampled_from(
    [
        {},
        {"All": False},
        {"All": True},
        {"Segment": True},
        {"Segment": False},
        {"All": False, "Segment": True},
        {"Mixpanel": False},
        {"Segment": {}},
        {"All": None, "Mixpanel": True},
    ]
)


def _blob(size: int) -> str:
    """Text of ``size`` characters for a large event. Words, not one run of letters: the
    record of a refused event is redacted, and the redactor's base64 scan takes seconds over
    a 32 KB run of base64 characters (a cost of its own, not of the path under test)."""
    return ("lorem " * (size // 6 + 1))[:size]


@st.composite
def events(draw: st.DrawFn) -> Any:
    shape = draw(st.sampled_from(["plain"] * 5 + ["odd"] * 2 + ["near", "not an object"]))
    if shape == "not an object":
        return draw(st.sampled_from([[], "text", 3, None]))
    kind = draw(st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]))
    # messageId and timestamp given: absent ones are drawn afresh by each run
    event: dict[str, Any] = {
        "type": kind,
        "messageId": draw(st.one_of(st.just("m"), _text)),
        "timestamp": "2026-12-07T09:00:00.123456Z",
        "userId": draw(st.sampled_from(["u1", "fail-1", "ü"])),
    }
    if kind == "track":
        event["event"] = draw(st.sampled_from(["Order Completed", ""]))
    if kind == "group":
        event["groupId"] = "g1"
    if kind == "alias":
        event["previousId"] = "p1"
    field = "properties" if kind in ("track", "page", "screen") else "traits"
    event[field] = draw(_objects)
    if shape == "odd":
        odd = draw(
            st.sampled_from(
                [
                    "integrations",
                    "personas",
                    "writeKey",
                    "big",
                    "no user",
                    "type",
                    "context",
                ]
            )
        )
        if odd == "integrations":
            event["integrations"] = draw(_integrations)
        elif odd == "personas":
            event["context"] = {
                "personas": {"computation_key": "vip", "computation_class": "audience"}
            }
            event.setdefault("traits", {})["vip"] = draw(st.booleans())
        elif odd == "writeKey":
            event["writeKey"] = "upstream"
        elif odd == "big":
            event[field] = {"blob": _blob(draw(st.sampled_from([1_500, 32_600, 40_000])))}
        elif odd == "no user":
            del event["userId"]
        elif odd == "type":
            event["type"] = draw(st.sampled_from(["TRACK", 1, ["track"]]))
        else:
            event["context"] = draw(_objects)
    if draw(st.integers(0, 9)) == 0:
        event["integrations"] = {}
    event.update(draw(st.dictionaries(_text, _values, max_size=2)))  # unknown fields
    if shape == "near":  # its wire JSON (with "integrations":{}) around Segment's 32 KB limit
        event["type"], event["event"], event["messageId"] = "track", "Order Completed", "m"
        event["properties"] = {"blob": ""}
        try:
            wire = len(message_to_json(_VALIDATE(event)))
        except Exception:  # refused anyway (a NaN, a lone surrogate...)
            wire = 150
        event["properties"]["blob"] = _blob(32 * 1024 - wire + draw(st.integers(-2, 2)))
    return event


_STAMPED = {
    "type": "track",
    "event": "E",
    "userId": "u",
    "messageId": "m",
    "timestamp": "2026-01-01",
}

SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(st.lists(events(), min_size=1, max_size=12), st.sampled_from(["failures", "none", 3]))
@example(
    [
        {**_STAMPED, "properties": {"a": math.nan}},
        {**_STAMPED, "properties": {"a": [-math.inf]}},
        {**_STAMPED, "properties": {"\ud800": 1}},
        {**_STAMPED, "properties": {"a": "\ufffd"}},
        {**_STAMPED, "properties": {"a": _blob(40000)}},
        {**_STAMPED, "context": {"integrations": {}}},
        {**_STAMPED, "\ud800": "lone surrogate in a key"},
    ],
    "failures",
)
async def test_the_fused_path_sends_and_settles_what_the_general_path_does(
    batch: list[Any], record: Any
) -> None:
    batch = [_STAMPED, *batch]  # the first event makes the action's group: the rest may fuse
    fused = await _run(segment, SEGMENT, batch, fused=True, record=record)
    general = await _run(segment, SEGMENT, batch, fused=False, record=record)
    assert fused[0] == general[0]  # the bytes sent, request by request
    assert repr(fused[1]) == repr(general[1])  # each result, records included (NaN and all)
    assert general[2] == len(batch)


class Settings(DestinationSettings):
    """Only the ``endpoint`` every destination has."""


class Forward(Action[Settings, bytes]):
    """Forwards the message as its wire JSON less ``"integrations":{}``; batches of at most
    2,000 bytes (so a message of a few KB is refused there, as too large for a batch)."""

    name = "forward"
    subscribe = Subscription.of("track", "identify")
    batch = BatchLimits(max_events=3, max_bytes=2_000)
    wire_forward = WireForward(unless_extra=frozenset({"skipMe"}))

    def map_wire(self, event: AnyMessage, wire: bytes, settings: Settings) -> bytes:
        return WITHOUT_INTEGRATIONS[type(event)](event) if not event.integrations else wire

    def map(self, event: AnyMessage, settings: Settings) -> bytes:
        return message_to_json(event)

    def payload_size(self, payload: bytes) -> int:
        return len(payload)

    async def perform_batch(self, ctx: Context[Settings], payloads: Any) -> None:
        await ctx.http.post("/v1/events", content=b'{"events":[' + b",".join(payloads) + b"]}")


def _forwarding(action: Action[Settings, Any] | None = None) -> Destination[Settings]:
    return Destination(
        name="Forwarding",
        slug="forwarding",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[action or Forward()],
        base_url=lambda s: ENDPOINT,
    )


@SLOW
@given(st.lists(events(), min_size=1, max_size=10))
async def test_another_forwarding_action_gets_the_same_from_either_path(batch: list[Any]) -> None:
    # Smaller batches (by count and bytes) than Segment's: cuts, and refusals for size.
    for event in batch:
        if isinstance(event, dict) and event.get("userId") == "ü":
            event["skipMe"] = 1
    batch = [_STAMPED, *batch]
    fused = await _run(_forwarding(), {}, batch, fused=True)
    general = await _run(_forwarding(), {}, batch, fused=False)
    assert fused[0] == general[0]
    assert repr(fused[1]) == repr(general[1])


def _plain(i: int) -> dict[str, Any]:
    return {"type": "track", "event": "E", "userId": f"u{i}", "messageId": f"m{i}"}


async def test_plain_events_skip_prepare_and_unusual_ones_take_it() -> None:
    plain = [_plain(i) for i in range(7)]
    unusual = [
        {**_plain(7), "integrations": {"All": False, "Segment": True}},
        {**_plain(8), "writeKey": "upstream"},
        {**_plain(9), "userId": ""},  # invalid
        {**_plain(10), "properties": {"x": math.inf}},
    ]
    _, results, prepared = await _run(segment, SEGMENT, plain + unusual, fused=True)
    # The first event makes the action's batch through the general path; the others of the
    # plain ones go fused; each unusual one is prepared in full.
    assert prepared == 1 + len(unusual)
    assert [r[2].value for r in results] == ["delivered"] * 9 + ["failed: permanent"] * 2


async def test_an_event_without_id_or_timestamp_gets_them_on_the_fused_path() -> None:
    bare = [{"type": "identify", "userId": f"u{i}", "traits": {"n": i}} for i in range(3)]
    sent, results, prepared = await _run(segment, SEGMENT, bare, fused=True)
    assert prepared == 1
    messages = json.loads(b"[" + sent[0] + b"]")
    assert [m["messageId"] for m in messages] == [r[1] for r in results]
    assert len({m["messageId"] for m in messages}) == 3
    assert all(m["timestamp"].endswith("Z") and "integrations" not in m for m in messages)


def test_the_bytes_written_are_the_wire_json_less_its_empty_integrations() -> None:
    for kind in ("track", "identify", "page", "screen", "group", "alias"):
        message = _VALIDATE(
            {
                "type": kind,
                "userId": "u",
                "event": "E",
                "groupId": "g",
                "previousId": "p",
                "context": {"integrations": {}, "x": 1},
                "z": None,
            }
        )
        wire = message_to_json(message)
        written = WITHOUT_INTEGRATIONS[type(message)](message)
        assert len(wire) - len(written) == INTEGRATIONS_BYTES
        assert wire.replace(b',"integrations":{},', b",", 1) != wire
        assert written == wire.replace(b'},"integrations":{},', b"},", 1)


class WithNotes(Forward):
    def payload_notes(self, payload: bytes) -> list[str]:
        return ["a note"]


class Keyed(Forward):
    def batch_key(self, payload: bytes) -> Any:
        return payload[:5]


class Whole(Forward):
    wire_forward = WireForward(drops_empty_integrations=False)


@pytest.mark.parametrize("action", [WithNotes(), Keyed(), Whole()])
def test_an_action_that_does_more_per_event_gets_no_lane(action: Action[Settings, Any]) -> None:
    assert lanes_of(AsyncDelivery(_forwarding(action))) is None


def test_lanes_need_a_batched_delivery_and_a_declaring_action() -> None:
    assert lanes_of(AsyncDelivery(_forwarding())) is not None
    assert lanes_of(AsyncDelivery(_forwarding(), batching=False)) is None
    plain: Callable[[], Any] = type("Plain", (Forward,), {"wire_forward": None})
    assert lanes_of(AsyncDelivery(_forwarding(plain()))) is None
