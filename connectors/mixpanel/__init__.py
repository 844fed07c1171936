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

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

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
    InvalidEvent,
    PayloadTooLarge,
    PayloadValidationError,
    Response,
    RetryPolicy,
    Subscription,
    Track,
    classify_status,
    membership_values,
)

__all__ = ["MixpanelSettings", "destination"]

BASE_URLS = {
    "us": "https://api.mixpanel.com",
    "eu": "https://api-eu.mixpanel.com",
    "in": "https://api-in.mixpanel.com",
}
MAX_EVENTS = 2000
MAX_UPDATES = 2000
#: "request exceeds max limit of 2097152 bytes" (the documented 413 answer of /import).
MAX_REQUEST_BYTES = 2 * 1024 * 1024
ENVELOPE_BYTES = 1024
MAX_PROPERTIES = 255
#: Requests one /engage batch may spend bisecting a refused batch.
MAX_ENGAGE_REQUESTS = 32
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
#: Mixpanel's /import refuses an event timestamped more than this far in the future.
MAX_FUTURE = timedelta(hours=1)
#: Values Mixpanel refuses for distinct_id and $insert_id.
INVALID_IDS = frozenset(
    {
        "00000000-0000-0000-0000-000000000000",
        "anon",
        "anonymous",
        "nil",
        "none",
        "null",
        "n/a",
        "na",
        "undefined",
        "unknown",
        "<nil>",
        "0",
        "-1",
        "true",
        "false",
        "[]",
        "{}",
    }
)
_INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
#: Segment trait -> Mixpanel reserved profile property.
RESERVED_TRAITS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("$email", ("email",)),
    ("$phone", ("phone",)),
    ("$name", ("name",)),
    ("$first_name", ("firstName", "first_name")),
    ("$last_name", ("lastName", "last_name")),
    ("$avatar", ("avatar",)),
    ("$created", ("createdAt", "created_at", "created")),
)

AuthMethod = Literal["service_account", "api_secret", "project_token"]


