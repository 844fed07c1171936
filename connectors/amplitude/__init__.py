"""Amplitude: track and identify calls as events of Amplitude's HTTP V2 API.

API followed: Amplitude HTTP V2 API, ``POST /2/httpapi``
(https://amplitude.com/docs/apis/analytics/http-v2, and "Batch and retry HTTP V2 API requests",
https://amplitude.com/docs/apis/analytics/http-api-batching-retries), checked 2026-11:

- body ``{"api_key": ..., "events": [...], "options": {"min_id_length": N}}`` with
  ``Content-Type: application/json``; the api key travels in the body (masked in every lifecycle
  record: it is a ``SecretStr`` setting and ``api_key`` is a credential-named field);
- each event needs ``event_type`` and one of ``user_id``/``device_id`` (at least 5 characters
  unless ``min_id_length`` says otherwise: "if an event contains a device ID or user ID that's
  too short, the ID value is removed from the event", and an event left with neither is
  rejected with a 400; placeholders such as ``"null"`` are refused with a 400). So a short or
  placeholder id is left out here, the lifecycle payload's ``dropped`` names it (and so does a
  note in the lifecycle's ``notes``), and only an event left with neither id is refused;
  ``time`` in milliseconds since epoch; ``insert_id`` deduplicates for 7 days;
  ``$identify`` with ``user_properties: {"$set": {...}}`` updates user properties; event names
  ``[Amplitude] ...`` are reserved;
- at most 2,000 events and under 1 MB per request (413 above: split and retry);
- ``400`` carries ``events_with_invalid_fields`` / ``events_with_missing_fields`` /
  ``events_with_invalid_id_lengths`` (field -> indices, e.g. ``{"user_id": [0]}`` with
  ``"error": "Invalid id length for user_id or device_id"``), ``silenced_devices`` (device
  ids) and ``silenced_events`` (indices), ``throttled_events``,
  ``exceeded_daily_quota_devices``: the whole request is rejected, so the named events fail
  and the rest are sent again at once;
- ``429`` carries ``eps_threshold``, ``throttled_users``/``throttled_devices``/
  ``throttled_events`` (pause those users/devices for 30 s) and
  ``exceeded_daily_quota_users``/``exceeded_daily_quota_devices`` (not retried today);
- ``5xx`` may be retried (``insert_id`` keeps retries free of duplicates).

Only documented event keys are sent: ``library`` is not one of them, so it is not sent.

| event | request (``POST /2/httpapi``, one event of ``events``) |
|---|---|
| track | ``{user_id, device_id, event_type, time, insert_id, event_properties, ...}`` |
| track ``Audience Entered``/``Exited`` | ``event_properties``: ``{KEY: bool, "personas": {...}}`` |
| identify | ``{event_type: "$identify", user_properties: {"$set": traits}}`` |
| identify with an audience/journey key | the key is a boolean: ``{"$set": {KEY: true}}`` |
| a journey exit (``j_o_`` key false) | refused with ``ListRemovalRefused`` (add-only) |

``device_id`` is the anonymousId, ``event_type`` the event name, ``time`` the timestamp in ms,
``insert_id`` the messageId; ``ip``, ``app_version``, ``os_name``, ``os_version``,
``device_manufacturer``, ``device_model``, ``carrier``, ``country``, ``region``, ``city``,
``location_lat``/``location_lng``, ``language``, ``idfa``/``adid`` come from ``context`` and
``revenue``, ``price``, ``quantity``, ``productId``, ``revenueType`` from the properties.

Regions: ``us`` -> ``https://api2.amplitude.com``, ``eu`` -> ``https://api.eu.amplitude.com``.
Amplitude's HTTP V2 API has no credentials-check call, so there is no ``test_authentication``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from connectors.amplitude._api import (
    BASE_URLS,
    DEFAULT_MIN_ID_LENGTH,
    ENVELOPE_BYTES,
    INVALID_IDS,
    MAX_EVENTS,
    MAX_REQUEST_BYTES,
    RESERVED_EVENT_TYPES,
    AmplitudeSettings,
    limits,
    upload_batch,
    upload_one,
)
from connectors.amplitude._notes import NOTES
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    BatchResult,
    Context,
    Destination,
    DestinationKind,
    Identify,
    InvalidEvent,
    RetryPolicy,
    Subscription,
    Track,
    membership_values,
)
from sdk.mapping import LooseNumber, LooseText, first_of, mapped

__all__ = ["AmplitudeSettings", "destination"]


class _EventFields(BaseModel):
    """What both actions take from every event: the ids, the time, and the device context."""

    user_id: LooseText = mapped("$.userId", description="Amplitude user_id (5+ characters).")
    device_id: LooseText = mapped(
        "$.anonymousId", description="Amplitude device_id (5+ characters)."
    )
    time: datetime = mapped("$.timestamp", required=True, description="Sent in ms since epoch.")
    insert_id: str = mapped("$.messageId", required=True, description="Deduplicates for 7 days.")
    ip: LooseText = mapped("$.context.ip")
    app_version: LooseText = mapped("$.context.app.version")
    os_name: LooseText = mapped("$.context.os.name")
    os_version: LooseText = mapped("$.context.os.version")
    device_manufacturer: LooseText = mapped("$.context.device.manufacturer")
    device_model: LooseText = mapped("$.context.device.model")
    carrier: LooseText = mapped("$.context.network.carrier")
    country: LooseText = mapped("$.context.location.country")
    region: LooseText = mapped("$.context.location.region")
    city: LooseText = mapped("$.context.location.city")
    location_lat: LooseNumber = mapped("$.context.location.latitude")
    location_lng: LooseNumber = mapped("$.context.location.longitude")
    language: LooseText = mapped("$.context.locale")
    advertising_id: LooseText = mapped(
        "$.context.device.advertisingId", description="Sent as idfa (iOS) or adid (Android)."
    )
    device_type: LooseText = mapped(
        "$.context.device.type", description="Chooses idfa or adid; not sent itself."
    )


class TrackFields(_EventFields):
    """The fields of an Amplitude event from a track call."""

    event_type: str = mapped("$.event", required=True, description="The event name.")
    event_properties: dict[str, Any] = mapped("$.properties", default_factory=dict)
    revenue: LooseNumber = mapped("$.properties.revenue")
    price: LooseNumber = mapped("$.properties.price")
    quantity: LooseNumber = mapped("$.properties.quantity")
    productId: LooseText = mapped(first_of("$.properties.productId", "$.properties.product_id"))
    revenueType: LooseText = mapped(
        first_of("$.properties.revenueType", "$.properties.revenue_type")
    )


class IdentifyFields(_EventFields):
    """The fields of an Amplitude ``$identify`` event from an identify call."""

    user_properties: dict[str, Any] = mapped(
        "$.traits", default_factory=dict, description="Sent as user_properties.$set."
    )


#: Fields sent as they are (the rest are shaped by ``_base_event``).
_CONTEXT_KEYS = (
    "ip",
    "app_version",
    "os_name",
    "os_version",
    "device_manufacturer",
    "device_model",
    "carrier",
    "country",
    "region",
    "city",
    "location_lat",
    "location_lng",
    "language",
)
_REVENUE_KEYS = ("revenue", "price", "quantity", "productId", "revenueType")


@dataclass(slots=True)
class AmplitudeEvent:
    """One event of the ``events`` array, and the ids left out of it (field -> why)."""

    event: dict[str, Any]
    dropped: dict[str, str] = dataclasses.field(default_factory=dict)


class _AmplitudeAction(Action[AmplitudeSettings, AmplitudeEvent]):
    """What both actions share: the record, the limits and the upload."""

    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def batch_limits(self, settings: AmplitudeSettings) -> BatchLimits | None:
        return limits(settings)

    def payload_notes(self, payload: AmplitudeEvent) -> list[str]:
        return list(payload.dropped.values())

    def payload_record(self, payload: AmplitudeEvent) -> Any:
        if payload.dropped:
            return {**payload.event, "dropped": payload.dropped}
        return payload.event

    async def perform(self, ctx: Context[AmplitudeSettings], payload: AmplitudeEvent) -> None:
        await upload_one(ctx, payload.event)

    async def perform_batch(
        self, ctx: Context[AmplitudeSettings], payloads: Sequence[AmplitudeEvent]
    ) -> BatchResult | None:
        return await upload_batch(ctx, [payload.event for payload in payloads])


def _id_problem(value: str | None, minimum: int) -> str | None:
    """Why Amplitude would not keep this id (``None`` when it is fine or absent)."""
    if value is None:
        return None
    if value.strip().lower() in INVALID_IDS:
        return "a placeholder Amplitude rejects (e.g. null)"
    if len(value) < minimum:
        return f"shorter than {minimum} characters"
    return None


def _base_event(fields: _EventFields, settings: AmplitudeSettings) -> AmplitudeEvent:
    minimum = settings.min_id_length or DEFAULT_MIN_ID_LENGTH
    ids = {"user_id": ("userId", fields.user_id), "device_id": ("anonymousId", fields.device_id)}
    out: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    problems: list[str] = []
    for name, (wire_name, value) in ids.items():
        problem = _id_problem(value, minimum)
        if problem is not None:
            # Amplitude removes a too-short id from the event, so it is left out here, and
            # the lifecycle record says so; only an event left with neither id is refused.
            dropped[name] = f"{wire_name} is {problem}: left out"
            problems.append(f"{wire_name} is {problem}")
        elif value is not None:
            out[name] = value
        else:
            problems.append(f"{wire_name} is missing")
    if not out:
        raise InvalidEvent(
            "userId, anonymousId",
            f"Amplitude needs one of them ({'; '.join(problems)}; set min_id_length to allow "
            "shorter ids)",
        )
    out["time"] = int(fields.time.timestamp() * 1000)
    out["insert_id"] = fields.insert_id
    for name in _CONTEXT_KEYS:
        value = getattr(fields, name)
        if value is not None:
            out[name] = value
    device_type = (fields.device_type or "").lower()
    if fields.advertising_id and device_type == "ios":
        out["idfa"] = fields.advertising_id
    elif fields.advertising_id and device_type == "android":
        out["adid"] = fields.advertising_id
    return AmplitudeEvent(out, dropped)


class TrackEvent(_AmplitudeAction):
    """A track call becomes an Amplitude event (``event_type`` = the event name)."""

    name = "track_event"
    description = "Send a track call as an Amplitude event (HTTP V2 API)."
    subscribe = Subscription.of("track")
    fields = TrackFields

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
        assert isinstance(event, Track)
        fields: TrackFields = self.resolve(event)
        name = fields.event_type
        if name.startswith("[Amplitude]") or name in RESERVED_EVENT_TYPES:
            raise InvalidEvent("event", "is an event name Amplitude reserves for its own use")
        mapped_event = _base_event(fields, settings)
        payload = mapped_event.event
        properties = dict(fields.event_properties)
        _values, membership = membership_values(event)
        if membership is not None:
            properties[membership.key] = membership.member
            properties["personas"] = membership.personas.to_dict()
        for key in _REVENUE_KEYS:
            value = getattr(fields, key)
            if value is not None:
                payload[key] = value
        payload["event_type"] = name
        payload["event_properties"] = properties
        return mapped_event


class IdentifyUser(_AmplitudeAction):
    """An identify call becomes an ``$identify`` event that ``$set``s the traits."""

    name = "identify_user"
    description = "Set user properties with an Amplitude $identify event (HTTP V2 API)."
    subscribe = Subscription.of("identify")
    fields = IdentifyFields

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
        assert isinstance(event, Identify)
        fields: IdentifyFields = self.resolve(event)
        mapped_event = _base_event(fields, settings)
        traits = dict(fields.user_properties)
        _values, membership = membership_values(event)
        if membership is not None:
            # context.personas has no room here: a user property would be overwritten by the
            # next computation; the key itself (a boolean) is the user property.
            traits[membership.key] = membership.member
        mapped_event.event["event_type"] = "$identify"
        mapped_event.event["user_properties"] = {"$set": traits}
        return mapped_event


destination: Destination[AmplitudeSettings] = Destination(
    name="Amplitude",
    slug="amplitude",
    kind=DestinationKind.EVENT,
    settings=AmplitudeSettings,
    actions=[TrackEvent(), IdentifyUser()],
    description="Sends track calls as Amplitude events and identify calls as $identify "
    "user-property updates (HTTP V2 API).",
    base_url=lambda s: BASE_URLS[s.region],
    authentication=Authentication(scheme="api_key"),
    # Starter plans: at most 100 batches per second (Amplitude's upload limit).
    rate_limit=100.0,
    # 429s ask for a 30 s pause per user/device: leave room for a few of them.
    retry=RetryPolicy(max_attempts=6, max_elapsed=180.0),
    api_version="Amplitude HTTP V2 API (POST /2/httpapi)",
    docs_url="https://amplitude.com/docs/apis/analytics/http-v2",
    notes=NOTES,
)
