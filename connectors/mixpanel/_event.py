"""What every imported Mixpanel event shares: who it is about (placeholders refused), its
time (within Mixpanel's window), ``$insert_id``, and Mixpanel's default properties from the
message's context; and the ``/import`` action every event action is."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from connectors.mixpanel._api import (
    _INSERT_ID,
    EARLIEST,
    ENVELOPE_BYTES,
    INVALID_IDS,
    MAX_EVENTS,
    MAX_FUTURE,
    MAX_PROPERTIES,
    MAX_REQUEST_BYTES,
    MixpanelSettings,
    dumps,
    engage,
    import_events,
    result_of,
)
from sdk import (
    Action,
    BatchLimits,
    BatchResult,
    Context,
    InvalidEvent,
    PayloadTooLarge,
    PayloadValidationError,
)
from sdk.mapping import LooseNumber, LooseText, mapped, upper

__all__ = [
    "EventFields",
    "Identity",
    "ImportAction",
    "MixpanelEvent",
    "event_of",
    "identity_of",
    "insert_id",
]

#: User agent -> Mixpanel's ``$browser`` (the first that matches; Edge and Opera say Chrome too).
_BROWSERS = (
    ("Edg/", "Microsoft Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome iOS"),
    ("Safari/", "Safari"),
)
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def now() -> datetime:
    """The current time (a function, so tests can move the clock)."""
    return datetime.now(UTC)


class Identity(BaseModel):
    """Who the event is about, as every action takes it."""

    user_id: str | None = mapped("$.userId", description="distinct_id and $user_id.")
    anonymous_id: str | None = mapped(
        "$.anonymousId", description="$device_id; the distinct_id when there is no userId."
    )
    ip: LooseText = mapped("$.context.ip", description="ip (events) or $ip (profiles).")


class EventFields(Identity):
    """What every imported event takes: its time, its id and Mixpanel's default properties."""

    time: datetime = mapped("$.timestamp", required=True, description="Sent in ms since epoch.")
    insert_id: str = mapped(
        "$.messageId",
        required=True,
        description="$insert_id (hashed if Mixpanel would refuse it).",
    )
    current_url: LooseText = mapped("$.context.page.url", description="$current_url.")
    referrer: LooseText = mapped("$.context.page.referrer", description="$referrer.")
    os: LooseText = mapped("$.context.os.name", description="$os.")
    user_agent: LooseText = mapped("$.context.userAgent", description="$browser (parsed).")
    screen_width: LooseNumber = mapped("$.context.screen.width", description="$screen_width.")
    screen_height: LooseNumber = mapped("$.context.screen.height", description="$screen_height.")
    locale: LooseText = mapped("$.context.locale", description="$locale.")
    country_code: LooseText = mapped(
        upper("$.context.location.country"), description="mp_country_code (a 2-letter code)."
    )
    lib: LooseText = mapped("$.context.library.name", description="mp_lib.")
    lib_version: LooseText = mapped("$.context.library.version", description="$lib_version.")
    utm_source: LooseText = mapped("$.context.campaign.source")
    utm_medium: LooseText = mapped("$.context.campaign.medium")
    utm_campaign: LooseText = mapped("$.context.campaign.name")
    utm_term: LooseText = mapped("$.context.campaign.term")
    utm_content: LooseText = mapped("$.context.campaign.content")


def _checked_id(value: str | None, field: str) -> str | None:
    if value is not None and value.strip().lower() in INVALID_IDS:
        raise InvalidEvent(field, "is a placeholder value that Mixpanel rejects (e.g. null)")
    return value


def identity_of(fields: Identity) -> tuple[str, str | None, str | None]:
    """``(distinct_id, user_id, anonymous_id)``, placeholders refused."""
    user_id = _checked_id(fields.user_id, "userId")
    anonymous_id = _checked_id(fields.anonymous_id, "anonymousId")
    distinct_id = user_id or anonymous_id
    if not distinct_id:  # the message model already requires one; kept for safety
        raise InvalidEvent("userId", "one of userId or anonymousId is required")
    return distinct_id, user_id, anonymous_id


def insert_id(message_id: str) -> str:
    """A valid ``$insert_id`` for a message id: itself when Mixpanel accepts it (at most 36
    letters, digits or ``-``), else the first 36 hex digits of its SHA-256 (stable)."""
    if _INSERT_ID.match(message_id) and message_id.lower() not in INVALID_IDS:
        return message_id
    return hashlib.sha256(message_id.encode()).hexdigest()[:36]


