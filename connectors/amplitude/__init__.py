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
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SecretStr

from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    BatchResult,
    Context,
    DeliveryError,
    Destination,
    DestinationKind,
    DestinationSettings,
    Identify,
    IntegrationError,
    InvalidAuthentication,
    InvalidEvent,
    PayloadTooLarge,
    PayloadValidationError,
    RateLimited,
    Response,
    RetryableError,
    RetryPolicy,
    Subscription,
    Track,
    classify_status,
    membership_values,
    parse_retry_after,
)

__all__ = ["AmplitudeSettings", "destination"]

BASE_URLS = {"us": "https://api2.amplitude.com", "eu": "https://api.eu.amplitude.com"}
PATH = "/2/httpapi"
#: Amplitude answers 413 above 2,000 events or 1 MB per request.
MAX_EVENTS = 2000
MAX_REQUEST_BYTES = 1_000_000
#: Room for ``{"api_key": ..., "events": [], "options": {...}}`` around the events.
ENVELOPE_BYTES = 1024
#: Amplitude asks to pause a throttled user or device for 30 seconds.
THROTTLE_PAUSE_S = 30.0
#: Requests one upload may make: the first, then re-sends without the events Amplitude named.
MAX_ROUNDS = 4
DEFAULT_MIN_ID_LENGTH = 5
#: IDs that Amplitude answers with a 400 (its "Invalid IDs" list).
INVALID_IDS = frozenset(
    {
        "anonymous",
        "nil",
        "none",
        "null",
        "n/a",
        "na",
        "undefined",
        "unknown",
        '""',
        "00000000-0000-0000-0000-000000000000",
        "{}",
        "lmy47d",
        "0",
        "-1",
    }
)
RESERVED_EVENT_TYPES = frozenset({"$identify", "$groupidentify"})


class AmplitudeSettings(DestinationSettings):
    """Settings of the Amplitude destination."""

    api_key: SecretStr = Field(description="Amplitude project API key (sent in the body).")
    region: Literal["us", "eu"] = Field(
        default="us", description="Data residency: us (api2.amplitude.com) or eu."
    )
    min_id_length: int | None = Field(
        default=None,
        ge=1,
        description="Override Amplitude's minimum user_id/device_id length of 5 "
        "(sent as options.min_id_length).",
    )
    events_per_request: int = Field(
        default=MAX_EVENTS,
        ge=1,
        le=MAX_EVENTS,
        description="Events per request (at most 2000; Amplitude suggests 10 on Starter plans).",
    )


@dataclass(slots=True)
class AmplitudeEvent:
    """One event of the ``events`` array, and the ids left out of it (field -> why)."""

    event: dict[str, Any]
    dropped: dict[str, str] = dataclasses.field(default_factory=dict)


class _AmplitudeAction(Action[AmplitudeSettings, AmplitudeEvent]):
    """What both actions share: the record, the limits and the upload."""

    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def batch_limits(self, settings: AmplitudeSettings) -> BatchLimits | None:
        return _limits(settings)

    def payload_notes(self, payload: AmplitudeEvent) -> list[str]:
        return list(payload.dropped.values())

    def payload_record(self, payload: AmplitudeEvent) -> Any:
        if payload.dropped:
            return {**payload.event, "dropped": payload.dropped}
        return payload.event

    async def perform(self, ctx: Context[AmplitudeSettings], payload: AmplitudeEvent) -> None:
        await _upload_one(ctx, payload.event)

    async def perform_batch(
        self, ctx: Context[AmplitudeSettings], payloads: Sequence[AmplitudeEvent]
    ) -> BatchResult | None:
        return await _upload_batch(ctx, [payload.event for payload in payloads])


# -- mapping ------------------------------------------------------------------------------------


def _dig(document: Mapping[str, Any], *path: str) -> Any:
    value: Any = document
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


#: Documented event keys filled from ``context`` (path inside the message, and type).
_CONTEXT_FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ip", ("ip",), "text"),
    ("app_version", ("app", "version"), "text"),
    ("os_name", ("os", "name"), "text"),
    ("os_version", ("os", "version"), "text"),
    ("device_manufacturer", ("device", "manufacturer"), "text"),
    ("device_model", ("device", "model"), "text"),
    ("carrier", ("network", "carrier"), "text"),
    ("country", ("location", "country"), "text"),
    ("region", ("location", "region"), "text"),
    ("city", ("location", "city"), "text"),
    ("location_lat", ("location", "latitude"), "number"),
    ("location_lng", ("location", "longitude"), "number"),
    ("language", ("locale",), "text"),
)


def _id_problem(value: str | None, minimum: int) -> str | None:
    """Why Amplitude would not keep this id (``None`` when it is fine or absent)."""
    if value is None:
        return None
    if value.strip().lower() in INVALID_IDS:
        return "a placeholder Amplitude rejects (e.g. null)"
    if len(value) < minimum:
        return f"shorter than {minimum} characters"
    return None


