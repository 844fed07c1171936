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
| page / screen | ``Viewed <name> Page``/``Screen`` (``Loaded a Page``/``Screen``) |
| track ``Order Completed`` | the order, plus one ``Product Purchased`` revenue event a product |
| group | ``$identify`` with ``groups``, then ``POST /groupidentify`` with the traits |
| alias | ``POST /usermap`` when ``usermap`` is on; else refused with the reason |

``device_id`` is the anonymousId, ``event_type`` the event name, ``time`` the timestamp in ms,
``insert_id`` the messageId, ``session_id`` ``integrations.Amplitude.session_id``, ``platform``
``context.device.type`` (Web for a page); ``ip``, ``app_version``, ``os_name``, ``os_version``,
``device_brand``,
``device_manufacturer``, ``device_model``, ``carrier``, ``country``, ``region``, ``city``,
``location_lat``/``location_lng``, ``language``, ``idfa``/``adid`` come from ``context`` and
``revenue``, ``price``, ``quantity``, ``productId``, ``revenueType`` from the properties.

Regions: ``us`` -> ``https://api2.amplitude.com``, ``eu`` -> ``https://api.eu.amplitude.com``.
Amplitude's HTTP V2 API has no credentials-check call, so there is no ``test_authentication``.
"""

from __future__ import annotations

from typing import Any

from connectors.amplitude._api import BASE_URLS, RESERVED_EVENT_TYPES, AmplitudeSettings
from connectors.amplitude._calls import GroupUser, MapUser, ViewedPage, order_events
from connectors.amplitude._event import AmplitudeAction, AmplitudeEvent, EventFields, base_event
from connectors.amplitude._notes import NOTES
from sdk import (
    AnyMessage,
    Authentication,
    Destination,
    DestinationKind,
    Identify,
    InvalidEvent,
    RetryPolicy,
    Subscription,
    Track,
    membership_values,
)
from sdk.mapping import ORDER_EVENTS, LooseNumber, LooseText, first_of, mapped

__all__ = ["AmplitudeSettings", "destination"]


class TrackFields(EventFields):
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
    products: list[Any] = mapped(
        "$.properties.products",
        default_factory=list,
        description="Order Completed / Product Purchased: one revenue event a priced product.",
    )


class IdentifyFields(EventFields):
    """The fields of an Amplitude ``$identify`` event from an identify call."""

    user_properties: dict[str, Any] = mapped(
        "$.traits", default_factory=dict, description="Sent as user_properties.$set."
    )


_REVENUE_KEYS = ("revenue", "price", "quantity", "productId", "revenueType")


class TrackEvent(AmplitudeAction):
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
        mapped_event = base_event(fields, settings)
        payload = mapped_event.event
        properties = dict(fields.event_properties)
        _values, membership = membership_values(event)
        if membership is not None:
            properties[membership.key] = membership.member
            properties["personas"] = membership.personas.to_dict()
        for key in _REVENUE_KEYS:
            value = getattr(fields, key)
            if value is not None:  # one of another type is noted by the SDK, and kept in
                payload[key] = value  # event_properties
        payload["event_type"] = name
        payload["event_properties"] = properties
        if name in ORDER_EVENTS:
            order_events(mapped_event, fields.products, fields.revenueType)
        return mapped_event


class IdentifyUser(AmplitudeAction):
    """An identify call becomes an ``$identify`` event that ``$set``s the traits."""

    name = "identify_user"
    description = "Set user properties with an Amplitude $identify event (HTTP V2 API)."
    subscribe = Subscription.of("identify")
    fields = IdentifyFields

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
        assert isinstance(event, Identify)
        fields: IdentifyFields = self.resolve(event)
        mapped_event = base_event(fields, settings)
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
    actions=[TrackEvent(), IdentifyUser(), ViewedPage(), GroupUser(), MapUser()],
    description="Sends track, page and screen calls as Amplitude events (orders with revenue "
    "per product), identify calls as $identify user-property updates, group calls as groups "
    "and group properties, and alias calls as user mappings (when enabled).",
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
