"""Meta's answers: invalid entries of an accepted request, and Graph API errors mapped to the
SDK's taxonomy ("Handling Errors"; "Marketing API Rate Limiting")."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from sdk import (
    BatchResult,
    Context,
    DeliveryError,
    IntegrationError,
    InvalidAuthentication,
    PayloadValidationError,
    RateLimited,
    Response,
    RetryableError,
    classify_status,
    parse_retry_after,
)

__all__ = ["graph_error", "graph_error_body", "invalid_entries"]

log = logging.getLogger("connectors.facebook_custom_audiences")

# Graph API error codes (Handling Errors; Marketing API Rate Limiting and Error Codes).
_AUTH_CODES = frozenset({102, 190})
_AUTH_SUBCODES = frozenset(range(458, 468))
_PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
_THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
_TRANSIENT_CODES = frozenset({1, 2, 368})
_INVALID_PARAMETER = 100
_PARAM_IN_MESSAGE = re.compile(r"\b[Pp]aram(?:eter)?\s+([A-Za-z_][\w.\[\]]*)")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def invalid_entries(
    ctx: Context[Any], response: Response, audience_id: str, data: Sequence[Sequence[str]]
) -> BatchResult:
    """Fail the rows Meta counted invalid in one request (indices and ``payload.data[i]`` in
    that request), where the answer lets us tell which they are."""
    result = BatchResult(len(data))
    answer = response.json()
    if not isinstance(answer, dict):
        return result
    invalid = _as_int(answer.get("num_invalid_entries")) or 0
    if invalid <= 0:
        return result
    samples = answer.get("invalid_entry_samples")
    reasons: dict[str, str] = {}
    if isinstance(samples, dict):
        reasons = {str(k).lower(): str(v) for k, v in samples.items()}
    elif isinstance(samples, list):
        reasons = {str(k).lower(): "invalid entry" for k in samples}
    for index, row in enumerate(data):
        for cell in row:
            reason = reasons.get(cell.lower()) if cell else None
            if reason is not None:
                result.fail(index, PayloadValidationError(f"payload.data[{index}]: {reason}"))
                break
    if invalid >= len(data):
        for index in range(len(data)):
            if index not in result.errors:
                result.fail(
                    index,
                    PayloadValidationError(
                        f"payload.data[{index}]: Meta counted every entry of the request invalid"
                    ),
                )
    unexplained = invalid - result.failed
    if unexplained > 0:
        log.warning(
            "%s: Meta counted %d invalid entries in a request of %d users to audience %s; "
            "%d could not be pinned on a user (see the response's invalid_entry_samples)",
            ctx.destination.slug,
            invalid,
            len(data),
            audience_id,
            unexplained,
        )
    return result


def graph_error_body(response: Response) -> dict[str, Any] | None:
    data = response.json()
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else None


def _buc_wait(response: Response) -> float | None:
    """Seconds until access is regained, from ``X-Business-Use-Case-Usage`` (minutes)."""
    raw = response.headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except json.JSONDecodeError:
        return None
    minutes = [
        float(entry["estimated_time_to_regain_access"])
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("estimated_time_to_regain_access"), (int, float))
    ]
    return max(minutes) * 60 if minutes and max(minutes) > 0 else None


def graph_error(response: Response) -> DeliveryError:
    """The taxonomy's error for a Graph API error answer."""
    status = response.status_code
    error = graph_error_body(response)
    if error is None:
        problem = classify_status(
            status, response.raw.reason_phrase, body=response.data, headers=response.headers
        )
        return problem or IntegrationError(f"HTTP {status}: unexpected answer", status=status)
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    message = " ".join(str(error.get("message") or "no message").split())
    text = f"Graph API error #{code if code is not None else '?'}"
    if subcode is not None:
        text += f"/{subcode}"
    if error.get("type"):
        text += f" ({error['type']})"
    text += f": {message}"
    if error.get("error_user_title") or error.get("error_user_msg"):
        user = ": ".join(
            str(error[part]) for part in ("error_user_title", "error_user_msg") if error.get(part)
        )
        text += f" ({user})"
    if error.get("fbtrace_id"):
        text += f" [fbtrace_id {error['fbtrace_id']}]"
    if code in _THROTTLE_CODES:
        wait = parse_retry_after(response.headers.get("retry-after")) or _buc_wait(response)
        return RateLimited(text, retry_after=wait, status=status)
    if code in _TRANSIENT_CODES or error.get("is_transient") is True:
        return RetryableError(text, status=status)
    if code in _AUTH_CODES or subcode in _AUTH_SUBCODES:
        return InvalidAuthentication(text, status=status)
    if code in _PERMISSION_CODES:
        return InvalidAuthentication(f"permission refused: {text}", status=status)
    if code == _INVALID_PARAMETER:
        match = _PARAM_IN_MESSAGE.search(message)
        return PayloadValidationError(
            f"{match.group(1) if match else 'payload'}: {text}", status=status
        )
    return _by_status(response, text)


def _by_status(response: Response, text: str) -> DeliveryError:
    """An error of the class the HTTP status means (the SDK's rules), worded as ``text``."""
    status = response.status_code
    problem = classify_status(status, response.raw.reason_phrase, headers=response.headers)
    # No problem by status: an error object in a 2xx answer, reported as such.
    return (problem or IntegrationError(text, status=status)).reworded(text)
