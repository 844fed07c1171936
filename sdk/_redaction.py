"""Redaction: secrets never leave the process unmasked.

A :class:`Redactor` masks, wherever a lifecycle record, a log line or an error message could show
them:

- headers whose name says they carry credentials (``Authorization``, ``X-Api-Key``, ...);
- query parameters and JSON/form fields whose name says so (``api_key``, ``access_token``, ...);
- every value the settings model types as secret, and every value a connector registers at run
  time (an OAuth access token), wherever it occurs inside any string, including inside a
  ``Basic`` credential's base64.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "Redactor", "quiet_http_loggers"]

MASK = "[REDACTED]"

_SECRET_HEADERS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "developer-token",
    "webhook-signature",
}
# A name is secret when one of its words is one of these (api_key, accessToken, client-secret).
_SECRET_NAME = re.compile(
    r"(^|[_\-.]|(?<=[a-z]))(api[_\-]?key|apikey|secret|token|password|passwd|signature|"
    r"authorization|credential|private[_\-]?key|write[_\-]?key|session[_\-]?key)s?($|[_\-.])",
    re.IGNORECASE,
)
# Names that contain "token" but are not secrets.
_NOT_SECRET_NAMES = {"token_type", "tokentype", "expires_in", "$token"}
_MIN_SECRET_LENGTH = 4


def is_secret_name(name: str) -> bool:
    """True when a header, query parameter or field name says it carries a credential."""
    lowered = name.lower()
    if lowered in _NOT_SECRET_NAMES:
        return False
    if lowered in _SECRET_HEADERS:
        return True
    return bool(_SECRET_NAME.search(name))


class Redactor:
    """Masks known secret values and credential-named fields in any JSON-like value."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Register more secret values (for example an access token obtained at run time)."""
        added = False
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LENGTH:
                continue
            for form in self._forms(secret):
                if form not in self._secrets:
                    self._secrets.add(form)
                    added = True
        if added:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    @staticmethod
    def _forms(secret: str) -> list[str]:
        # A secret also shows up inside Basic credentials ("key:" or "user:key" base64-encoded).
        forms = [secret]
        for wrapped in (f"{secret}:", f":{secret}"):
            forms.append(base64.b64encode(wrapped.encode()).decode().rstrip("="))
        return forms

    @property
    def secrets(self) -> frozenset[str]:
        """The registered secret values (never print this)."""
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        """Mask every registered secret occurring in ``value``."""
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def header(self, name: str, value: str) -> str:
        """Mask a header's value when its name is a credential, else any secret inside it."""
        if is_secret_name(name):
            scheme, _, rest = value.partition(" ")
            if rest and scheme.lower() in {"bearer", "basic", "token", "oauth"}:
                return f"{scheme} {MASK}"
            return MASK
        return self.text(value)

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """A redacted copy of a header list, as an ordered dict (repeats joined by ``, ``)."""
        result: dict[str, str] = {}
        for name, value in headers:
            masked = self.header(name, value)
            result[name] = f"{result[name]}, {masked}" if name in result else masked
        return result

    def url(self, url: str) -> str:
        """Mask credential-named query parameters, user info and secrets in the path."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            masked = [(k, MASK if is_secret_name(k) else self.text(v)) for k, v in pairs]
            query = urlencode(masked, safe="[]")
        return urlunsplit((parts.scheme, netloc, self.text(parts.path), query, parts.fragment))

    def value(self, value: Any) -> Any:
        """A redacted deep copy of a JSON-like value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                key: (MASK if is_secret_name(str(key)) and _maskable(item) else self.value(item))
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value


def _maskable(value: Any) -> bool:
    # Mask scalar credentials; keep structure (e.g. {"token": {...}}) and booleans readable.
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def quiet_http_loggers() -> None:
    """httpx and httpcore log every request's full URL at INFO/DEBUG, query-string keys included.

    destkit records requests itself, redacted, so their loggers are held at WARNING.
    """
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