def _browser(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    return next((name for marker, name in _BROWSERS if marker in user_agent), None)


def context_properties(fields: EventFields) -> dict[str, Any]:
    """Mixpanel's default properties from the message's context (those it has)."""
    values = {
        "$current_url": fields.current_url,
        "$referrer": fields.referrer,
        "$os": fields.os,
        "$browser": _browser(fields.user_agent),
        "$screen_width": fields.screen_width,
        "$screen_height": fields.screen_height,
        "$locale": fields.locale,
        "mp_country_code": fields.country_code
        if fields.country_code and _COUNTRY_CODE.match(fields.country_code)
        else None,
        "mp_lib": fields.lib,
        "$lib_version": fields.lib_version,
        "utm_source": fields.utm_source,
        "utm_medium": fields.utm_medium,
        "utm_campaign": fields.utm_campaign,
        "utm_term": fields.utm_term,
        "utm_content": fields.utm_content,
    }
    return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class MixpanelEvent:
    """One ``/import`` event, and a note for each part of the message left out of it."""

    event: dict[str, Any]
    notes: tuple[str, ...] = ()
    #: An order's ``$transactions`` append to the user's profile (``/engage``), if any.
    transaction: dict[str, Any] | None = None


def _notes(fields: EventFields) -> tuple[str, ...]:
    """What the context had that Mixpanel's properties could not take."""
    if fields.country_code and not _COUNTRY_CODE.match(fields.country_code):
        return (
            "context.location.country: not a 2-letter country code: not sent as mp_country_code",
        )
    return ()


def event_of(fields: EventFields, name: str, properties: dict[str, Any]) -> MixpanelEvent:
    """An ``/import`` event: the properties (the message's own win over the context's), then
    ``time``, ``distinct_id``, ``$insert_id``, ``$user_id``, ``$device_id`` and ``ip``."""
    distinct_id, user_id, anonymous_id = identity_of(fields)
    # A timestamp without an offset is read as UTC (comparing it with an aware one would
    # raise, and .timestamp() would read it in the machine's local zone).
    moment = fields.time
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment < EARLIEST:
        raise InvalidEvent("timestamp", "must be on or after 1971-01-01 for Mixpanel")
    if moment > now() + MAX_FUTURE:
        raise InvalidEvent("timestamp", "must be no more than one hour in the future for Mixpanel")
    out = {**context_properties(fields), **properties}
    out.update(
        {
            "time": int(moment.timestamp() * 1000),
            "distinct_id": distinct_id,
            "$insert_id": insert_id(fields.insert_id),
        }
    )
    if user_id:
        out["$user_id"] = user_id
    if anonymous_id:
        out["$device_id"] = anonymous_id
    if fields.ip:
        out["ip"] = fields.ip
    if len(out) >= MAX_PROPERTIES:
        raise InvalidEvent(
            "properties",
            f"has {len(out)} properties with Mixpanel's own; Mixpanel accepts "
            f"fewer than {MAX_PROPERTIES} per event",
        )
    return MixpanelEvent({"event": name, "properties": out}, _notes(fields))


class ImportAction(Action[MixpanelSettings, MixpanelEvent]):
    """An action whose payload is one ``/import`` event (strict mode, batched)."""

    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def payload_notes(self, payload: MixpanelEvent) -> list[str]:
        return list(payload.notes)

    def payload_record(self, payload: MixpanelEvent) -> Any:
        if payload.transaction is not None:
            return {"import": [payload.event], "engage": [payload.transaction]}
        return payload.event

    async def perform(self, ctx: Context[MixpanelSettings], payload: MixpanelEvent) -> None:
        try:
            errors = await import_events(ctx, [payload.event])
        except PayloadValidationError as exc:
            if exc.status == 413:
                raise PayloadTooLarge(
                    "event",
                    f"is {len(dumps(payload.event))} bytes and Mixpanel answered 413 even for it "
                    "alone",
                ) from None
            raise
        if 0 in errors:
            raise errors[0]
        if payload.transaction is not None:
            refused = await engage(ctx, [payload.transaction], operation="$append")
            if 0 in refused:
                ctx.note(f"$transactions not appended: {refused[0]}")

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[MixpanelEvent]
    ) -> BatchResult | None:
        """Import the events; then append the ``$transactions`` of the orders imported. A
        refused append is a note: the order's event is in Mixpanel."""
        errors = await import_events(ctx, [payload.event for payload in payloads])
        pending = [
            n for n, p in enumerate(payloads) if n not in errors and p.transaction is not None
        ]
        if not pending:
            return result_of(len(payloads), errors)
        result = BatchResult(len(payloads))
        for index, error in errors.items():
            result.fail(index, error)
        updates = [payloads[n].transaction or {} for n in pending]
        refused = await engage(ctx, updates, operation="$append")
        for position, error in refused.items():
            result.note(pending[position], f"$transactions not appended: {error}")
        return result
