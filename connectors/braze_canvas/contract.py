"""The Braze Canvas connector's contract, with Braze's recorded answers."""

from __future__ import annotations

import httpx

from connectors.braze_canvas import MAX_RECIPIENTS, destination
from sdk.testing import Contract, decoded_body

#: Export Canvas details, trimmed to the fields the credentials check reads.
CANVAS_DETAILS = {
    "name": "Second Purchase Nurture",
    "archived": False,
    "draft": False,
    "enabled": True,
    "schedule_type": "api_triggered",
    "message": "success",
}


def _respond(request: httpx.Request) -> httpx.Response:
    if request.method == "GET" and request.url.path.endswith("/canvas/details"):
        return httpx.Response(200, json=CANVAS_DETAILS)
    return httpx.Response(201, json={"dispatch_id": "dsp_contract_1", "message": "success"})


def _unauthorized(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"message": "Invalid API Key"})


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    recipients = body.get("recipients") if isinstance(body, dict) else None
    return len(recipients) if isinstance(recipients, list) else 0


contract = Contract(
    destination=destination,
    settings={
        "api_key": "brz-canvas-key-4b8f0c6e",
        "rest_endpoint": "https://rest.fra-01.braze.eu",
        "canvas_id": "cnv-2f6a9d0e-5b1c-4f7e-9a3d-8c2e1b7f4a60",
    },
    respond=_respond,
    auth_failure=_unauthorized,
    count_events=_count_events,
    vendor_batch_limit=MAX_RECIPIENTS,
)
