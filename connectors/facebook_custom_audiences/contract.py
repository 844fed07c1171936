"""The Facebook Custom Audiences connector's contract, with the Graph API's recorded answers
(Custom Audience Users reference; Handling Errors)."""

from __future__ import annotations

import httpx

from connectors.facebook_custom_audiences import destination
from sdk.testing import Contract, decoded_body

AUDIENCE_ID = "23851234567890123"


def _respond(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":  # test_authentication reads the audience node
        return httpx.Response(200, json={"id": AUDIENCE_ID, "name": "Engage: Contract Audience"})
    body = decoded_body(request)
    rows = len(body["payload"]["data"]) if isinstance(body, dict) else 0
    return httpx.Response(
        200,
        json={
            "audience_id": AUDIENCE_ID,
            "session_id": str(body["session"]["session_id"]) if isinstance(body, dict) else "0",
            "num_received": rows,
            "num_invalid_entries": 0,
            "invalid_entry_samples": {},
        },
    )


def _expired_token(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        400,
        json={
            "error": {
                "message": "Error validating access token: Session has expired.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "AbCdEfGh123",
            }
        },
    )


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    if isinstance(body, dict) and isinstance(body.get("payload"), dict):
        return len(body["payload"].get("data", []))
    return 0


contract = Contract(
    destination=destination,
    settings={
        "access_token": "EAAGm0PX4ZCpsBAContractToken0001",
        "app_secret": "contract-app-secret-7f3a",
        "audience_id": AUDIENCE_ID,
    },
    respond=_respond,
    auth_failure=_expired_token,
    count_events=_count_events,
    vendor_batch_limit=10_000,
    personas_in_request=False,
    personas_note=(
        "the users edge takes only the schema and hashed rows; the computation key chooses "
        "the custom audience (audience_map) instead"
    ),
)
