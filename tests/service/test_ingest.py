"""Ingest: Segment's HTTP Tracking API over real HTTP into a real SQLite queue."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from sdk.testing import Sandbox
from tests.service.conftest import WRITE_KEY, config_text, delivered, running, until


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_track_is_delivered_with_segment_timestamps(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        answer = await svc.post(
            "/v1/track",
            {
                "userId": "u1",
                "event": "Signed Up",
                "messageId": "m-1",
                "timestamp": "2026-01-01T00:00:00Z",
                "sentAt": "2026-01-01T00:00:10Z",  # device clock: 10 s after the event
            },
        )
        assert answer.status_code == 200
        assert answer.json() == {"success": True}
        assert await until(lambda: len(delivered(sandbox)) == 1)
    message = delivered(sandbox)[0]
    assert message["type"] == "track"
    assert message["messageId"] == "m-1"  # kept: destinations deduplicate on it
    assert _parse(message["originalTimestamp"]) == _parse("2026-01-01T00:00:00Z")
    received = _parse(message["receivedAt"])
    # timestamp = receivedAt - (sentAt - originalTimestamp): corrected for the device's clock
    assert (received - _parse(message["timestamp"])).total_seconds() == 10.0


async def test_message_without_timestamp_or_id_gets_both(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        answer = await svc.post("/v1/identify", {"anonymousId": "a1", "traits": {"x": 1}})
        assert answer.status_code == 200
        assert await until(lambda: len(delivered(sandbox)) == 1)
    message = delivered(sandbox)[0]
    assert message["type"] == "identify"
    assert message["messageId"]
    assert message["timestamp"] == message["receivedAt"]


async def test_write_key_in_body_or_basic_auth_else_401(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        message = {"userId": "u1", "event": "E"}
        ok = await svc.post("/v1/track", {**message, "writeKey": WRITE_KEY}, auth=None)
        assert ok.status_code == 200
        basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        ok = await svc.post(
            "/v1/track", message, auth=None, headers={"Authorization": f"Basic {basic}"}
        )
        assert ok.status_code == 200
        refused = await svc.post("/v1/track", message, auth=("nope", ""))
        assert refused.status_code == 401
        assert "write key" in refused.json()["message"]
        assert WRITE_KEY not in refused.text
        missing = await svc.post("/v1/track", message, auth=None)
        assert missing.status_code == 401


async def test_bad_message_is_400_naming_the_field_and_nothing_is_accepted(
    sandbox: Sandbox, tmp_path: Path
):
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        answer = await svc.post(
            "/v1/batch",
            {
                "batch": [
                    {"type": "track", "userId": "u", "event": "E"},
                    {"type": "track", "event": "E"},
                ]
            },
        )
        assert answer.status_code == 400
        assert (
            answer.json()["message"] == "batch[1].userId: one of userId or anonymousId is required"
        )
        assert svc.service.queue.pending() == 0
        answer = await svc.post("/v1/batch", {"batch": "nope"})
        assert answer.status_code == 400 and answer.json()["message"].startswith("batch:")
        answer = await svc.client.post(
            f"{svc.url}/v1/track", content=b"{not json", auth=(WRITE_KEY, "")
        )
        assert answer.status_code == 400 and answer.json()["message"].startswith("body:")


async def test_gzip_bodies_are_inflated_with_a_bound(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        body = b'{"batch": [{"type": "track", "userId": "u", "event": "E"}]}'
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        answer = await svc.client.post(
            f"{svc.url}/v1/batch",
            content=gzip.compress(body),
            headers=headers,
            auth=(WRITE_KEY, ""),
        )
        assert answer.status_code == 200
        bomb = gzip.compress(b'{"batch": [' + b" " * (5 * 1024 * 1024) + b"]}")
        assert len(bomb) < 100 * 1024
        answer = await svc.client.post(
            f"{svc.url}/v1/batch", content=bomb, headers=headers, auth=(WRITE_KEY, "")
        )
        assert answer.status_code == 413
        assert svc.service.queue.pending() == 1


async def test_size_limits_are_413(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        big = {"userId": "u", "event": "E", "properties": {"x": "y" * (33 * 1024)}}
        answer = await svc.post("/v1/track", big)
        assert answer.status_code == 413
        huge = {
            "batch": [
                {"type": "track", "userId": "u", "event": "E", "properties": {"x": "y" * 1024}}
            ]
            * 700
        }
        answer = await svc.post("/v1/batch", huge)
        assert answer.status_code == 413
        assert svc.service.queue.pending() == 0
        # and the server still answers on a new connection
        ok = await svc.post("/v1/track", {"userId": "u", "event": "E"})
        assert ok.status_code == 200


async def test_backlog_answers_429_with_retry_after(sandbox: Sandbox, tmp_path: Path):
    text = config_text(sandbox.url, delivery="max_backlog: 2")
    async with running(text, tmp_path / "data", workers=False) as svc:
        two = {"batch": [{"type": "track", "userId": "u", "event": "E"}] * 2}
        assert (await svc.post("/v1/batch", two)).status_code == 200
        answer = await svc.post("/v1/track", {"userId": "u", "event": "E"})
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "5"


async def test_filtered_messages_are_counted_with_the_reason(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        answer = await svc.post(
            "/v1/batch",
            {
                "batch": [
                    {"type": "track", "userId": "u", "event": "A", "integrations": {"All": False}},
                    {
                        "type": "track",
                        "userId": "u",
                        "event": "B",
                        "integrations": {"Sandbox": False},
                    },
                    {"type": "track", "userId": "u", "event": "C"},
                ]
            },
        )
        assert answer.status_code == 200
        assert await until(lambda: len(delivered(sandbox)) == 1)
        rows = await svc.service.queue.status(0)
        metrics = (await svc.client.get(f"{svc.url}/metrics")).text
    assert [m["event"] for m in delivered(sandbox)] == ["C"]
    (row,) = rows
    assert row.filtered_total == 2 and len(row.filtered) == 2
    assert all("Sandbox" in reason or "All" in reason for reason in row.filtered)
    assert 'destkit_accepted_total{source="web"} 3.0' in metrics


async def test_healthz_metrics_and_unknown_paths(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        health = await svc.client.get(f"{svc.url}/healthz")
        assert health.status_code == 200
        await svc.post("/v1/track", {"userId": "u", "event": "E"})
        assert await until(lambda: len(delivered(sandbox)) == 1)
        metrics = await svc.client.get(f"{svc.url}/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        for name in (
            "destkit_accepted_total",
            "destkit_delivered_total",
            "destkit_queue_depth",
            "destkit_delivery_latency_seconds_bucket",
        ):
            assert name in metrics.text
        assert (await svc.client.get(f"{svc.url}/v1/nope")).status_code == 404
        assert (await svc.client.get(f"{svc.url}/v1/track")).status_code == 405
        assert isinstance(health, httpx.Response)


async def test_pipelined_requests_are_answered_in_order(sandbox: Sandbox, tmp_path: Path):
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        host, port = svc.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        auth = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        requests = b""
        for i in range(10):
            body = json.dumps({"userId": "u", "event": "E"} if i != 6 else {"event": "E"}).encode()
            requests += (
                f"POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
        writer.write(requests)
        statuses = []
        for _ in range(10):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            statuses.append(int(head.split()[1]))
        writer.close()
        assert statuses == [200] * 6 + [400] + [200] * 3
        assert svc.service.queue.pending() == 9


async def test_a_stalled_connection_is_closed(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import sdk.service._http as http

    monkeypatch.setattr(http, "IDLE_TIMEOUT", 0.3)
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        host, port = svc.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, nothing answered
        writer.close()
        ok = await svc.post("/v1/track", {"userId": "u", "event": "E"})
        assert ok.status_code == 200


async def test_import_is_batch_and_an_unstorable_message_is_never_a_200(
    sandbox: Sandbox, tmp_path: Path
):
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        document = {"batch": [{"type": "page", "userId": "u", "name": "Home"}]}
        assert (await svc.post("/v1/import", document)).status_code == 200
        await svc.service.queue.close()  # the store is gone: ingest must not answer 200
        answer = await svc.post("/v1/import", document)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        metrics = (await svc.client.get(f"{svc.url}/metrics")).text
        assert 'destkit_rejected_total{reason="store"} 1.0' in metrics


async def test_a_message_the_stamps_would_take_past_32_kb_is_413_not_a_dead_letter(
    sandbox: Sandbox, tmp_path: Path
):
    """The 32 KB limit is checked on what will be delivered: the message with the fields
    ingest adds (``receivedAt``, ``originalTimestamp``). One that fits only without them is
    refused at once (413), never accepted and then refused by its destination's worker."""
    from sdk.spec import message_to_json, parse_message

    def sized(room: int) -> dict[str, object]:
        message: dict[str, object] = {
            "type": "track",
            "userId": "u",
            "event": "E",
            "messageId": "m-big",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "properties": {"x": ""},
        }
        size = len(message_to_json(parse_message(message)))
        message["properties"] = {"x": "y" * (32 * 1024 - size - room)}
        return message

    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        near = sized(room=20)  # fits as sent; the stamps add about 90 bytes
        answer = await svc.post("/v1/batch", {"batch": [near]})
        assert answer.status_code == 413
        assert answer.json()["message"].startswith("batch[0].message: is ")
        assert svc.service.queue.pending() == 0
        roomy = sized(room=200)  # with its stamps still within 32 KB: delivered
        answer = await svc.post("/v1/track", roomy)
        assert answer.status_code == 200
        assert await until(lambda: len(delivered(sandbox)) == 1)
    assert delivered(sandbox)[0]["messageId"] == "m-big"


async def test_a_clock_skew_past_the_calendar_is_400_naming_sent_at(
    sandbox: Sandbox, tmp_path: Path
):
    """timestamp = receivedAt - (sentAt - timestamp) can leave years 1 to 9999: a device clock
    that far off is refused naming the field (it was an internal error)."""
    async with running(config_text(sandbox.url), tmp_path / "data", workers=False) as svc:
        for timestamp, sent_at in [
            ("9999-12-31T00:00:00Z", "0001-01-02T00:00:00Z"),
            ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"),
        ]:
            message = {"userId": "u", "event": "E", "timestamp": timestamp, "sentAt": sent_at}
            answer = await svc.post("/v1/batch", {"batch": [{"type": "track", **message}]})
            assert answer.status_code == 400
            assert answer.json()["message"].startswith("batch[0].sentAt: is too far from")
        assert svc.service.queue.pending() == 0
        ok = await svc.post("/v1/track", {"userId": "u", "event": "E"})
        assert ok.status_code == 200
