"""The Mixpanel connector's contract, with Mixpanel's recorded answers (Ingestion API docs)."""

from __future__ import annotations

import httpx

from connectors.mixpanel import destination
from sdk.testing import Contract, decoded_body


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    return len(body) if isinstance(body, list) else 0


def _respond(request: httpx.Request) -> httpx.Response:
    if request.url.path in ("/engage", "/groups"):
        # /engage?verbose=1 and /groups?verbose=1 answer {"status": 1, "error": null} when
        # the updates are valid.
        return httpx.Response(200, json={"status": 1, "error": None})
    # /import strict mode: the documented StrictReceived answer.
    return httpx.Response(
        200, json={"code": 200, "num_records_imported": _count_events(request), "status": "OK"}
    )


def _unauthorized(request: httpx.Request) -> httpx.Response:
    # The documented StrictUnauthorized answer.
    return httpx.Response(
        401, json={"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}
    )


contract = Contract(
    destination=destination,
    settings={
        "project_token": "mp-token-0f3e9a7c1b",
        "auth_method": "service_account",
        "service_account_username": "destkit.contract.sa",
        "service_account_secret": "mp-sa-secret-51c2d8e4",
        "project_id": "2195193",
    },
    respond=_respond,
    auth_failure=_unauthorized,
    count_events=_count_events,
    vendor_batch_limit=2000,
    # A profile update $sets traits: the key is one; context.personas would be overwritten by
    # the next computation, so it is not set on the profile.
    personas_fields={"identify": ("computation_key",)},
)
