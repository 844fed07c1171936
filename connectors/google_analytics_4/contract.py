"""The Google Analytics 4 connector's contract, with the Measurement Protocol's documented
answers: the collection server answers 204 with no body for every request; the validation server
answers ``{"validationMessages": [...]}``."""

from __future__ import annotations

import httpx

from connectors.google_analytics_4 import destination
from sdk.testing import Contract


def _respond(request: httpx.Request) -> httpx.Response:
    if request.url.path.startswith("/debug/"):
        return httpx.Response(200, json={"validationMessages": []})
    return httpx.Response(204)


def _bad_secret(request: httpx.Request) -> httpx.Response:
    # The collection server takes anything; a request without a valid api_secret is refused
    # with 403 by Google's front end when the secret is malformed.
    return httpx.Response(403, json={"error": {"code": 403, "message": "Forbidden"}})


contract = Contract(
    destination=destination,
    settings={"measurement_id": "G-CONTRACT42", "api_secret": "ga4-contract-secret-Qx9Zk2"},
    respond=_respond,
    auth_failure=_bad_secret,
    # A track membership event carries the key and ids as event parameters; identify calls are
    # refused (GA4 has no profile update), so only track reaches the API.
)
