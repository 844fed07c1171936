"""Klaviyo's API conventions shared by every call: the settings, the JSON:API headers with the
``revision`` pin, the profile identifiers, one request and its errors.

Klaviyo answers errors as JSON:API ``{"errors": [{"id", "status", "code", "title", "detail",
"source": {"pointer"}}]}``; 429 carries ``Retry-After``. The SDK's status rules classify the
answer (401/403 -> ``InvalidAuthentication``, 429 -> ``RateLimited``, 5xx -> retried, other 4xx
-> ``PayloadValidationError``); the message names Klaviyo's pointer, code and detail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from sdk import (
    Context,
    DeliveryError,
    DestinationSettings,
    IntegrationError,
    InvalidIdentifier,
    Response,
    classify_status,
)
from sdk.connector import ListUser, Skipped, check_list_id, check_list_map, normalize_email
from sdk.connector import normalize_phone as e164

__all__ = ["KlaviyoSettings", "profile_identifiers", "send"]

API_URL = "https://a.klaviyo.com"
#: The API revision this connector follows (the latest stable revision, checked 2026-11).
DEFAULT_REVISION = "2026-10-15"
JSON_API = "application/vnd.api+json"
#: Klaviyo list ids are short alphanumeric strings ("Y6nRLr").
_LIST_ID = re.compile(r"[A-Za-z0-9]{1,64}")


class KlaviyoSettings(DestinationSettings):
    """Settings of the Klaviyo destination."""

    api_key: SecretStr = Field(
        description="Private API key (pk_...) with events:write, profiles:write, lists:write "
        "and profiles:read scopes."
    )
    revision: str = Field(
        default=DEFAULT_REVISION,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.pre|\.beta)?$",
        description="API revision header (YYYY-MM-DD).",
    )
    list_id: str | None = Field(
        default=None,
        description="Klaviyo list that receives every audience or journey key without a "
        "list_map entry.",
    )
    list_map: dict[str, str] = Field(
        default_factory=dict,
        description="Computation key (audience key or journey step key) -> Klaviyo list id.",
    )
    phone_country_code: str | None = Field(
        default=None,
        pattern=r"^\+?[1-9][0-9]{0,2}$",
        description="Country calling code for phone numbers written without one (like 1).",
    )

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str | None) -> str | None:
        return check_list_id(value, "Klaviyo list id (letters and digits)", pattern=_LIST_ID)

    @field_validator("list_map")
    @classmethod
    def _list_map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if not value:
            return {}  # membership events then need list_id (refused one by one otherwise)
        return check_list_map(
            value,
            info.data.get("list_id"),
            what="Klaviyo list id (letters and digits)",
            default_setting="list_id",
            pattern=_LIST_ID,
        )


def headers(settings: KlaviyoSettings) -> dict[str, str]:
    """Every request: the private key, the revision pin and JSON:API content types."""
    return {
        "Authorization": f"Klaviyo-API-Key {settings.api_key.get_secret_value()}",
        "revision": settings.revision,
        "Accept": JSON_API,
        "Content-Type": JSON_API,
    }


def profile_identifiers(
    user: ListUser, settings: KlaviyoSettings, skipped: Skipped
) -> dict[str, str]:
    """Klaviyo's profile identifiers of the user: ``email`` (trimmed, lowercased),
    ``phone_number`` (E.164, the user's country or ``phone_country_code`` for a national
    number), ``external_id`` (``userId``) and ``anonymous_id``. A value that cannot be
    normalised is left out and noted in ``skipped``."""
    found: dict[str, str] = {}
    email, phone = user.get("email"), user.get("phone")
    if email is not None:
        try:
            found["email"] = normalize_email(email)
        except InvalidIdentifier as exc:
            skipped.take("email", exc)
    if phone is not None:
        try:
            found["phone_number"] = e164(phone, settings.phone_country_code, country=user.country)
        except InvalidIdentifier as exc:
            skipped.take("phone", exc)
    for source, name in (("user_id", "external_id"), ("anonymous_id", "anonymous_id")):
        value = user.get(source)
        if value is not None:
            found[name] = value
    return found


def _error_text(response: Response) -> str:
    answer = response.json()
    errors = answer.get("errors") if isinstance(answer, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    pointer = (first.get("source") or {}).get("pointer") if isinstance(first, dict) else None
    parts = [
        str(part) for part in (first.get("code"), first.get("detail") or first.get("title")) if part
    ]
    text = "Klaviyo: " + (": ".join(parts) or f"HTTP {response.status_code}")
    if isinstance(pointer, str) and pointer:
        text = f"{pointer}: {text}"
    if isinstance(errors, list) and len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return " ".join(text.split())


def klaviyo_error(response: Response) -> DeliveryError:
    """The taxonomy's error for a Klaviyo error answer, worded from its ``errors[0]``."""
    status = response.status_code
    problem = classify_status(status, response.raw.reason_phrase, headers=response.headers)
    text = _error_text(response)
    return (problem or IntegrationError(text, status=status)).reworded(text)


async def send(
    ctx: Context[KlaviyoSettings],
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
) -> Response:
    """One Klaviyo request (JSON:API body); a non-2xx answer raises its taxonomy error."""
    content = json.dumps(body, separators=(",", ":")) if body is not None else None
    response = await ctx.http.request(
        method, path, content=content, params=params, raise_for_status=False
    )
    if response.status_code >= 300:
        raise klaviyo_error(response)
    return response
