"""What the Braze connectors share: instances, settings, auth headers and Braze's error answers.

``braze`` (``/users/track``) and ``braze_canvas`` (``/canvas/trigger/send``) import this module;
nothing here is specific to one endpoint.

References followed (checked 2026-11):

- Instances: https://www.braze.com/docs/api/basics/#endpoints (the REST endpoint of each
  dashboard instance, e.g. ``dashboard-01.braze.eu`` -> ``rest.fra-01.braze.eu``).
- Errors: https://www.braze.com/docs/api/errors/ -- ``{"message": "success", "errors": [...]}``
  is a success with non-fatal errors; ``{"message": "queued"}`` (202) is accepted; ``401`` is an
  invalid API key (or the wrong instance), ``403`` a key without the permission or an inactive
  account, ``404`` an invalid URL, ``429`` over the rate limit, ``5XX`` retried with backoff.
- Rate-limit headers: https://www.braze.com/docs/api/api_limits/ -- ``X-RateLimit-Reset`` is the
  UTC epoch second at which the window resets (Braze does not document ``Retry-After``; it is
  honoured first when present).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import Field, SecretStr, field_validator

from sdk import (
    Context,
    DeliveryError,
    DestinationSettings,
    IntegrationError,
    InvalidAuthentication,
    PayloadValidationError,
    RateLimited,
    Redactor,
    Response,
    classify_status,
    parse_retry_after,
)

__all__ = [
    "DEFAULT_ALIAS_LABEL",
    "INSTANCES",
    "BrazeSettings",
    "auth_headers",
    "braze_error",
    "post",
    "rate_limit_wait",
    "rest_base_url",
]

#: Braze instance -> (REST endpoint, dashboard URL).
INSTANCES: dict[str, tuple[str, str]] = {
    "US-01": ("https://rest.iad-01.braze.com", "https://dashboard-01.braze.com"),
    "US-02": ("https://rest.iad-02.braze.com", "https://dashboard-02.braze.com"),
    "US-03": ("https://rest.iad-03.braze.com", "https://dashboard-03.braze.com"),
    "US-04": ("https://rest.iad-04.braze.com", "https://dashboard-04.braze.com"),
    "US-05": ("https://rest.iad-05.braze.com", "https://dashboard-05.braze.com"),
    "US-06": ("https://rest.iad-06.braze.com", "https://dashboard-06.braze.com"),
    "US-07": ("https://rest.iad-07.braze.com", "https://dashboard-07.braze.com"),
    "US-08": ("https://rest.iad-08.braze.com", "https://dashboard-08.braze.com"),
    "US-09": ("https://rest.us-09.braze.com", "https://dashboard-09.braze.com"),
    "US-10": ("https://rest.us-10.braze.com", "https://dashboard-10.braze.com"),
    "EU-01": ("https://rest.fra-01.braze.eu", "https://dashboard-01.braze.eu"),
    "EU-02": ("https://rest.fra-02.braze.eu", "https://dashboard-02.braze.eu"),
    "AU-01": ("https://rest.au-01.braze.com", "https://dashboard.au-01.braze.com"),
    "ID-01": ("https://rest.id-01.braze.com", "https://dashboard.id-01.braze.com"),
    "JP-01": ("https://rest.jp-01.braze.com", "https://dashboard.jp-01.braze.com"),
}
_DASHBOARDS = {dashboard: rest for rest, dashboard in INSTANCES.values()}
DEFAULT_ALIAS_LABEL = "anonymous_id"
_ENDPOINT_RULE = (
    "must be a Braze instance (US-01 ... US-10, EU-01, EU-02, AU-01, ID-01, JP-01) or its "
    "REST endpoint URL, such as https://rest.iad-01.braze.com"
)


class BrazeSettings(DestinationSettings):
    """Settings every Braze connector has: the REST API key, the instance, the alias label."""

    api_key: SecretStr = Field(
        description="Braze REST API key (Settings > APIs and Identifiers), sent as a Bearer token."
    )
    rest_endpoint: str = Field(
        default=INSTANCES["US-01"][0],
        description="Your Braze instance (US-01 ... JP-01) or its REST endpoint URL; a "
        "dashboard URL is turned into its REST endpoint. The endpoint setting overrides it.",
    )
    alias_label: str = Field(
        default=DEFAULT_ALIAS_LABEL,
        min_length=1,
        description="alias_label of the user_alias used for users without a userId "
        "(alias_name is their anonymousId).",
    )

    @field_validator("rest_endpoint")
    @classmethod
    def _instance_or_url(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        instance = INSTANCES.get(text.upper())
        if instance is not None:
            return instance[0]
        if text in _DASHBOARDS:
            return _DASHBOARDS[text]
        if text.startswith(("https://", "http://")) and " " not in text and len(text) > 8:
            return text
        raise ValueError(_ENDPOINT_RULE)


def rest_base_url(settings: BrazeSettings) -> str:
    """The REST endpoint requests go to (the SDK puts the ``endpoint`` override first)."""
    return settings.rest_endpoint


def auth_headers(settings: BrazeSettings) -> dict[str, str]:
    """``Authorization: Bearer <REST API key>``, as every Braze REST endpoint expects."""
    return {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}


def rate_limit_wait(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait after a 429: ``Retry-After``, else ``X-RateLimit-Retry-After``, else
    until ``X-RateLimit-Reset`` (UTC epoch seconds); ``None`` when none is readable."""
    for name in ("retry-after", "x-ratelimit-retry-after"):
        wait = parse_retry_after(headers.get(name))
        if wait is not None:
            return wait
    reset = headers.get("x-ratelimit-reset")
    if reset is None:
        return None
    try:
        moment = float(reset.strip())
    except ValueError:
        return None
    current = time.time() if now is None else now
    return max(0.0, moment - current)


