"""The lifecycle record keeps to the schema documented in ``sdk/transport/_lifecycle.py``,
serializes to JSON, and renders as the event tester's text."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import pytest
import respx
from _connectors import NoSettings, SendOne
from pydantic import SecretStr

import sdk.transport._lifecycle
from sdk import (
    LIFECYCLE_SCHEMA,
    AnyMessage,
    BatchLimits,
    BatchResult,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    Lifecycle,
    RetryPolicy,
    Subscription,
)
from sdk.delivery._render import render_body, render_lifecycle

ENDPOINT = "https://mock.test"

# -- a structural checker, written from the docstring ----------------------------------------

NUMBER = (int, float)
OPTIONAL_STR = (str, type(None))
ISO = "iso"
ANY_JSON = "json"


class Optional:
    def __init__(self, spec: Any) -> None:
        self.spec = spec


class OneOf:
    def __init__(self, *values: Any) -> None:
        self.values = values


ERROR = {"class": str, "message": str, "status": (int, type(None)), "retryable": bool}
TIMINGS = {
    name: (float, int, type(None))
    for name in ("connect_ms", "tls_ms", "request_sent_ms", "first_byte_ms", "total_ms")
}
BODY_KIND = OneOf("json", "text", "form", "empty", "binary")
EXCHANGE = {
    "request": {
        "method": str,
        "url": str,
        "headers": {str: str},
        "body": ANY_JSON,
        "body_kind": BODY_KIND,
    },
    "response": Optional(
        {
            "status": int,
            "reason": str,
            "http_version": str,
            "headers": {str: str},
            "body": ANY_JSON,
            "body_kind": BODY_KIND,
        }
    ),
    "timings": TIMINGS,
    "error": Optional(ERROR),
}
ATTEMPT = {
    "number": int,
    "batch_size": int,
    "started_at": ISO,
    "wait_before_s": NUMBER,
    "rate_limit_wait_s": NUMBER,
    "exchanges": [EXCHANGE],
    "error": Optional(ERROR),
    "retry": Optional(
        {
            "decision": OneOf("done", "retry", "give up", "split"),
            "reason": str,
            "wait_s": (float, int, type(None)),
        }
    ),
}
LIFECYCLE = {
    "schema": OneOf(LIFECYCLE_SCHEMA),
    "id": str,
    "destination": str,
    "slug": str,
    "action": OPTIONAL_STR,
    "started_at": ISO,
    "finished_at": Optional(ISO),
    "duration_ms": (float, int, type(None)),
    "event": {str: ANY_JSON},
    "routing": Optional(
        {
            "decision": OneOf("delivered", "filtered at destination"),
            "delivered": bool,
            "reason": str,
        }
    ),
    "payload": ANY_JSON,
    "attempts": [ATTEMPT],
    "outcome": OneOf(
        "pending", "delivered", "filtered", "failed: retryable exhausted", "failed: permanent"
    ),
    "error": Optional(ERROR),
    "notes": [str],
}


def check(value: Any, spec: Any, path: str = "$") -> list[str]:
    """Problems with ``value`` against ``spec``, each naming where it is."""
    if isinstance(spec, Optional):
        return [] if value is None else check(value, spec.spec, path)
    if isinstance(spec, OneOf):
        return [] if value in spec.values else [f"{path}: {value!r} not in {spec.values}"]
    if spec == ISO:
        if not isinstance(value, str):
            return [f"{path}: not an ISO-8601 string"]
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return [f"{path}: {value!r} is not ISO-8601"]
        return []
    if spec == ANY_JSON:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return [f"{path}: not JSON"]
        return []
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, item in enumerate(value) for p in check(item, spec[0], f"{path}[{i}]")]
    if isinstance(spec, dict) and list(spec) == [str]:
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        return [
            p
            for key, item in value.items()
            for p in ([f"{path}: key {key!r} not a string"] if not isinstance(key, str) else [])
            + check(item, spec[str], f"{path}.{key}")
        ]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        problems = [f"{path}: missing {k!r}" for k in spec if k not in value]
        problems += [f"{path}: unexpected {k!r}" for k in value if k not in spec]
        for key, item_spec in spec.items():
            if key in value:
                problems += check(value[key], item_spec, f"{path}.{key}")
        return problems
    if isinstance(value, bool) and bool not in (spec if isinstance(spec, tuple) else (spec,)):
        return [f"{path}: a bool where {spec} was expected"]
    return [] if isinstance(value, spec) else [f"{path}: {type(value).__name__} is not {spec}"]


def keys_of(spec: Any) -> set[str]:
    if isinstance(spec, Optional):
        return keys_of(spec.spec)
    if isinstance(spec, list):
        return keys_of(spec[0])
    if isinstance(spec, dict) and list(spec) != [str]:
        return set(spec) | {k for v in spec.values() for k in keys_of(v)}
    return set()


def test_the_checker_follows_the_documented_schema() -> None:
    doc = sdk.transport._lifecycle.__doc__ or ""
    documented = set(re.findall(r'"([a-z_]+)"', doc))
    missing = keys_of(LIFECYCLE) - documented
    assert not missing, f"the checker uses keys the docstring does not document: {missing}"
    for value in ("delivered", "filtered at destination", "give up", "split", "failed: permanent"):
        assert f'"{value}"' in doc


def test_the_checker_catches_problems() -> None:
    assert check({"a": 1}, {"a": str}) == ["$.a: int is not <class 'str'>"]
    assert check({}, {"a": str}) == ["$: missing 'a'"]
    assert check({"a": "x", "b": 1}, {"a": str}) == ["$: unexpected 'b'"]
    assert check(True, int) == ["$: a bool where <class 'int'> was expected"]


# -- test connectors -------------------------------------------------------------------------


class SendBatch(SendOne):
    name = "send_batch"
    subscribe = Subscription.of("identify")
    batch = BatchLimits(max_events=10)

    async def perform_batch(
        self, ctx: Context[NoSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json={"batch": list(payloads)})


destination = Destination(
    name="Lifecycle Test",
    slug="lifecycle_test",
    kind=DestinationKind.EVENT,
    settings=NoSettings,
    actions=[SendOne(), SendBatch()],
    retry=RetryPolicy(max_attempts=3, jitter=0.0),
)

TRACK = {"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "m-1"}


def send(events: list[Any], track: list[Any], batch: list[Any] | None = None) -> list[Lifecycle]:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{ENDPOINT}/v1/track").mock(side_effect=track)
        mock.post(f"{ENDPOINT}/v1/batch").mock(side_effect=batch or [])
        with Delivery(destination, {"endpoint": ENDPOINT}, sleep=lambda s: None) as delivery:
            return delivery.send_many(events)


def records() -> dict[str, Lifecycle]:
    identify = [{"type": "identify", "userId": f"u-{i}", "traits": {"n": i}} for i in range(3)]
    cases: dict[str, Lifecycle] = {}
    (cases["delivered"],) = send([TRACK], [httpx.Response(200, json={"ok": True})])
    (cases["delivered after retries"],) = send(
        [TRACK],
        [
            httpx.ConnectError("refused"),
            httpx.Response(503, text="<h1>down</h1>", headers={"content-type": "text/html"}),
            httpx.Response(204),
        ],
    )
    (cases["filtered"],) = send([{**TRACK, "integrations": {"All": False}}], [])
    (cases["no action"],) = send([{"type": "page", "userId": "u"}], [])
    (cases["invalid"],) = send([{"type": "track", "userId": "u"}], [])
    (cases["failed permanent"],) = send([TRACK], [httpx.Response(400, json={"error": "bad"})])
    (cases["failed retryable"],) = send([TRACK], [httpx.Response(500)] * 3)
    batch = send(identify, [], [httpx.Response(413), httpx.Response(200), httpx.Response(200)])
    cases["batch split"] = batch[0]
    return cases


RECORDS = records()


@pytest.mark.parametrize("case", list(RECORDS))
def test_every_record_keeps_to_the_schema(case: str) -> None:
    record = RECORDS[case].to_dict()

    assert check(record, LIFECYCLE) == []


@pytest.mark.parametrize("case", list(RECORDS))
def test_every_record_is_json(case: str) -> None:
    lifecycle = RECORDS[case]

    text = lifecycle.to_json()
    assert json.loads(text) == json.loads(json.dumps(lifecycle.to_dict()))
    json.dumps(lifecycle.to_dict(), allow_nan=False)  # strict JSON, no default=str needed
    assert json.loads(lifecycle.to_json(indent=None)) == json.loads(text)


def test_finished_records_have_an_end_and_a_duration() -> None:
    for case, lifecycle in RECORDS.items():
        record = lifecycle.to_dict()
        assert record["finished_at"] is not None, case
        assert record["duration_ms"] is not None and record["duration_ms"] >= 0, case
        assert record["started_at"] <= record["finished_at"], case


def test_outcomes_and_errors_agree() -> None:
    for case, lifecycle in RECORDS.items():
        record = lifecycle.to_dict()
        failed = record["outcome"].startswith("failed")
        assert (record["error"] is not None) == failed, case
        if record["outcome"] in ("delivered", "failed: retryable exhausted"):
            assert record["attempts"], case
        if record["outcome"] == "filtered":
            assert record["routing"]["delivered"] is False
            assert record["attempts"] == []


def test_attempts_are_numbered_and_their_waits_recorded() -> None:
    attempts = RECORDS["delivered after retries"].to_dict()["attempts"]

    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert [a["wait_before_s"] for a in attempts] == [0.0, 0.5, 1.0]
    assert [a["retry"]["decision"] for a in attempts] == ["retry", "retry", "done"]
    assert [a["retry"]["wait_s"] for a in attempts] == [0.5, 1.0, None]
    kinds = [
        a["exchanges"][0]["response"] and a["exchanges"][0]["response"]["body_kind"]
        for a in attempts
    ]
    assert kinds == [None, "text", "empty"]


def test_a_pending_record_keeps_to_the_schema() -> None:
    lifecycle = Lifecycle(destination="D", slug="d", event={})

    record = lifecycle.to_dict()
    assert record["outcome"] == "pending"
    assert record["finished_at"] is None
    assert check(record, LIFECYCLE) == []


def test_record_ids_are_unique() -> None:
    ids = {lifecycle.id for lifecycle in RECORDS.values()}

    assert len(ids) == len(RECORDS)


# -- rendering -------------------------------------------------------------------------------


def test_render_shows_the_status_line_attempts_and_waits() -> None:
    text = render_lifecycle(RECORDS["delivered after retries"])

    assert "Destination  Lifecycle Test (lifecycle_test)" in text
    assert "Action       send_one" in text
    assert 'Event        track "Order Completed" for u-1 (m-1)' in text
    assert "Routing      delivered" in text
    assert "Attempt 1\n" in text
    assert "Attempt 2 after waiting 0.50s" in text
    assert "Attempt 3 after waiting 1.00s" in text
    assert f"  -> POST {ENDPOINT}/v1/track" in text
    assert "  !! RetryableError: network error: ConnectError: refused" in text
    assert "  <- 503 Service Unavailable" in text
    assert "<h1>down</h1>" in text
    assert "  <- 204 No Content" in text
    assert "(empty body)" in text
    assert "  => retry in 0.50s: RetryableError is retryable; waiting (backoff)" in text
    assert "  => done: delivered" in text
    assert text.splitlines()[-1] == "Outcome      delivered (204 No Content)"


def test_render_shows_a_failure() -> None:
    text = render_lifecycle(RECORDS["failed permanent"])

    assert "  <- 400 Bad Request" in text
    assert "  => give up: PayloadValidationError is not retryable" in text
    assert "Outcome      failed: permanent" in text
    assert text.splitlines()[-1] == "Error        PayloadValidationError: HTTP 400 Bad Request: bad"


def test_render_shows_a_filtered_event_and_a_split_batch() -> None:
    filtered = render_lifecycle(RECORDS["filtered"])
    assert "Routing      filtered at destination: integrations.All is false" in filtered
    assert "Attempt" not in filtered
    assert filtered.splitlines()[-1] == "Outcome      filtered"

    split = render_lifecycle(RECORDS["batch split"])
    assert "Attempt 1 (batch of 3)" in split
    assert "  => split: 413 for 3 events" in split


def test_render_without_bodies_leaves_headers_and_bodies_out() -> None:
    text = render_lifecycle(RECORDS["delivered"], bodies=False)

    assert "content-type" not in text
    assert '"ok": true' not in text
    assert "  <- 200 OK" in text


@pytest.mark.parametrize(
    "event",
    [{"type": 5, "userId": "u"}, {"userId": ["u"], "event": {"x": 1}}, {}, {"type": None}],
)
def test_render_never_crashes_on_an_odd_event(event: dict[str, Any]) -> None:
    (lifecycle,) = send([event], [])

    text = render_lifecycle(lifecycle)
    assert "Outcome      failed: permanent" in text


def test_render_body() -> None:
    assert render_body(None, "empty") == "(empty body)"
    assert render_body({"a": 1}, "json") == '{\n  "a": 1\n}'
    assert render_body("plain", "text") == "plain"
    assert render_body("x" * 50, "text", limit=10).startswith("x" * 10 + "\n... (40 more")


# -- notes: what a delivered event lost --------------------------------------------------------

NOTE_SECRET = "sk-note-secret-9f8e7d6c"


class SecretSettings(DestinationSettings):
    api_key: SecretStr


class NotedOne(SendOne):
    """Notes at map time (from the payload) and at perform time (``ctx.note``)."""

    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Any) -> dict[str, Any]:
        return {"user": event.user_id, "dropped": ["plan"]}

    def payload_notes(self, payload: dict[str, Any]) -> list[str]:
        return [f"trait {name}: left out" for name in payload["dropped"]]

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        ctx.note(f"the vendor echoed key {ctx.settings.api_key.get_secret_value()} back")
        await ctx.http.post("/v1/track", json={"user": payload["user"]})


class NotedBatch(SendOne):
    """Notes one event of a batch by index, as ``BatchResult.fail`` fails one."""

    name = "noted_batch"
    subscribe = Subscription.of("identify")
    batch = BatchLimits(max_events=10)

    async def perform_batch(
        self, ctx: Context[Any], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult:
        await ctx.http.post("/v1/batch", json={"batch": list(payloads)})
        result = BatchResult(len(payloads))
        result.note(1, "the vendor ignored the field plan")
        return result


noted = Destination(
    name="Noted",
    slug="noted",
    kind=DestinationKind.EVENT,
    settings=SecretSettings,
    actions=[NotedOne(), NotedBatch()],
    retry=RetryPolicy(max_attempts=3, jitter=0.0),
)


def send_noted(events: list[Any], track: list[Any], batch: list[Any] | None = None) -> Any:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{ENDPOINT}/v1/track").mock(side_effect=track)
        mock.post(f"{ENDPOINT}/v1/batch").mock(side_effect=batch or [])
        settings = {"endpoint": ENDPOINT, "api_key": NOTE_SECRET}
        with Delivery(noted, settings, sleep=lambda s: None) as delivery:
            return delivery.send_many(events)


def test_notes_default_to_an_empty_list() -> None:
    for case, lifecycle in RECORDS.items():
        assert lifecycle.to_dict()["notes"] == [], case
    assert Lifecycle(destination="D", slug="d", event={}).notes == []


def test_map_and_perform_notes_are_recorded_once_and_masked() -> None:
    (lifecycle,) = send_noted([TRACK], [httpx.Response(503), httpx.Response(200, json={})])

    assert lifecycle.delivered and len(lifecycle.attempts) == 2
    # The perform note of both attempts is recorded once; the secret never is.
    assert lifecycle.notes == [
        "trait plan: left out",
        "the vendor echoed key [REDACTED] back",
    ]
    record = lifecycle.to_json()
    assert NOTE_SECRET not in record
    assert json.loads(record)["notes"] == lifecycle.notes
    assert check(lifecycle.to_dict(), LIFECYCLE) == []


def test_a_batch_note_goes_to_the_event_at_its_index() -> None:
    identify = [{"type": "identify", "userId": f"u-{i}"} for i in range(3)]
    lifecycles = send_noted(identify, [], [httpx.Response(200, json={})])

    assert [lc.delivered for lc in lifecycles] == [True, True, True]
    assert [lc.notes for lc in lifecycles] == [[], ["the vendor ignored the field plan"], []]


def test_a_note_index_outside_the_batch_is_refused() -> None:
    with pytest.raises(IndexError):
        BatchResult(2).note(2, "x")


def test_render_shows_the_notes_after_the_outcome() -> None:
    (lifecycle,) = send_noted([TRACK], [httpx.Response(200, json={})])

    lines = render_lifecycle(lifecycle).splitlines()
    assert lines[-3:] == [
        "Outcome      delivered (200 OK)",
        "Note         trait plan: left out",
        "Note         the vendor echoed key [REDACTED] back",
    ]
