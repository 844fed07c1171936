"""Google's answers: partial failures of ``addOperations`` and API and token errors, mapped
to the SDK's taxonomy (partial-failure guide, quota guide, OAuth 2.0 errors)."""

from __future__ import annotations

from typing import Any

from sdk import (
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

__all__ = ["ads_error", "by_status", "partial_failures", "token_error"]

_RETRYABLE_CODES = ("CONCURRENT_MODIFICATION", "INTERNAL_ERROR", "TRANSIENT_ERROR")


def _field_path(location: Any) -> str:
    elements = location.get("fieldPathElements") if isinstance(location, dict) else None
    parts = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict) or not element.get("fieldName"):
            continue
        part = str(element["fieldName"])
        if isinstance(element.get("index"), int):
            part += f"[{element['index']}]"
        parts.append(part)
    return ".".join(parts)


def _failure_errors(status: Any) -> list[dict[str, Any]]:
    """The ``GoogleAdsError`` objects inside a ``google.rpc.Status``'s ``details``."""
    details = status.get("details") if isinstance(status, dict) else None
    return [
        error
        for detail in (details if isinstance(details, list) else [])
        if isinstance(detail, dict) and isinstance(detail.get("errors"), list)
        for error in detail["errors"]
        if isinstance(error, dict)
    ]


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    """(field path, ``message (errorType=CODE)``) of one ``GoogleAdsError``."""
    message = " ".join(str(error.get("message") or "rejected").split())
    code = error.get("errorCode")
    if isinstance(code, dict) and code:
        name, value = next(iter(code.items()))
        message += f" ({name}={value})"
    return _field_path(error.get("location")), message


def partial_failures(response: Response, size: int) -> list[tuple[int, DeliveryError]]:
    """Per-operation failures from ``partialFailureError`` (indices within the request)."""
    answer = response.json()
    status = answer.get("partialFailureError") if isinstance(answer, dict) else None
    if not isinstance(status, dict) or not (status.get("details") or status.get("code")):
        return []
    failed: dict[int, DeliveryError] = {}
    unplaced: list[str] = []
    for error in _failure_errors(status):
        elements = (error.get("location") or {}).get("fieldPathElements") or []
        index = next(
            (
                element.get("index")
                for element in elements
                if isinstance(element, dict) and element.get("fieldName") == "operations"
            ),
            None,
        )
        path, message = _describe(error)
        if isinstance(index, int) and 0 <= index < size:
            failed.setdefault(index, PayloadValidationError(f"{path}: {message}"))
        else:
            unplaced.append(f"{path or 'request'}: {message}")
    if not failed and not unplaced:  # a status without GoogleAdsFailure details
        unplaced.append(f"request: {' '.join(str(status.get('message') or 'failed').split())}")
    if unplaced:
        # An error Google did not pin on an operation: none of them is known to be good.
        for index in range(size):
            failed.setdefault(index, PayloadValidationError(unplaced[0]))
    return sorted(failed.items())


def _retry_delay(errors: list[dict[str, Any]]) -> float | None:
    for error in errors:
        quota = (error.get("details") or {}).get("quotaErrorDetails") or {}
        delay = quota.get("retryDelay") if isinstance(quota, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return None


def ads_error(response: Response) -> DeliveryError:
    """The taxonomy's error for a Google Ads API error answer."""
    status = response.status_code
    answer = response.json()
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        problem = classify_status(
            status, response.raw.reason_phrase, body=response.data, headers=response.headers
        )
        return problem or IntegrationError(f"HTTP {status}: unexpected answer", status=status)
    grpc_status = str(error.get("status") or "")
    errors = _failure_errors(error)
    text = f"Google Ads API {grpc_status or status}: "
    path = ""
    if errors:
        path, message = _describe(errors[0])
        text += message
        if len(errors) > 1:
            text += f" (and {len(errors) - 1} more)"
    else:
        text += " ".join(str(error.get("message") or "no message").split())
    request_id = next(
        (d.get("requestId") for d in error.get("details") or [] if isinstance(d, dict)), None
    ) or response.headers.get("request-id")
    if request_id:
        text += f" [request-id {request_id}]"
    codes = " ".join(str(e.get("errorCode")) for e in errors)
    if grpc_status == "UNAUTHENTICATED" or status == 401:
        return InvalidAuthentication(text, status=status)
    if grpc_status == "PERMISSION_DENIED" or status == 403:
        return InvalidAuthentication(f"permission refused: {text}", status=status)
    if grpc_status == "RESOURCE_EXHAUSTED" or status == 429:
        wait = _retry_delay(errors) or parse_retry_after(response.headers.get("retry-after"))
        return RateLimited(text, retry_after=wait, status=status)
    if any(code in codes for code in _RETRYABLE_CODES):
        return RetryableError(text, status=status)
    if grpc_status in ("INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION"):
        return PayloadValidationError(f"{path or 'request'}: {text}", status=status)
    return by_status(response, text)


def by_status(response: Response, text: str) -> DeliveryError:
    """An error of the class the HTTP status means (the SDK's rules), worded as ``text``."""
    status = response.status_code
    problem = classify_status(status, response.raw.reason_phrase, headers=response.headers)
    # No problem by status: an error object in a 2xx answer, reported as such.
    return (problem or IntegrationError(text, status=status)).reworded(text)


def token_error(response: Response) -> DeliveryError:
    status = response.status_code
    answer = response.json()
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        text = f"OAuth token refresh refused: {answer['error']}"
        if answer.get("error_description"):
            text += f" ({answer['error_description']})"
    elif status < 300:
        return InvalidAuthentication("OAuth token endpoint answered without an access_token")
    else:
        text = f"OAuth token refresh failed: HTTP {status} {response.raw.reason_phrase}".strip()
    if status in (400, 401, 403):  # invalid_grant, invalid_client, unauthorized_client...
        return InvalidAuthentication(text, status=status)
    return by_status(response, text)
