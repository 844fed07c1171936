"""The Segment connector's contract, with Segment's recorded answers."""

from __future__ import annotations

import httpx

from connectors.segment import destination
from sdk.testing import Contract, decoded_body


def _respond(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True})


def _unauthorized(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"success": False, "message": "Invalid write key"})


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    return len(body["batch"]) if isinstance(body, dict) else 0


contract = Contract(
    destination=destination,
    settings={"write_key": "seg-write-key-5f1e2d"},
    respond=_respond,
    auth_failure=_unauthorized,
    count_events=_count_events,
)