class MixpanelSettings(DestinationSettings):
    """Settings of the Mixpanel destination."""

    project_token: SecretStr = Field(
        description="Project token: names the project in /engage profile updates."
    )
    auth_method: AuthMethod = Field(
        default="service_account",
        description="How /import authenticates: service_account (username, secret and "
        "project_id), api_secret (the project's API secret) or project_token.",
    )
    service_account_username: str | None = Field(
        default=None, description="Service account username (auth_method service_account)."
    )
    service_account_secret: SecretStr | None = Field(
        default=None, description="Service account secret (auth_method service_account)."
    )
    project_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]+$",
        description="Numeric project id, sent with service account credentials.",
    )
    api_secret: SecretStr | None = Field(
        default=None, description="The project's API secret (auth_method api_secret)."
    )
    region: Literal["us", "eu", "in"] = Field(
        default="us", description="Data residency: us, eu (api-eu) or in (api-in)."
    )

    @field_validator("project_id", mode="before")
    @classmethod
    def _project_id_as_text(cls, value: Any) -> Any:
        # YAML and JSON settings files give a numeric id as a number.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("service_account_username", "service_account_secret", "project_id")
    @classmethod
    def _needed_by_service_accounts(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("auth_method") == "service_account" and not _filled(value):
            raise ValueError("is required when auth_method is service_account")
        return value

    @field_validator("api_secret")
    @classmethod
    def _needed_by_api_secret(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("auth_method") == "api_secret" and not _filled(value):
            raise ValueError("is required when auth_method is api_secret")
        return value


def _filled(value: Any) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return isinstance(value, str) and bool(value.strip())


# -- mapping ------------------------------------------------------------------------------------


def _now() -> datetime:
    """The current time (a function, so tests can move the clock)."""
    return datetime.now(UTC)


def _checked_id(value: str | None, field: str) -> str | None:
    if value is not None and value.strip().lower() in INVALID_IDS:
        raise InvalidEvent(field, "is a placeholder value that Mixpanel rejects (e.g. null)")
    return value


def _identity(event: AnyMessage) -> tuple[str, str | None, str | None]:
    """``(distinct_id, user_id, anonymous_id)``, placeholders refused."""
    user_id = _checked_id(event.user_id, "userId")
    anonymous_id = _checked_id(event.anonymous_id, "anonymousId")
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


def _ip(event: AnyMessage) -> str | None:
    ip = event.context.get("ip")
    return ip if isinstance(ip, str) and ip.strip() else None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class ImportEvent(Action[MixpanelSettings, dict[str, Any]]):
    """A track call imported as a Mixpanel event (``/import``, strict mode)."""

    name = "import_event"
    description = "Import a track call as a Mixpanel event (POST /import, strict mode)."
    subscribe = Subscription.of("track")
    batch = BatchLimits(max_events=MAX_EVENTS, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> dict[str, Any]:
        assert isinstance(event, Track)
        distinct_id, user_id, anonymous_id = _identity(event)
        # A timestamp without an offset is read as UTC (comparing it with an aware one would
        # raise, and .timestamp() would read it in the machine's local zone).
        moment = event.timestamp
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment < EARLIEST:
            raise InvalidEvent("timestamp", "must be on or after 1971-01-01 for Mixpanel")
        if moment > _now() + MAX_FUTURE:
            raise InvalidEvent(
                "timestamp", "must be no more than one hour in the future for Mixpanel"
            )
        properties, membership = membership_values(event)
        if membership is not None:
            properties["personas"] = membership.personas.to_dict()
        properties.update(
            {
                "time": int(moment.timestamp() * 1000),
                "distinct_id": distinct_id,
                "$insert_id": insert_id(event.message_id),
            }
        )
        if user_id:
            properties["$user_id"] = user_id
        if anonymous_id:
            properties["$device_id"] = anonymous_id
        ip = _ip(event)
        if ip:
            properties["ip"] = ip
        if len(properties) >= MAX_PROPERTIES:
            raise InvalidEvent(
                "properties",
                f"has {len(properties)} properties with Mixpanel's own; Mixpanel accepts "
                f"fewer than {MAX_PROPERTIES} per event",
            )
        return {"event": event.event, "properties": properties}

    async def perform(self, ctx: Context[MixpanelSettings], payload: dict[str, Any]) -> None:
        try:
            errors = await _import(ctx, [payload])
        except PayloadValidationError as exc:
            if exc.status == 413:
                raise PayloadTooLarge(
                    "event",
                    f"is {len(_dumps(payload))} bytes and Mixpanel answered 413 even for it alone",
                ) from None
            raise
        if 0 in errors:
            raise errors[0]

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult | None:
        return _result(len(payloads), await _import(ctx, payloads))


class SetProfile(Action[MixpanelSettings, dict[str, Any]]):
    """An identify call ``$set``s the traits on the user's Mixpanel profile (``/engage``)."""

    name = "set_profile"
    description = "Set user-profile properties from an identify call (POST /engage, $set)."
    subscribe = Subscription.of("identify")
    batch = BatchLimits(max_events=MAX_UPDATES, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> dict[str, Any]:
        assert isinstance(event, Identify)
        distinct_id, _user_id, _anonymous_id = _identity(event)
        traits, _membership = membership_values(event)
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
        ip = _ip(event)
        if ip:
            update["$ip"] = ip
        return update

    async def perform(self, ctx: Context[MixpanelSettings], payload: dict[str, Any]) -> None:
        errors = await _engage(ctx, [payload])
        if 0 in errors:
            raise errors[0]

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult | None:
        return _result(len(payloads), await _engage(ctx, payloads))


def _result(size: int, errors: Mapping[int, DeliveryError]) -> BatchResult | None:
    if not errors:
        return None
    result = BatchResult(size)
    for index, error in errors.items():
        result.fail(index, error)
    return result


# -- delivery -----------------------------------------------------------------------------------


def _basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _import_auth(settings: MixpanelSettings) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters that authenticate ``/import``."""
    if settings.auth_method == "service_account":
        secret = settings.service_account_secret
        username = settings.service_account_username or ""
        password = secret.get_secret_value() if secret is not None else ""
        params = {"project_id": settings.project_id} if settings.project_id else {}
        return {"Authorization": _basic(username, password)}, params
    if settings.auth_method == "api_secret":
        api_secret = settings.api_secret.get_secret_value() if settings.api_secret else ""
        return {"Authorization": _basic(api_secret)}, {}
    return {"Authorization": _basic(settings.project_token.get_secret_value())}, {}


async def _import(
    ctx: Context[MixpanelSettings], events: Sequence[dict[str, Any]]
) -> dict[int, DeliveryError]:
    """POST the events to ``/import``; errors by index for the records Mixpanel refused.

    A failure of the request as a whole is raised (a 413 splits the batch, 429/5xx retry it).
    """
    headers, params = _import_auth(ctx.settings)
    response = await ctx.http.post(
        "/import",
        content=_dumps(list(events)),
        params={"strict": "1", **params},
        headers={**headers, "Content-Type": "application/json", "Accept": "application/json"},
        raise_for_status=False,
    )
    if response.status_code < 300:
        return {}
    body = ctx.redactor.value(response.data) if response.kind == "json" else None
    if response.status_code == 400 and isinstance(body, Mapping):
        errors = _failed_records(ctx, body, events)
        if errors:
            return errors
    raise _whole_error(response, body)


def _failed_records(
    ctx: Context[MixpanelSettings], body: Mapping[str, Any], events: Sequence[dict[str, Any]]
) -> dict[int, DeliveryError]:
    records = body.get("failed_records")
    if not isinstance(records, list):
        return {}
    by_insert_id = {
        event.get("properties", {}).get("$insert_id"): index for index, event in enumerate(events)
    }
    errors: dict[int, DeliveryError] = {}
    for record in records:
        if not isinstance(record, Mapping):
            continue
        index = record.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            index = by_insert_id.get(record.get("$insert_id", record.get("insert_id")))
        if index is None or not 0 <= index < len(events):
            continue
        field = str(record.get("field") or "event")
        message = " ".join(str(record.get("message") or "failed validation").split())
        errors[index] = PayloadValidationError(
            f"{field}: {ctx.redactor.text(message)[:300]} (Mixpanel strict-mode 400)", status=400
        )
    return errors


def _whole_error(response: Response, body: Any) -> DeliveryError:
    status = response.status_code
    error = classify_status(status, response.raw.reason_phrase, body=body, headers=response.headers)
    return error or IntegrationError(f"HTTP {status}", status=status)


async def _engage(
    ctx: Context[MixpanelSettings], updates: Sequence[dict[str, Any]]
) -> dict[int, DeliveryError]:
    """POST profile updates to ``/engage``; errors by index for the updates Mixpanel refused.

    ``/engage`` answers 200 with ``{"status": 0, "error": ...}`` when it refuses the data, not
    which update: a refused batch is sent again in halves until the refused updates are alone
    (or the request budget is spent). A non-2xx answer is raised for the whole batch.
    """
    errors: dict[int, DeliveryError] = {}
    budget = MAX_ENGAGE_REQUESTS

    async def send(indices: list[int]) -> None:
        nonlocal budget
        budget -= 1
        response = await ctx.http.post(
            "/engage",
            content=_dumps([updates[i] for i in indices]),
            params={"verbose": "1"},
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        problem = _engage_problem(ctx, response)
        if problem is None:
            return
        if len(indices) == 1 or budget < 2:
            for index in indices:
                errors[index] = PayloadValidationError(
                    f"$set: Mixpanel refused the profile update: {problem}", status=200
                )
            return
        half = len(indices) // 2
        await send(indices[:half])
        await send(indices[half:])

    await send(list(range(len(updates))))
    return errors


def _engage_problem(ctx: Context[MixpanelSettings], response: Response) -> str | None:
    """``None`` when ``/engage`` accepted the updates, else its error text."""
    data = response.data
    if isinstance(data, Mapping):
        status = data.get("status")
        if status in (1, "1", "ok"):
            return None
        if status in (0, "0", "error") or data.get("error"):
            error = data.get("error") or "status 0"
            return ctx.redactor.text(" ".join(str(error).split()))[:300]
        return None
    if isinstance(data, (int, str)) and str(data).strip() == "0":
        return "no data object in the request is valid (answer 0)"
    return None


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
)
