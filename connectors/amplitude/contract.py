"""The Amplitude connector's contract, with Amplitude's recorded answers (HTTP V2 API docs)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx

from connectors.amplitude import destination
from sdk.testing import Contract, decoded_body

#: The form endpoints and the field holding their JSON array.
_FORMS = {"/groupidentify": "identification", "/usermap": "mapping"}


def _count_events(request: httpx.Request) -> int:
    form_field = _FORMS.get(request.url.path)
    if form_field is not None:
        values = parse_qs(request.content.decode()).get(form_field, ["[]"])
        entries = json.loads(values[0])
        return len(entries) if isinstance(entries, list) else 0
    body = decoded_body(request)
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        return len(body["events"])
    return 0


def _respond(request: httpx.Request) -> httpx.Response:
    if request.url.path in _FORMS:
        # Group Identify and User Mapping answer 200 with the text "success".
        return httpx.Response(200, text="success")
    # The documented 200 answer: {"code", "events_ingested", "payload_size_bytes", ...}.
    return httpx.Response(
        200,
        json={
            "code": 200,
            "events_ingested": _count_events(request),
            "payload_size_bytes": len(request.content),
            "server_upload_time": 1396381378123,
        },
    )


def _invalid_api_key(request: httpx.Request) -> httpx.Response:
    # Amplitude reports a bad key as a 400 whose error names it ("Invalid API key").
    return httpx.Response(400, json={"code": 400, "error": "Invalid API key"})


contract = Contract(
    destination=destination,
    settings={"api_key": "amp-contract-key-7c0ffee1", "min_id_length": 5, "usermap": True},
    respond=_respond,
    auth_failure=_invalid_api_key,
    count_events=_count_events,
    vendor_batch_limit=2000,
    # An $identify event has room only for user properties: the key is one ($set KEY: true);
    # context.personas would be overwritten by the next computation, so it is not sent.
    personas_fields={"identify": ("computation_key",)},
)