def _summary(body: Any) -> str:
    """Braze's ``message`` and the first error ``type``s, on one short line."""
    if not isinstance(body, Mapping):
        text = " ".join(str(body or "").split())
        return text[:200]
    parts = []
    message = body.get("message")
    if isinstance(message, str) and message.strip():
        parts.append(" ".join(message.split()))
    errors = body.get("errors")
    if isinstance(errors, list):
        kinds = []
        for item in errors[:3]:
            kind = item.get("type") if isinstance(item, Mapping) else item
            if kind and str(kind) not in kinds:
                kinds.append(" ".join(str(kind).split()))
        if kinds:
            parts.append("errors: " + "; ".join(kinds))
    return " - ".join(parts)[:300]


def braze_error(response: Response, redactor: Redactor) -> DeliveryError | None:
    """The taxonomy's error for a Braze answer, or ``None`` when Braze accepted the request.

    The body is redacted before it is quoted: an error may echo what was sent.
    """
    status = response.status_code
    if status < 300:
        return None
    detail = redactor.text(_summary(redactor.value(response.data)))
    said = f": {detail}" if detail else ""
    if status == 401:
        return InvalidAuthentication(
            f"Braze refused the REST API key (HTTP 401){said}; check api_key and that "
            "rest_endpoint is your instance's REST endpoint",
            status=status,
        )
    if status == 403:
        return InvalidAuthentication(
            f"Braze denied access (HTTP 403){said}; the API key lacks this endpoint's "
            "permission or the account is inactive",
            status=status,
        )
    if status == 404:
        return IntegrationError(
            f"Braze answered HTTP 404 (invalid URL){said}; check rest_endpoint", status=status
        )
    if status == 429:
        return RateLimited(
            f"Braze rate limit reached (HTTP 429){said}",
            retry_after=rate_limit_wait(response.headers),
            status=status,
        )
    if status in (400, 422):
        return PayloadValidationError(
            f"Braze refused the request (HTTP {status}){said}", status=status
        )
    # 5xx, 408, other 4xx: the SDK's rules (retry 5xx except 501, honour Retry-After).
    return classify_status(
        status,
        response.raw.reason_phrase,
        body=redactor.value(response.data),
        headers=response.headers,
    )


async def post(ctx: Context[Any], path: str, body: Mapping[str, Any]) -> Response:
    """POST JSON to Braze and raise the taxonomy's error for anything but an accepted answer."""
    response = await ctx.http.post(path, json=dict(body), raise_for_status=False)
    error = braze_error(response, ctx.redactor)
    if error is not None:
        raise error
    return response
