"""The Braze connector's contract, with Braze's recorded answers."""

from __future__ import annotations

import httpx

from connectors.braze import MAX_OBJECTS, destination
from sdk.testing import Contract, decoded_body

#: Braze's answer to a /users/track without data (the authentication check relies on it).
NO_DATA = {
    "message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
}


#: The arrays of each endpoint's request body.
_ARRAYS = {
    "/users/track": ("attributes", "events", "purchases"),
    "/users/identify": ("aliases_to_identify",),
    "/users/alias/new": ("user_aliases",),
}


def _objects(body: object, path: str = "/users/track") -> dict[str, int]:
    if not isinstance(body, dict):
        return {}
    return {
        array: len(body[array])
        for array in _ARRAYS.get(path, ())
        if isinstance(body.get(array), list)
    }


def _respond(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    counts = _objects(decoded_body(request), path)
    if path != "/users/track":
        # /users/identify and /users/alias/new answer 201 with "aliases_processed".
        return httpx.Response(
            201, json={"aliases_processed": sum(counts.values()), "message": "success"}
        )
    if not any(counts.values()):
        return httpx.Response(400, json=NO_DATA)
    # The documented success: 201 with the number of objects queued per array.
    body: dict[str, object] = {"message": "success"}
    body.update({f"{array}_processed": count for array, count in counts.items() if count})
    return httpx.Response(201, json=body)


def _unauthorized(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"message": "Invalid API Key"})


def _count_events(request: httpx.Request) -> int:
    return sum(_objects(decoded_body(request), request.url.path).values())


contract = Contract(
    destination=destination,
    settings={"api_key": "brz-rest-key-7c1d9e2a", "rest_endpoint": "US-03", "app_id": "app-1"},
    respond=_respond,
    auth_failure=_unauthorized,
    count_events=_count_events,
    vendor_batch_limit=MAX_OBJECTS,
    # An attributes object is the user's profile: the key is a boolean custom attribute, and
    # context.personas would be overwritten by the next computation, so it is not sent there.
    personas_fields={"identify": ("computation_key",)},
)
