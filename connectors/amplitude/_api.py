"""Amplitude's HTTP V2 API: the settings, the limits and the upload (a 400/429 that names
events fails those events and sends the others again at once). See the package docstring."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, SecretStr

from sdk import (
    BatchLimits,
    BatchResult,
    Context,
    DeliveryError,
    DestinationSettings,
    IntegrationError,
    InvalidAuthentication,
    PayloadTooLarge,
    PayloadValidationError,
    RateLimited,
    Response,
    RetryableError,
    classify_status,
    parse_retry_after,
)

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
    group_type: str = Field(
        default="company",
        min_length=1,
        description="group calls: the Amplitude group type the groupId is a value of "
        "(Accounts add-on).",
    )
    usermap: bool = Field(
        default=False,
        description="alias calls: map previousId to userId with the User Mapping API "
        "(POST /usermap, Amplitude Portfolio); when off, alias calls are refused.",
    )


def limits(settings: AmplitudeSettings) -> BatchLimits:
    return BatchLimits(
        max_events=settings.events_per_request, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# -- delivery -----------------------------------------------------------------------------------


async def upload_one(ctx: Context[AmplitudeSettings], payload: dict[str, Any]) -> None:
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


async def upload_batch(
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