def _base_event(event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
    minimum = settings.min_id_length or DEFAULT_MIN_ID_LENGTH
    ids = {"user_id": ("userId", event.user_id), "device_id": ("anonymousId", event.anonymous_id)}
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
    out["time"] = int(event.timestamp.timestamp() * 1000)
    out["insert_id"] = event.message_id
    context = event.context
    for name, path, kind in _CONTEXT_FIELDS:
        value = _dig(context, *path)
        found = _text(value) if kind == "text" else _number(value)
        if found is not None:
            out[name] = found
    advertising_id = _text(_dig(context, "device", "advertisingId"))
    device_type = str(_dig(context, "device", "type") or "").lower()
    if advertising_id and device_type == "ios":
        out["idfa"] = advertising_id
    elif advertising_id and device_type == "android":
        out["adid"] = advertising_id
    return AmplitudeEvent(out, dropped)


_REVENUE_FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("revenue", ("revenue",), "number"),
    ("price", ("price",), "number"),
    ("quantity", ("quantity",), "number"),
    ("productId", ("productId", "product_id"), "text"),
    ("revenueType", ("revenueType", "revenue_type"), "text"),
)


class TrackEvent(_AmplitudeAction):
    """A track call becomes an Amplitude event (``event_type`` = the event name)."""

    name = "track_event"
    description = "Send a track call as an Amplitude event (HTTP V2 API)."
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
        assert isinstance(event, Track)
        if event.event.startswith("[Amplitude]") or event.event in RESERVED_EVENT_TYPES:
            raise InvalidEvent("event", "is an event name Amplitude reserves for its own use")
        mapped = _base_event(event, settings)
        payload = mapped.event
        properties, membership = membership_values(event)
        for name, keys, kind in _REVENUE_FIELDS:
            for key in keys:
                value = properties.get(key)
                found = _text(value) if kind == "text" else _number(value)
                if found is not None:
                    payload[name] = found
                    break
        if membership is not None:
            properties["personas"] = membership.personas.to_dict()
        payload["event_type"] = event.event
        payload["event_properties"] = properties
        return mapped


class IdentifyUser(_AmplitudeAction):
    """An identify call becomes an ``$identify`` event that ``$set``s the traits."""

    name = "identify_user"
    description = "Set user properties with an Amplitude $identify event (HTTP V2 API)."
    subscribe = Subscription.of("identify")

    def map(self, event: AnyMessage, settings: AmplitudeSettings) -> AmplitudeEvent:
        assert isinstance(event, Identify)
        mapped = _base_event(event, settings)
        payload = mapped.event
        traits, _membership = membership_values(event)
        # context.personas has no room here: a user property would be overwritten by the
        # next computation; the key itself is the user property.
        payload["event_type"] = "$identify"
        payload["user_properties"] = {"$set": traits}
        return mapped


