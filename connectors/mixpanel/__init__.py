"""Mixpanel: track calls imported as events, identify calls as user-profile ``$set`` updates.

API followed: Mixpanel Ingestion API (https://developer.mixpanel.com/reference/ingestion-api;
source: the ``mixpanel/docs`` OpenAPI ``ingestion.openapi.yaml``, "Import Events", "User
Profile Limits" and "400 Bad Request"), checked 2026-11:

- ``POST /import?strict=1`` (``&project_id=`` with a service account) takes a JSON array of
  ``{"event", "properties": {"time", "distinct_id", "$insert_id", ...}}``; at most 2,000 events
  per request; the size cap is 2 MB (the documented 413 says "request exceeds max limit of
  2097152 bytes"; a newer page says 10 MB: destkit keeps to 2 MB); ``time`` in s or ms since
  epoch, not before 1971-01-01 nor more than one hour in the future ("400 Bad Request":
  "Mixpanel rejects events dated before 1971-01-01 or more than one hour in the future,
  measured on Mixpanel's servers"; the future rule is checked on this machine's clock);
  fewer than 255 properties per event; ``$insert_id`` at most 36
  bytes of letters, digits and ``-`` (other message ids are hashed: the first 36 hex digits of
  their SHA-256, stable across retries); placeholder ids (``null``, ``anonymous``, ``0``...)
  are refused;
- authentication of ``/import``: a service account (HTTP Basic ``username:secret`` plus
  ``project_id``), the project's API secret (Basic, secret as username) or the project token
  (Basic, token as username);
- strict-mode ``400``: ``{"code": 400, "error", "failed_records": [{"index", "$insert_id" |
  "insert_id", "field", "message"}], "num_records_imported"}``: Mixpanel ingests the valid
  events, so only the named ones fail; ``401``/``403`` bad credentials; ``413`` too large
  (split); ``429`` rate limited (back off from 2 s, doubling to 60 s, with jitter);
  ``5xx`` retried;
- ``POST /engage?verbose=1`` (``#profile-set``) takes a JSON array of ``{"$token",
  "$distinct_id", "$set"}``, at most 2,000 updates per request; it answers ``200`` even for
  invalid data, with ``{"status": 1|0, "error"}``: a refused batch is bisected to find the
  refused updates (``$set`` is idempotent, so sending an update twice is harmless).

| event | request |
|---|---|
| track | ``POST /import?strict=1``: ``[{"event": name, "properties": {...}}]`` |
| track ``Audience Entered``/``Exited`` | same; ``properties``: ``{KEY: bool, "personas": {...}}`` |
| identify | ``POST /engage?verbose=1``: ``[{"$token", "$distinct_id", "$set": traits}]`` |
| identify with an audience/journey key | same; ``$set`` holds the key as a boolean |
| a journey exit (``j_o_`` key false) | refused with ``ListRemovalRefused`` (add-only) |

Event ``properties`` are the track properties plus ``time`` (ms), ``distinct_id`` (userId, else
anonymousId), ``$insert_id`` (the messageId), ``$user_id``, ``$device_id`` (anonymousId) and
``ip`` (``context.ip``); a profile update carries ``$distinct_id`` (userId, else anonymousId)
and ``$ip`` (``context.ip``).

Traits ``email``, ``phone``, ``name``, ``firstName``/``first_name``, ``lastName``/``last_name``,
``avatar`` and ``createdAt``/``created`` become Mixpanel's reserved ``$email``, ``$phone``,
``$name``, ``$first_name``, ``$last_name``, ``$avatar``, ``$created``.

Residency: ``us`` -> ``https://api.mixpanel.com``, ``eu`` -> ``https://api-eu.mixpanel.com``,
``in`` -> ``https://api-in.mixpanel.com``. The Ingestion API has no credentials-check call, so
there is no ``test_authentication``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from connectors.mixpanel._api import (
    _INSERT_ID,
    BASE_URLS,
    EARLIEST,
    ENVELOPE_BYTES,
    INVALID_IDS,
    MAX_EVENTS,
    MAX_FUTURE,
    MAX_PROPERTIES,
    MAX_REQUEST_BYTES,
    MAX_UPDATES,
    RESERVED_TRAITS,
    MixpanelSettings,
    dumps,
    engage,
    import_events,
    result_of,
)
from connectors.mixpanel._notes import NOTES
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
    PayloadTooLarge,
    PayloadValidationError,
    RetryPolicy,
    Subscription,
    Track,
    membership_values,
)
from sdk.mapping import LooseText, mapped

__all__ = ["MixpanelSettings", "destination", "insert_id"]


class _Identity(BaseModel):
    """Who the event is about, as both actions take it."""

    user_id: str | None = mapped("$.userId", description="distinct_id and $user_id.")
    anonymous_id: str | None = mapped(
        "$.anonymousId", description="$device_id; the distinct_id when there is no userId."
    )
    ip: LooseText = mapped("$.context.ip", description="ip (events) or $ip (profiles).")


class ImportFields(_Identity):
    """The fields of an imported Mixpanel event."""

    event: str = mapped("$.event", required=True, description="The event name.")
    properties: dict[str, Any] = mapped("$.properties", default_factory=dict)
    time: datetime = mapped("$.timestamp", required=True, description="Sent in ms since epoch.")
    insert_id: str = mapped(
        "$.messageId",
        required=True,
        description="$insert_id (hashed if Mixpanel would refuse it).",
    )


class ProfileFields(_Identity):
    """The fields of a Mixpanel profile ``$set``."""

    traits: dict[str, Any] = mapped(
        "$.traits", default_factory=dict, description="Sent as $set (Segment's names reserved)."
    )


def _now() -> datetime:
    """The current time (a function, so tests can move the clock)."""
    return datetime.now(UTC)


def _checked_id(value: str | None, field: str) -> str | None:
    if value is not None and value.strip().lower() in INVALID_IDS:
        raise InvalidEvent(field, "is a placeholder value that Mixpanel rejects (e.g. null)")
    return value


def _identity(fields: _Identity) -> tuple[str, str | None, str | None]:
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


class ImportEvent(Action[MixpanelSettings, dict[str, Any]]):
    """A track call imported as a Mixpanel event (``/import``, strict mode)."""

    name = "import_event"
    description = "Import a track call as a Mixpanel event (POST /import, strict mode)."
    subscribe = Subscription.of("track")
    fields = ImportFields
    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> dict[str, Any]:
        assert isinstance(event, Track)
        fields: ImportFields = self.resolve(event)
        distinct_id, user_id, anonymous_id = _identity(fields)
        # A timestamp without an offset is read as UTC (comparing it with an aware one would
        # raise, and .timestamp() would read it in the machine's local zone).
        moment = fields.time
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment < EARLIEST:
            raise InvalidEvent("timestamp", "must be on or after 1971-01-01 for Mixpanel")
        if moment > _now() + MAX_FUTURE:
            raise InvalidEvent(
                "timestamp", "must be no more than one hour in the future for Mixpanel"
            )
        properties = dict(fields.properties)
        _values, membership = membership_values(event)
        if membership is not None:
            properties[membership.key] = membership.member
            properties["personas"] = membership.personas.to_dict()
        properties.update(
            {
                "time": int(moment.timestamp() * 1000),
                "distinct_id": distinct_id,
                "$insert_id": insert_id(fields.insert_id),
            }
        )
        if user_id:
            properties["$user_id"] = user_id
        if anonymous_id:
            properties["$device_id"] = anonymous_id
        if fields.ip:
            properties["ip"] = fields.ip
        if len(properties) >= MAX_PROPERTIES:
            raise InvalidEvent(
                "properties",
                f"has {len(properties)} properties with Mixpanel's own; Mixpanel accepts "
                f"fewer than {MAX_PROPERTIES} per event",
            )
        return {"event": fields.event, "properties": properties}

    async def perform(self, ctx: Context[MixpanelSettings], payload: dict[str, Any]) -> None:
        try:
            errors = await import_events(ctx, [payload])
        except PayloadValidationError as exc:
            if exc.status == 413:
                raise PayloadTooLarge(
                    "event",
                    f"is {len(dumps(payload))} bytes and Mixpanel answered 413 even for it alone",
                ) from None
            raise
        if 0 in errors:
            raise errors[0]

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult | None:
        return result_of(len(payloads), await import_events(ctx, payloads))


class SetProfile(Action[MixpanelSettings, dict[str, Any]]):
    """An identify call ``$set``s the traits on the user's Mixpanel profile (``/engage``)."""

    name = "set_profile"
    description = "Set user-profile properties from an identify call (POST /engage, $set)."
    subscribe = Subscription.of("identify")
    fields = ProfileFields
    batch = BatchLimits(max_events=MAX_UPDATES, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> dict[str, Any]:
        assert isinstance(event, Identify)
        fields: ProfileFields = self.resolve(event)
        distinct_id, _user_id, _anonymous_id = _identity(fields)
        traits = dict(fields.traits)
        _values, membership = membership_values(event)
        if membership is not None:
            traits[membership.key] = membership.member
        # context.personas has no room on a profile: the next computation would overwrite
        # it. The key itself is the profile property.
        for reserved, names in RESERVED_TRAITS:
            for name in names:
                if name in traits:
                    value = traits.pop(name)
                    traits.setdefault(reserved, value)
        if not traits:
            raise InvalidEvent("traits", "is empty: a Mixpanel profile update needs a property")
        update: dict[str, Any] = {
            "$token": settings.project_token.get_secret_value(),
            "$distinct_id": distinct_id,
            "$set": traits,
        }
        if fields.ip:
            update["$ip"] = fields.ip
        return update

    async def perform(self, ctx: Context[MixpanelSettings], payload: dict[str, Any]) -> None:
        errors = await engage(ctx, [payload])
        if 0 in errors:
            raise errors[0]

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult | None:
        return result_of(len(payloads), await engage(ctx, payloads))


destination: Destination[MixpanelSettings] = Destination(
    name="Mixpanel",
    slug="mixpanel",
    kind=DestinationKind.EVENT,
    settings=MixpanelSettings,
    actions=[ImportEvent(), SetProfile()],
    description="Imports track calls as Mixpanel events (/import, strict mode) and sets "
    "user-profile properties from identify calls (/engage $set).",
    base_url=lambda s: BASE_URLS[s.region],
    authentication=Authentication(scheme="basic"),
    # Mixpanel: back off from 2 s, doubling up to 60 s, with 1-5 s of jitter.
    retry=RetryPolicy(
        max_attempts=6, max_elapsed=180.0, initial_backoff=2.0, max_backoff=60.0, jitter=5.0
    ),
    api_version="Mixpanel Ingestion API (POST /import strict mode, POST /engage $set)",
    docs_url="https://developer.mixpanel.com/reference/import-events",
    notes=NOTES,
)
