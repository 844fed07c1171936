"""The sandbox connector's contract: the sandbox server's own answers, recorded."""

from __future__ import annotations

import httpx

from connectors.sandbox import destination
from sdk.testing import Contract, decoded_body


def _respond(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "ok": True,
            "request_id": "00000000-0000-0000-0000-000000000000",
            "received": {"method": request.method, "path": request.url.path},
        },
    )


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    if isinstance(body, dict) and isinstance(body.get("batch"), list):
        return len(body["batch"])
    return 1


contract = Contract(
    destination=destination,
    settings={"api_key": "sandbox-contract-key-0042"},
    respond=_respond,
    count_events=_count_events,
    # The whole message is sent as it is, so every context.personas field reaches the receiver.
    personas_fields=(
        "computation_class",
        "computation_id",
        "computation_key",
        "namespace",
        "space_id",
    ),
)
