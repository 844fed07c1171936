"""A recorded request as a ``curl`` command.

Pure functions over the lifecycle's recorded request (already redacted). Unmasking is opt-in:
the caller passes the real header values (from the destination's settings) and the secret values,
and only then are ``[REDACTED]`` markers replaced.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

__all__ = ["MASK", "curl_command"]

#: The marker ``sdk``'s redactor puts in place of a secret (``sdk.MASK``; repeated here so this
#: module imports nothing heavy).
MASK = "[REDACTED]"

# Headers curl computes itself, or that would make its output unreadable (compressed bodies).
_SKIPPED_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding"})


def _request_fields(request: Any) -> tuple[str, str, Mapping[str, str], Any, str]:
    if isinstance(request, Mapping):
        return (
            str(request.get("method", "GET")),
            str(request.get("url", "")),
            dict(request.get("headers") or {}),
            request.get("body"),
            str(request.get("body_kind", "empty")),
        )
    return request.method, request.url, request.headers, request.body, request.body_kind


def _body_text(body: Any, kind: str) -> str | None:
    if kind == "empty" or body is None:
        return None
    if kind == "json":
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if kind == "form" and isinstance(body, Mapping):
        return urlencode({str(k): str(v) for k, v in body.items()})
    if kind == "binary":
        return None
    return str(body)


def _unmask_text(text: str, secrets: Sequence[str]) -> str:
    # Only one secret makes the replacement unambiguous; with several, the mask stays.
    if MASK in text and len(secrets) == 1:
        return text.replace(MASK, secrets[0])
    return text


def curl_command(
    request: Any,
    *,
    real_headers: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
) -> str:
    """``request`` (a ``RecordedRequest`` or its dict form) as a multi-line curl command.

    By default every secret stays masked exactly as the record has it. To unmask, pass
    ``real_headers`` (header values as the destination really sends them, matched by name,
    case-insensitively, for headers whose recorded value was masked) and ``secrets`` (the
    settings' secret values, used for a masked URL or body when there is exactly one).
    """
    method, url, headers, body, kind = _request_fields(request)
    unmask = real_headers is not None or bool(secrets)
    real = {name.lower(): value for name, value in (real_headers or {}).items()}
    unique_secrets = list(dict.fromkeys(s for s in secrets if s))
    if unmask:
        url = _unmask_text(url, unique_secrets)
    parts = ["curl"]
    if method.upper() != "GET" or kind not in ("empty", "binary"):
        parts.append(f"-X {shlex.quote(method.upper())}")
    parts.append(shlex.quote(url))
    lines = [" ".join(parts)]
    for name, value in headers.items():
        if name.lower() in _SKIPPED_HEADERS:
            continue
        if unmask and MASK in value:
            value = real.get(name.lower(), _unmask_text(value, unique_secrets))
        lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
    text = _body_text(body, kind)
    if text is not None:
        if unmask:
            text = _unmask_text(text, unique_secrets)
        lines.append(f"--data-raw {shlex.quote(text)}")
    elif kind == "binary":
        lines.append(f"# binary body not included ({body})")
    return " \\\n  ".join(lines)