def _limits(settings: AmplitudeSettings) -> BatchLimits:
    return BatchLimits(
        max_events=settings.events_per_request, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# -- delivery -----------------------------------------------------------------------------------


async def _upload_one(ctx: Context[AmplitudeSettings], payload: dict[str, Any]) -> None:
    try:
        errors = await _upload(ctx, [payload])
    except PayloadValidationError as exc:
        if exc.status == 413:
            raise PayloadTooLarge(
                "event",
                f"is {len(_dumps(payload))} bytes and Amplitude answered 413 Payload Too Large "
                "even for it alone",
            ) from None
        raise
    if 0 in errors:
        raise errors[0]


async def _upload_batch(
    ctx: Context[AmplitudeSettings], payloads: Sequence[dict[str, Any]]
) -> BatchResult | None:
    errors = await _upload(ctx, payloads)
    if not errors:
        return None
    result = BatchResult(len(payloads))
    for index, error in errors.items():
        result.fail(index, error)
    return result


async def _upload(
    ctx: Context[AmplitudeSettings], events: Sequence[dict[str, Any]]
) -> dict[int, DeliveryError]:
    """Upload ``events``; errors by index for the events that did not go through.

    A whole-request failure of the first request is raised (a 413 then splits the batch). When
    Amplitude names the events it refused (400) or throttled (429), it has ingested none of the
    request: those events get their own error, and the others are sent again at once.
    """
    settings = ctx.settings
    errors: dict[int, DeliveryError] = {}
    pending = list(range(len(events)))
    for round_number in range(MAX_ROUNDS):
        envelope: dict[str, Any] = {
            "api_key": settings.api_key.get_secret_value(),
            "events": [events[i] for i in pending],
        }
        if settings.min_id_length is not None:
            envelope["options"] = {"min_id_length": settings.min_id_length}
        response = await ctx.http.post(
            PATH,
            content=_dumps(envelope),
            headers={"Content-Type": "application/json", "Accept": "*/*"},
            raise_for_status=False,
        )
        if response.status_code < 300:
            return errors
        body = ctx.redactor.value(response.data) if response.kind == "json" else None
        verdicts = _event_verdicts(response.status_code, body, [events[i] for i in pending])
        if verdicts is None:
            whole = _whole_error(ctx, response, body)
            if round_number == 0:
                raise whole
            if whole.status == 413:  # split on the next attempt, never lost
                whole = RetryableError(f"{whole.message} (events sent again)", status=413)
            for index in pending:
                errors[index] = whole
            return errors
        resend = []
        for position, index in enumerate(pending):
            verdict = verdicts.get(position)
            if verdict is None:
                resend.append(index)
            else:
                errors[index] = verdict
        if not resend:
            return errors
        pending = resend
    for index in pending:
        errors[index] = RetryableError(
            f"Amplitude refused other events of the request {MAX_ROUNDS} times; sent again later"
        )
    return errors


def _indices(value: Any) -> set[int]:
    if not isinstance(value, list):
        return set()
    return {item for item in value if isinstance(item, int) and not isinstance(item, bool)}


def _strings(value: Any) -> set[str]:
    if not isinstance(value, list):
        return set()
    return {item for item in value if isinstance(item, str)}


def _keys(value: Any) -> set[str]:
    return {str(key) for key in value} if isinstance(value, Mapping) else set()


def _event_verdicts(
    status: int, body: Any, sent: Sequence[dict[str, Any]]
) -> dict[int, DeliveryError] | None:
    """Per-event errors of a 400/429 answer (by position in ``sent``); ``None`` when the answer
    names no event of the request (then it is about the request as a whole)."""
    if status not in (400, 429) or not isinstance(body, Mapping):
        return None
    if body.get("missing_field"):  # a request-level field (api_key, events) is missing
        return None
    verdicts: dict[int, DeliveryError] = {}
    for key, rule in (
        ("events_with_invalid_fields", "has a value Amplitude rejects as invalid"),
        ("events_with_missing_fields", "is required by Amplitude"),
        ("events_with_invalid_id_lengths", "has a length Amplitude rejects"),
    ):
        fields = body.get(key)
        if not isinstance(fields, Mapping):
            continue
        for field, positions in fields.items():
            for position in _indices(positions):
                if 0 <= position < len(sent) and position not in verdicts:
                    verdicts[position] = PayloadValidationError(
                        f"{field}: {rule} (HTTP {status} {key})", status=status
                    )
    silenced_devices = _strings(body.get("silenced_devices"))
    silenced = _indices(body.get("silenced_events")) | {
        position
        for position, event in enumerate(sent)
        if event.get("device_id") is not None and event.get("device_id") in silenced_devices
    }
    for position in sorted(silenced):
        if 0 <= position < len(sent):
            verdicts.setdefault(
                position,
                IntegrationError(
                    f"device_id: silenced by Amplitude (HTTP {status} silenced_events); "
                    "not retried",
                    status=status,
                ),
            )
    quota_users = _keys(body.get("exceeded_daily_quota_users"))
    quota_devices = _keys(body.get("exceeded_daily_quota_devices"))
    throttled_users = _keys(body.get("throttled_users"))
    throttled_devices = _keys(body.get("throttled_devices"))
    throttled_events = _indices(body.get("throttled_events"))
    threshold = body.get("eps_threshold")
    rate = f" (over {threshold} events/s)" if isinstance(threshold, int) else ""
    for position, event in enumerate(sent):
        if position in verdicts:
            continue
        user, device = event.get("user_id"), event.get("device_id")
        if user in quota_users or device in quota_devices:
            field = "user_id" if user in quota_users else "device_id"
            verdicts[position] = IntegrationError(
                f"{field}: over Amplitude's daily event quota (HTTP {status}); not retried",
                status=status,
            )
        elif position in throttled_events or user in throttled_users or device in throttled_devices:
            verdicts[position] = RateLimited(
                f"HTTP {status}: Amplitude throttled this user or device{rate}; pausing "
                f"{THROTTLE_PAUSE_S:g} s",
                retry_after=THROTTLE_PAUSE_S,
                status=status,
            )
    return verdicts or None


def _whole_error(ctx: Context[AmplitudeSettings], response: Response, body: Any) -> DeliveryError:
    """The error for a request Amplitude refused as a whole."""
    status = response.status_code
    detail = body.get("error") if isinstance(body, Mapping) else None
    text = f"HTTP {status} {response.raw.reason_phrase}".strip()
    if isinstance(detail, str) and detail:
        text += f": {ctx.redactor.text(' '.join(detail.split()))[:300]}"
        missing = body.get("missing_field") if isinstance(body, Mapping) else None
        if isinstance(missing, str) and missing:
            text += f" ({missing})"
    if status == 400 and isinstance(detail, str) and "api key" in detail.lower():
        return InvalidAuthentication(text, status=status)
    if status == 400:
        return PayloadValidationError(text, status=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimited(
            text,
            retry_after=THROTTLE_PAUSE_S if retry_after is None else retry_after,
            status=status,
        )
    error = classify_status(status, response.raw.reason_phrase, body=body, headers=response.headers)
    return error or IntegrationError(text, status=status)


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
)
