"""Ingest's stamps and fan-out, message by message, on the handler itself (a frozen clock, a
queue that keeps what it is given): ``timestamp = receivedAt - (sentAt - originalTimestamp)``
whatever zones the client wrote, and a message goes where the SDK's routing sends it."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sdk.service._ingest as ingest_module
from sdk.queue import Accepted, DeadLetter, DestinationStatus, Job, Queue, Settlement
from sdk.routing import route
from sdk.service import parse_config
from sdk.service._http import Request

NOW = dt.datetime(2026, 12, 7, 7, 30, 1, 234567, tzinfo=dt.UTC)
AUTH = {"authorization": "Basic " + base64.b64encode(b"k:").decode()}
CONFIG = """
sources:
  - {name: web, write_key: k}
destinations:
  - {name: A, connector: webhook, settings: {url: "http://127.0.0.1:9/a"}}
  - {name: B B, connector: webhook, settings: {url: "http://127.0.0.1:9/b"}}
"""


class _Frozen(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> Any:
        return NOW if tz else NOW.replace(tzinfo=None)


class _Kept(Queue):
    """Keeps what ingest enqueues; nothing else is asked of it here."""

    def __init__(self) -> None:
        self.kept: list[Accepted] = []

    async def enqueue(self, messages: Sequence[Accepted]) -> None:
        self.kept.extend(messages)

    def pending(self) -> int:
        return 0

    async def claim(self, destination: str, lane: int, limit: int, now: float) -> list[Job]:
        return []

    async def settle(self, destination: str, settlement: Settlement) -> None:
        return None

    async def status(self, now: float) -> list[DestinationStatus]:
        return []

    async def dead_letters(self, destination: str | None, limit: int) -> list[DeadLetter]:
        return []

    async def dead_letter(self, job_id: int) -> DeadLetter | None:
        return None

    async def replay(self, destination: str | None, job_id: int | None = None) -> int:
        return 0

    async def purge(self, destination: str | None) -> int:
        return 0

    async def close(self) -> None:
        return None


async def _accept(monkeypatch: pytest.MonkeyPatch, document: dict[str, Any]) -> list[Accepted]:
    monkeypatch.setattr(ingest_module, "datetime", _Frozen)
    queue = _Kept()
    ingest = ingest_module.Ingest(
        parse_config(CONFIG),
        queue,
        on_accepted=lambda source, n: None,
        on_rejected=lambda reason: None,
        on_enqueued=lambda: None,
        metrics=lambda: (b"", ""),
        health=lambda: True,
    )
    answer = await ingest(Request("POST", "/v1/batch", dict(AUTH), json.dumps(document).encode()))
    assert answer.status == 200, answer.body
    return queue.kept


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


ZONES = ["Z", "+00:00", "+02:00", "-05:30", ""]  # "": no zone, read as UTC


@pytest.mark.parametrize("sent_zone", ZONES)
@pytest.mark.parametrize("event_zone", ZONES)
async def test_timestamp_is_corrected_for_the_device_clock_in_any_zone(
    monkeypatch: pytest.MonkeyPatch, sent_zone: str, event_zone: str
):
    original = f"2026-12-01T10:00:00.123456{event_zone}"
    sent = f"2026-12-01T10:05:07.5{sent_zone}"
    batch = [
        {"type": "track", "event": "E", "userId": "u1", "timestamp": original},  # batch sentAt
        {"type": "track", "event": "E", "userId": "u2", "timestamp": original, "sentAt": sent},
        {"type": "track", "event": "E", "userId": "u3", "originalTimestamp": original},
        {"type": "identify", "anonymousId": "a1"},  # no time at all: receivedAt
    ]
    kept = await _accept(monkeypatch, {"batch": batch, "sentAt": sent})
    bodies = [json.loads(accepted.body) for accepted in kept]
    received = "2026-12-07T07:30:01.234Z"
    expected = NOW - (_utc(sent) - _utc(original))
    for body in bodies:
        assert body["receivedAt"] == received
    for body in bodies[:3]:
        assert body["originalTimestamp"] == original  # the client's own text
        assert body["sentAt"] == sent
        assert body["timestamp"] == expected.isoformat(timespec="milliseconds")[:-6] + "Z"
    assert bodies[3]["timestamp"] == received and "originalTimestamp" not in bodies[3]


async def test_without_sent_at_the_timestamp_is_the_clients(monkeypatch: pytest.MonkeyPatch):
    batch = [{"type": "track", "event": "E", "userId": "u1", "timestamp": "2026-01-01T00:00Z"}]
    (kept,) = await _accept(monkeypatch, {"batch": batch})
    body = json.loads(kept.body)
    assert body["timestamp"] == body["originalTimestamp"] == "2026-01-01T00:00Z"


@pytest.mark.parametrize(
    "integrations",
    [None, {}, {"All": False}, {"All": False, "B B": {}}, {"A": False}, {"A": 0, "All": None}],
)
async def test_fan_out_follows_the_routing(
    monkeypatch: pytest.MonkeyPatch, integrations: dict[str, Any] | None
):
    message: dict[str, Any] = {"type": "track", "event": "E", "userId": "u1", "messageId": "m1"}
    if integrations is not None:
        message["integrations"] = integrations
    (kept,) = await _accept(monkeypatch, {"batch": [message]})
    decisions = {name: route(integrations, name) for name in ("A", "B B")}
    assert list(kept.destinations) == [n for n, d in decisions.items() if d.delivered]
    assert list(kept.filtered) == [(n, d.reason) for n, d in decisions.items() if not d.delivered]
    assert (kept.message_id, kept.user_key) == ("m1", "u1")


# -- the corrected timestamp's text, against the plain datetime arithmetic ----------------

_ZONES = st.one_of(
    st.none(),
    st.integers(min_value=-24 * 60 + 1, max_value=24 * 60 - 1).map(
        lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
    ),
)


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59)))
def test_milliseconds_text_is_isoformat_cut_to_milliseconds(moment: dt.datetime):
    expected = moment.isoformat(timespec="milliseconds") + "Z"
    assert ingest_module._milliseconds(moment) == expected
    assert ingest_module._milliseconds(moment.replace(microsecond=0)) == (
        moment.replace(microsecond=0).isoformat(timespec="milliseconds") + "Z"
    )


def _reference(received: dt.datetime, sent: dt.datetime, original: dt.datetime) -> str:
    """The corrected timestamp as it was written before its text was cut by hand."""
    skew = ingest_module._aware(sent) - ingest_module._aware(original)
    return (received - skew).isoformat(timespec="milliseconds") + "Z"


@settings(max_examples=300)
@given(
    received=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    sent=st.datetimes(timezones=_ZONES),
    original=st.datetimes(timezones=_ZONES),
)
def test_corrected_timestamp_is_the_datetime_arithmetic(
    received: dt.datetime, sent: dt.datetime, original: dt.datetime
):
    try:
        expected: str | type[OverflowError] = _reference(received, sent, original)
    except OverflowError:
        expected = OverflowError
    if expected is OverflowError:
        with pytest.raises(OverflowError):
            ingest_module._corrected(received, sent, original)
    else:
        assert ingest_module._corrected(received, sent, original) == expected
