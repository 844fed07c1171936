"""A recorded request as a ``curl`` command.

Pure functions over the lifecycle's recorded request (already redacted). Unmasking is opt-in:
the caller passes the real header values (from the destination's settings) and the secret values,
and only then are ``[REDACTED]`` markers replaced.

A masked header is unmasked only from the real header values: a header the destination computes
per request (a Standard Webhooks ``webhook-signature``, an OAuth access token) is not among them,
and putting a setting's secret in its place would send the raw secret in the wrong header. Such a
header keeps its mask, and a comment line above the command says why.
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
# Why a masked header the settings cannot fill stays masked, for the headers we know.
_COMPUTED_HEADERS = {
    "webhook-signature": (
        "the Standard Webhooks signature (v1,<base64 HMAC-SHA256 of id.timestamp.body>), "
        "computed per request with the signing secret; re-sign before sending"
    ),
}
_COMPUTED_DEFAULT = "computed per request (for example a signature or an access token)"


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
    settings' secret values, used for a masked URL or body when there is exactly one). A masked
    header that ``real_headers`` lacks keeps its mask, with a ``#`` comment line above the
    command saying its value is computed per request.
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
    comments: list[str] = []
    for name, value in headers.items():
        if name.lower() in _SKIPPED_HEADERS:
            continue
        if unmask and MASK in value:
            if name.lower() in real:
                value = real[name.lower()]
            else:
                why = _COMPUTED_HEADERS.get(name.lower(), _COMPUTED_DEFAULT)
                comments.append(f"# {name} stays {MASK}: its value is {why}")
        lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
    text = _body_text(body, kind)
    if text is not None:
        if unmask:
            text = _unmask_text(text, unique_secrets)
        lines.append(f"--data-raw {shlex.quote(text)}")
    elif kind == "binary":
        lines.append(f"# binary body not included ({body})")
    # Comments go above the command: inside it they would end the line continuation.
    return "".join(f"{comment}\n" for comment in comments) + " \\\n  ".join(lines)
