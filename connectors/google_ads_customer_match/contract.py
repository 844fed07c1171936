"""The Google Ads Customer Match connector's contract, with Google's recorded answers (OAuth
token endpoint, OfflineUserDataJobService REST reference)."""

from __future__ import annotations

import httpx

from connectors.google_ads_customer_match import destination
from sdk.testing import Contract, decoded_body

CUSTOMER_ID = "1234567890"
JOB = f"customers/{CUSTOMER_ID}/offlineUserDataJobs/5550001"


def _respond(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/token"):
        return httpx.Response(
            200,
            json={
                "access_token": "ya29.a0AfH6SMContractAccessToken",
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/adwords",
                "token_type": "Bearer",
            },
        )
    if path.endswith("customers:listAccessibleCustomers"):
        return httpx.Response(200, json={"resourceNames": [f"customers/{CUSTOMER_ID}"]})
    if path.endswith("offlineUserDataJobs:create"):
        return httpx.Response(200, json={"resourceName": JOB})
    if path.endswith(":run"):
        return httpx.Response(200, json={"name": f"customers/{CUSTOMER_ID}/operations/77"})
    return httpx.Response(200, json={})  # addOperations: no partialFailureError


def _invalid_grant(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    if isinstance(body, dict) and isinstance(body.get("operations"), list):
        return len(body["operations"])
    return 0


def _is_auxiliary(request: httpx.Request) -> bool:
    """The token exchange, job creation and job run carry no user: plumbing, not delivery."""
    path = request.url.path
    return path.endswith(("/token", "offlineUserDataJobs:create", ":run"))


contract = Contract(
    destination=destination,
    settings={
        "developer_token": "devtok-Contract-0001",
        "client_id": "1234-contract.apps.googleusercontent.com",
        "client_secret": "GOCSPX-contract-client-secret",
        "refresh_token": "1//0contract-refresh-token",
        "customer_id": "123-456-7890",
        "login_customer_id": "9876543210",
        "user_list_id": "4242",
    },
    respond=_respond,
    auth_failure=_invalid_grant,
    count_events=_count_events,
    vendor_batch_limit=100_000,
    personas_in_request=False,
    personas_note=(
        "Customer Match operations carry only user identifiers; the computation key chooses "
        "the user list (user_list_map) instead"
    ),
    is_auxiliary=_is_auxiliary,
)
