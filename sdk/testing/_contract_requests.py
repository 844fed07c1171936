"""Reading what a connector sent: the delivery requests a mock API received, their text, the
events they carry, and a lifecycle described in a few words for a check's message."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import httpx

from sdk.testing._contract_model import Contract
from sdk.testing._mockapi import MockAPI, decoded_body
from sdk.transport._lifecycle import Lifecycle


def _describe_lifecycle(lifecycle: Lifecycle) -> str:
    error = f" ({lifecycle.error.cls}: {lifecycle.error.message})" if lifecycle.error else ""
    return f"{lifecycle.outcome.value}{error}"


def _delivery_requests(contract: Contract, api: MockAPI) -> list[httpx.Request]:
    return [r for r in api.requests if not contract.is_auxiliary(r)]


def _request_text(request: httpx.Request) -> str:
    body = decoded_body(request)
    body_text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    return f"{request.url} {body_text}"


def _longest_array(value: Any) -> int | None:
    """The length of the longest JSON array in ``value`` (at any depth), None if it has none."""
    longest: int | None = None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest or 0, len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return longest


def _count_array_events(request: httpx.Request) -> int | None:
    """The default event counter of the batch check: the length of the longest JSON array in
    the request's body; 1 for a JSON object without any array (one event); None when the body
    is not JSON (the contract must then declare ``count_events``)."""
    body = decoded_body(request)
    if isinstance(body, (list, dict)):
        longest = _longest_array(body)
        return 1 if longest is None else longest
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _event_markers(event: Mapping[str, Any]) -> list[str]:
    """What shows that a request carries ``event``: its ids, or its user's identifiers as a
    list API sends them (normalised, and SHA-256 hashed)."""
    markers: list[str] = []
    for name in ("userId", "anonymousId", "messageId"):
        value = event.get(name)
        if isinstance(value, str) and value:
            markers += [value, _sha256(value)]
    emails = []
    for where in ("traits", "properties"):
        section = event.get(where)
        if isinstance(section, Mapping):
            emails.append(section.get("email"))
    context = event.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
        emails.append(context["traits"].get("email"))
    for email in emails:
        if isinstance(email, str) and email.strip():
            normalised = email.strip().lower()
            markers += [normalised, _sha256(normalised)]
    return markers


def _delivery_count(contract: Contract, api: MockAPI) -> int:
    return len(_delivery_requests(contract, api))
