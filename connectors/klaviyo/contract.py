"""The Klaviyo connector's contract, with Klaviyo's documented answers (Create Event: 202 and no
body; Create or Update Profile: the profile; Bulk Import Profiles: the queued job; Get Accounts;
JSON:API errors)."""

from __future__ import annotations

import httpx

from connectors.klaviyo import destination
from sdk.testing import Contract, decoded_body

LIST_ID = "Y6nRLr"
PROFILE_ID = "01GDDKASAP8TKDDA2GRZDSVP4H"


def _respond(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.startswith("/api/events"):
        return httpx.Response(202)
    if path.startswith("/api/profile-import"):
        return httpx.Response(
            201,
            json={"data": {"type": "profile", "id": PROFILE_ID, "attributes": {}}},
            headers={"content-type": "application/vnd.api+json"},
        )
    if path.startswith("/api/profile-bulk-import-jobs"):
        body = decoded_body(request)
        count = len(body["data"]["attributes"]["profiles"]["data"]) if isinstance(body, dict) else 0
        job = {"status": "queued", "total_count": count, "completed_count": 0}
        return httpx.Response(
            202, json={"data": {"type": "profile-bulk-import-job", "id": "job1", "attributes": job}}
        )
    if path.startswith("/api/profiles"):
        profile = {"email": "contract-user-1@example.com"}
        return httpx.Response(
            200, json={"data": [{"type": "profile", "id": PROFILE_ID, "attributes": profile}]}
        )
    if path.startswith("/api/lists/"):
        return httpx.Response(204)
    return httpx.Response(200, json={"data": [{"type": "account", "id": "AbC123"}]})


def _not_authenticated(request: httpx.Request) -> httpx.Response:
    error = {
        "id": "7b6fa4d8-1b1a-4f0c-9d7e-2d1f4b0f1c11",
        "status": 401,
        "code": "not_authenticated",
        "title": "Authentication credentials were not provided.",
        "detail": "Missing or invalid private key.",
        "source": {"pointer": "/data/"},
    }
    return httpx.Response(401, json={"errors": [error]})


def _count_events(request: httpx.Request) -> int:
    if request.method == "GET" and request.url.path.startswith("/api/profiles"):
        # A removal's lookup carries the users (one filter value each); the removal itself
        # carries only the profile ids found.
        filter_ = request.url.params.get("filter", "")
        return filter_.count('"') // 2
    body = decoded_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return 0
    data = body["data"]
    if data.get("type") == "profile-bulk-import-job":
        return len(data["attributes"]["profiles"]["data"])
    return 1


contract = Contract(
    destination=destination,
    settings={"api_key": "pk_contract_0123456789abcdef0123456789", "list_id": LIST_ID},
    respond=_respond,
    auth_failure=_not_authenticated,
    count_events=_count_events,
    vendor_batch_limit=10_000,
    personas_in_request=False,
    personas_note=(
        "membership events become list membership: a bulk profile import names the list "
        "(list_map chooses it by computation key) and has no room for context.personas"
    ),
)
