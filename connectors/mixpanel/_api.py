"""Mixpanel's Ingestion API: the settings, the limits, ``/import`` (strict mode) and ``/engage``
(a refused batch is bisected to find the refused updates). See the package docstring."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from sdk import (
    BatchResult,
    Context,
    DeliveryError,
    DestinationSettings,
    IntegrationError,
    PayloadValidationError,
    Response,
    classify_status,
)

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
    id_merge: Literal["simplified", "original"] = Field(
        default="simplified",
        description="The project's ID merge API (project settings > Identity Merge): alias "
        "calls become a $identify event with $user_id and $device_id (simplified) or a $merge "
        "event (original).",
    )
    group_key: str = Field(
        default="company",
        min_length=1,
        description="group calls: the Mixpanel group key (Project settings > Group Keys) the "
        "groupId is a value of.",
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


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def result_of(size: int, errors: Mapping[int, DeliveryError]) -> BatchResult | None:
    if not errors:
        return None
    result = BatchResult(size)
    for index, error in errors.items():
        result.fail(index, error)
    return result


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


async def import_events(
    ctx: Context[MixpanelSettings], events: Sequence[dict[str, Any]]
) -> dict[int, DeliveryError]:
    """POST the events to ``/import``; errors by index for the records Mixpanel refused.

    A failure of the request as a whole is raised (a 413 splits the batch, 429/5xx retry it).
    """
    headers, params = _import_auth(ctx.settings)
    response = await ctx.http.post(
        "/import",
        content=dumps(list(events)),
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


async def engage(
    ctx: Context[MixpanelSettings],
    updates: Sequence[dict[str, Any]],
    path: str = "/engage",
    operation: str = "$set",
) -> dict[int, DeliveryError]:
    """POST profile updates to ``/engage``; errors by index for the updates Mixpanel refused.

    ``/engage`` answers 200 with ``{"status": 0, "error": ...}`` when it refuses the data, not
    which update: a refused batch is sent again in halves until the refused updates are alone
    (or the request budget is spent). A non-2xx answer is raised for the whole batch.
    """
    errors: dict[int, DeliveryError] = {}
    budget = MAX_ENGAGE_REQUESTS
    what = (
        f"{operation}: Mixpanel refused the profile update"
        if path == "/engage"
        else f"{path}: Mixpanel refused the update"
    )

    async def send(indices: list[int]) -> None:
        nonlocal budget
        budget -= 1
        response = await ctx.http.post(
            path,
            content=dumps([updates[i] for i in indices]),
            params={"verbose": "1"},
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        problem = _engage_problem(ctx, response)
        if problem is None:
            return
        if len(indices) == 1 or budget < 2:
            for index in indices:
                errors[index] = PayloadValidationError(f"{what}: {problem}", status=200)
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
