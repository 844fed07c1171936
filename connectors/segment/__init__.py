"""Segment: forward messages to the Segment HTTP Tracking API, so one space or workspace can
chain into another.

API followed: Segment HTTP Tracking API, ``POST /v1/batch``
(https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/), checked
2026-11: write key as HTTP Basic username with an empty password; at most 32 KB per message and
500 KB per batch request; Segment answers ``200`` for every accepted request and ``400 Bad
Request`` for payloads over those limits or invalid JSON (not retried); requests over the rate
limit may get ``429`` with ``Retry-After`` (seconds; retried after that wait); ``messageId``
deduplicates.

What is forwarded is the message as it arrived, except:

- ``writeKey`` at the top of a message is always dropped: it is the upstream source's key (the
  HTTP API accepts it in the body as an alternative to Basic auth), and this connector
  authenticates with the receiving source's key in the ``Authorization`` header only.
- ``integrations`` is reset for the receiving workspace ("Selecting Destinations" in the same
  reference: ``All: false`` enables no destination unless named). A journey event carries
  ``{"All": false, "Segment": true}``; forwarded unchanged, none of the receiving workspace's
  destinations would get it. So ``All`` and this connector's own entry (``Segment``) are
  dropped and entries naming other destinations are kept (``"Mixpanel": false`` still turns
  Mixpanel off downstream); an object left empty is left out, so every destination of the
  receiving workspace applies its normal rules. ``strip_integrations`` drops the whole object.

| event | request |
|---|---|
| any message (one) | ``POST /v1/batch`` with ``{"batch": [message], "sentAt": ...}`` |
| any messages (batched) | ``POST /v1/batch`` with up to 500 KB of messages |
| test_authentication | ``POST /v1/batch`` with an empty batch (``{"batch": []}``) |

Regions: ``us`` -> ``https://api.segment.io``, ``eu`` -> ``https://events.eu1.segmentapis.com``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import pydantic_core
from pydantic import Field, SecretStr

from connectors.segment._notes import NOTES
from sdk import (
    MAX_BATCH_BYTES,
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Subscription,
)
from sdk.connector import WireForward

__all__ = ["SegmentSettings", "destination"]

#: The name this destination goes by in an ``integrations`` object.
NAME = "Segment"
BASE_URLS = {"us": "https://api.segment.io", "eu": "https://events.eu1.segmentapis.com"}
#: Room left in the 500 KB batch for the envelope (``{"batch": [...], "sentAt": ...}``).
ENVELOPE_BYTES = 1024


class SegmentSettings(DestinationSettings):
    """Settings of the Segment destination."""

    write_key: SecretStr = Field(description="Write key of the receiving source.")
    region: Literal["us", "eu"] = Field(default="us", description="Data residency region.")
    strip_integrations: bool = Field(
        default=False,
        description="Drop the whole integrations object. By default only All and the Segment "
        "entry are dropped (journey events carry All: false) and entries naming other "
        "destinations are kept.",
    )


#: What the forwarded JSON leaves out of the validated message; ``integrations`` is written
#: again at the end when entries naming other destinations are kept.
_LEFT_OUT: set[str] = {"integrations"}
_LEFT_OUT_WITH_KEY: set[str] = {"integrations", "writeKey"}
_EMPTY_INTEGRATIONS = b',"integrations":{}'
_EMPTY_LENGTH = len(_EMPTY_INTEGRATIONS)
_INTEGRATIONS_KEY = b'"integrations":'
_KEY_LENGTH = len(_INTEGRATIONS_KEY)


class ForwardMessage(Action[SegmentSettings, bytes]):
    """Forward the message (its messageId keeps it deduplicated downstream), without the
    upstream ``writeKey`` and with ``integrations`` reset for the receiving workspace.

    A payload is the forwarded message's compact UTF-8 JSON, written once when the message is
    mapped: those bytes are what ``payload_size`` counts against the batch's limit and what
    the batch body joins, so what is counted is what is sent; the JSON document
    (``payload_record``, for a lifecycle) is read back from them only when one is recorded.
    (Plain ``bytes``, no wrapper object: one object fewer per event held in a batch.)"""

    name = "forward_message"
    description = "Send every message to a Segment source, routed by the receiving workspace."
    subscribe = Subscription.of("track", "identify", "page", "screen", "group", "alias")
    batch = BatchLimits(max_events=500, max_bytes=MAX_BATCH_BYTES - ENVELOPE_BYTES)
    # A message with an empty integrations object and no upstream writeKey is forwarded as
    # its wire JSON less `"integrations":{}` (map_wire's first case): the engine's fused path
    # may write those bytes itself (test_segment holds the two the same).
    wire_forward = WireForward(drops_empty_integrations=True, unless_extra=frozenset({"writeKey"}))

    def map(self, event: AnyMessage, settings: SegmentSettings) -> bytes:
        # The validated message written once, straight to its wire JSON (no document copy):
        # the upstream source's key never travels on (the receiving key is in the header).
        extra = event.__pydantic_extra__
        left_out = _LEFT_OUT_WITH_KEY if extra and "writeKey" in extra else _LEFT_OUT
        raw: bytes = type(event).__pydantic_serializer__.to_json(event, exclude=left_out)
        integrations = event.integrations
        if integrations and not settings.strip_integrations:
            kept = _forwarded_integrations(integrations)
            if kept:  # last, as a document with the key popped and set again would have it
                raw = b"".join((raw[:-1], b',"integrations":', pydantic_core.to_json(kept), b"}"))
        return raw

    def map_wire(self, event: AnyMessage, wire: bytes, settings: SegmentSettings) -> bytes:
        # The common case (no integrations object, no upstream writeKey): the message's wire
        # JSON as the runtime wrote it for the size check, less its empty integrations
        # object. `"integrations":` can only be an object's key in JSON (a string holding it
        # escapes its quotes), so when it occurs once, it is the message's own, written
        # `,"integrations":{}` after the fields that always come first.
        if not event.integrations:
            extra = event.__pydantic_extra__
            if not (extra and "writeKey" in extra):
                at = wire.find(_INTEGRATIONS_KEY)
                if (
                    at > 0
                    and wire.find(_INTEGRATIONS_KEY, at + _KEY_LENGTH) < 0  # the only one
                    and wire.startswith(_EMPTY_INTEGRATIONS, at - 1)
                ):
                    return wire[: at - 1] + wire[at - 1 + _EMPTY_LENGTH :]
        return self.map(event, settings)

    def payload_size(self, payload: bytes) -> int:
        return len(payload)

    def payload_record(self, payload: bytes) -> Any:
        return json.loads(payload)  # a new document each call

    async def perform(self, ctx: Context[SegmentSettings], payload: bytes) -> None:
        await _post_batch(ctx, [payload])

    async def perform_batch(self, ctx: Context[SegmentSettings], payloads: Sequence[bytes]) -> None:
        await _post_batch(ctx, payloads)


def _forwarded_integrations(integrations: dict[str, Any]) -> dict[str, Any]:
    """The integrations object for the receiving workspace: without ``All`` (an upstream
    ``All: false`` would turn off every destination there) and without this connector's own
    entry (it routed the message here); entries naming other destinations are kept."""
    return {name: value for name, value in integrations.items() if name not in ("All", NAME)}


async def _post_batch(ctx: Context[SegmentSettings], messages: Sequence[bytes]) -> None:
    # The body joins each message's JSON as written when it was mapped: nothing is dumped
    # again, and its size is the sum payload_size counted (plus the envelope's room).
    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = b"".join(
        (
            b'{"batch":[',
            b",".join(messages),
            b'],"sentAt":"',
            sent_at.encode(),
            b'"}',
        )
    )
    await ctx.http.post("/v1/batch", content=body, headers={"Content-Type": "application/json"})


async def _test_authentication(ctx: Context[SegmentSettings]) -> None:
    # Segment's tracking API accepts any key with 200; an empty batch at least proves the
    # endpoint is reachable and the request well-formed.
    await _post_batch(ctx, [])


def _basic_auth(settings: SegmentSettings) -> dict[str, str]:
    token = base64.b64encode(f"{settings.write_key.get_secret_value()}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


destination: Destination[SegmentSettings] = Destination(
    name=NAME,
    slug="segment",
    kind=DestinationKind.EVENT,
    settings=SegmentSettings,
    actions=[ForwardMessage()],
    description="Forwards messages to a Segment source (chain one space into another).",
    base_url=lambda s: BASE_URLS[s.region],
    headers=_basic_auth,
    authentication=Authentication(scheme="basic", test=_test_authentication),
    api_version="Segment HTTP Tracking API v1 (/v1/batch)",
    docs_url="https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/",
    notes=NOTES,
)
