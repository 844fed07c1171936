"""What every Amplitude event shares: its ids (checked against Amplitude's rules), its time,
and the device context; and what every HTTP V2 action shares (record, notes, upload)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from connectors.amplitude._api import (
    DEFAULT_MIN_ID_LENGTH,
    ENVELOPE_BYTES,
    INVALID_IDS,
    MAX_EVENTS,
    MAX_REQUEST_BYTES,
    AmplitudeSettings,
    limits,
    upload_batch,
    upload_one,
)
from sdk import Action, BatchLimits, BatchResult, Context, InvalidEvent
from sdk.mapping import LooseNumber, LooseText, first_of, if_exists, literal, mapped

__all__ = ["AmplitudeAction", "AmplitudeEvent", "EventFields", "base_event"]

#: ``context.device.type`` -> Amplitude's platform names.
_PLATFORMS = {"ios": "iOS", "android": "Android", "web": "Web"}


class EventFields(BaseModel):
    """What every action takes from every event: the ids, the time, and the device context."""

    user_id: LooseText = mapped("$.userId", description="Amplitude user_id (5+ characters).")
    device_id: LooseText = mapped(
        "$.anonymousId", description="Amplitude device_id (5+ characters)."
    )
    time: datetime = mapped("$.timestamp", required=True, description="Sent in ms since epoch.")
    insert_id: str = mapped("$.messageId", required=True, description="Deduplicates for 7 days.")
    session_id: LooseNumber = mapped(
        first_of("$.integrations.Amplitude.session_id", "$.integrations.Amplitude.sessionId"),
        description="The session's start in ms since epoch (integrations.Amplitude.session_id).",
    )
    platform: LooseText = mapped(
        first_of("$.context.device.type", if_exists("$.context.page", literal("Web"))),
        description="context.device.type (ios -> iOS, android -> Android); Web for a page.",
    )
    ip: LooseText = mapped("$.context.ip")
    app_version: LooseText = mapped("$.context.app.version")
    os_name: LooseText = mapped("$.context.os.name")
    os_version: LooseText = mapped("$.context.os.version")
    device_brand: LooseText = mapped("$.context.device.brand")
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


#: Fields sent as they are (the rest are shaped by ``base_event``).
_CONTEXT_KEYS = (
    "ip",
    "app_version",
    "os_name",
    "os_version",
    "device_brand",
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


@dataclass(slots=True)
class AmplitudeEvent:
    """One event of the ``events`` array, what was left out of it (field -> why), and the
    events that go with it (an order's revenue events, one per product)."""

    event: dict[str, Any]
    dropped: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The event, then the events that go with it."""
        return [self.event, *self.extra]


class AmplitudeAction(Action[AmplitudeSettings, AmplitudeEvent]):
    """What the one-event actions share: the record, the limits and the upload."""

    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def batch_limits(self, settings: AmplitudeSettings) -> BatchLimits | None:
        return limits(settings)

    def payload_notes(self, payload: AmplitudeEvent) -> list[str]:
        return list(payload.dropped.values())

    def payload_record(self, payload: AmplitudeEvent) -> Any:
        record: dict[str, Any] = {"events": payload.events} if payload.extra else {**payload.event}
        if payload.dropped:
            record["dropped"] = payload.dropped
        return record

    async def perform(self, ctx: Context[AmplitudeSettings], payload: AmplitudeEvent) -> None:
        if not payload.extra:
            await upload_one(ctx, payload.event)  # a 413 for it alone: PayloadTooLarge
            return
        result = await self.perform_batch(ctx, [payload])
        if result is None:
            return
        for text in result.notes.get(0, []):
            ctx.note(text)
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[AmplitudeSettings], payloads: Sequence[AmplitudeEvent]
    ) -> BatchResult | None:
        if not any(payload.extra for payload in payloads):
            return await upload_batch(ctx, [payload.event for payload in payloads])
        # Orders carry revenue events: every event goes, in requests of at most
        # events_per_request; an order fails when its own event fails, and notes a revenue
        # event that did.
        owners = [(n, i) for n, p in enumerate(payloads) for i in range(len(p.events))]
        events = [event for payload in payloads for event in payload.events]
        size = ctx.settings.events_per_request
        result = BatchResult(len(payloads))
        for start in range(0, len(events), size):
            chunk = await upload_batch(ctx, events[start : start + size])
            for index, error in sorted((chunk.errors if chunk else {}).items()):
                number, position = owners[start + index]
                if position == 0:
                    result.fail(number, error)
                else:
                    result.note(number, f"revenue event {position} (Product Purchased): {error}")
        return result


def _id_problem(value: str | None, minimum: int) -> str | None:
    """Why Amplitude would not keep this id (``None`` when it is fine or absent)."""
    if value is None:
        return None
    if value.strip().lower() in INVALID_IDS:
        return "a placeholder Amplitude rejects (e.g. null)"
    if len(value) < minimum:
        return f"shorter than {minimum} characters"
    return None


def base_event(fields: EventFields, settings: AmplitudeSettings) -> AmplitudeEvent:
    """The ids, time, insert_id, session and context keys of an event (no event_type yet)."""
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
    if fields.session_id is not None:
        if fields.session_id == int(fields.session_id):
            out["session_id"] = int(fields.session_id)
        else:
            dropped["session_id"] = "session_id is not whole milliseconds: left out"
    if fields.platform is not None:
        out["platform"] = _PLATFORMS.get(fields.platform.lower(), fields.platform)
    for name in _CONTEXT_KEYS:
        value = getattr(fields, name)
        if value is not None:
            out[name] = value
    device_type = (fields.device_type or "").lower()
    if fields.advertising_id and device_type == "ios":
        out["idfa"] = fields.advertising_id
    elif fields.advertising_id and device_type == "android":
        out["adid"] = fields.advertising_id
    elif fields.advertising_id:
        dropped["advertising_id"] = (
            "context.device.advertisingId: the device type is neither ios nor android, so it "
            "is neither idfa nor adid: left out"
        )
    return AmplitudeEvent(out, dropped)
