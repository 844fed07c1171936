"""The webhook connector's contract."""

from __future__ import annotations

import httpx

from connectors.webhook import destination
from sdk.testing import Contract, decoded_body


def _respond(request: httpx.Request) -> httpx.Response:
    # Webhook receivers usually answer 2xx with a short body; some answer 204.
    return httpx.Response(202, json={"received": True})


def _count_events(request: httpx.Request) -> int:
    body = decoded_body(request)
    return len(body) if isinstance(body, list) else 1


contract = Contract(
    destination=destination,
    settings={
        "url": "https://hooks.example.com/destkit",
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "headers": {"X-Team": "growth"},
        "batch_size": 50,
    },
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
