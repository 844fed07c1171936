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
import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from pydantic_core import PydanticSerializationError, from_json, to_json

__all__ = ["MASK", "Redactor", "mask_text_pairs", "quiet_http_loggers"]

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
# Headers whose value is a URL: masked as one (credential-named query parameters, user info).
_URL_HEADERS = {"location", "content-location"}
# A name is secret when one of its words is one of these (api_key, accessToken, client-secret).
_SECRET_NAME = re.compile(
    r"(^|[_\-.]|(?<=[a-z]))(api[_\-]?key|apikey|secret|token|password|passwd|signature|"
    r"authorization|credential|private[_\-]?key|write[_\-]?key|session[_\-]?key)s?($|[_\-.])",
    re.IGNORECASE,
)
# Any credential word anywhere in a serialized document (a superset of what the two
# name rules above catch, so a document without one has no credential-named field).
_SECRET_WORDS = (
    *(
        f"{word}{sep}key"
        for word in ("api", "private", "write", "session")
        for sep in ("", "_", "-")
    ),
    "secret",
    "token",
    "passw",
    "signature",
    "auth",
    "credential",
    "session",
    "cookie",
)
_WORDS = tuple(word.encode() for word in _SECRET_WORDS)
#: One search for any of them (a loop of ``in`` over the words costs ~20 Python steps).
_ANY_WORD = re.compile(b"|".join(re.escape(word) for word in _WORDS))
# Names that contain "token" but are not secrets.
_NOT_SECRET_NAMES = {"token_type", "tokentype", "expires_in", "$token"}
_MIN_SECRET_LENGTH = 4
# ``name=value`` pairs inside free text (a URL in an error message or a log line).
_TEXT_PAIR = re.compile(r"(?<![^?&;\s])([A-Za-z0-9_.\-\[\]]+)=([^&\s#\"'<>]*)")
_B64_CHARS = "[A-Za-z0-9+/]"
_B64_SET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
#: The rest of a base64 word from a core's end: its characters, then up to two ``=``.
_B64_TAIL = re.compile(f"{_B64_CHARS}*={{0,2}}")
_PERCENT_HEX = re.compile(r"%[0-9A-F]{2}")
# A Basic credential in text (an Authorization header quoted in a message): decoded and masked
# whole when it holds a registered secret, however short the secret.
_BASIC = re.compile(r"(?i)(basic\s+)([A-Za-z0-9+/_\-]+={0,2})")
# Base64 cores shorter than this many characters are not looked for (false matches).
_MIN_CORE_LENGTH = 8


@functools.lru_cache(maxsize=8192)
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
        #: The secrets as registered (each also has the renderings in ``_secrets``).
        self._raw: set[str] = set()
        self._cores: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        #: The base64 cores, any of them (the word around one is found from it).
        self._b64_cores: re.Pattern[str] | None = None
        #: Lower-cased names of headers whose values are masked whole, whatever their name.
        self._masked_headers: set[str] = set()
        #: Literal forms searched for in a whole serialized document (cheaper than the regexes).
        self._probes: tuple[bytes, ...] = ()
        self._any_probe: re.Pattern[bytes] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Register more secret values (for example an access token obtained at run time)."""
        known = (len(self._secrets), len(self._cores))
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LENGTH:
                continue
            self._raw.add(secret)
            self._secrets.update(self._forms(secret))
            self._cores.update(self._base64_cores(secret))
        if (len(self._secrets), len(self._cores)) != known:
            self._probes = tuple(form.encode() for form in self._secrets | self._cores)
            self._any_probe = re.compile(b"|".join(re.escape(probe) for probe in self._probes))
            # Reverse order puts a secret before any shorter one it starts with ("12345678"
            # before "1234"), so the alternation masks the longest form, never leaving a tail.
            ordered = sorted(self._secrets, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            if self._cores:
                # The whole base64 word around a core goes ("dXNlcjpzZWNyZXQ="), not just a
                # part: so the order of the cores does not matter.
                self._b64_cores = re.compile("|".join(re.escape(c) for c in self._cores))

    @staticmethod
    def _forms(secret: str) -> list[str]:
        """Every rendering of ``secret`` that text may hold: as is; inside Basic credentials
        (``key:`` or ``user:key`` base64-encoded) and plain base64; percent-encoded (with and
        without ``/`` kept, ``+`` for spaces, lower-case hex); escaped inside JSON (ASCII or
        not) and by ``repr()`` of the text or of its UTF-8 bytes (an HTTP library's error)."""
        raw = secret.encode()
        forms = [secret]
        for wrapped in (raw + b":", b":" + raw, raw):
            forms.append(base64.b64encode(wrapped).decode().rstrip("="))
            forms.append(base64.urlsafe_b64encode(wrapped).decode().rstrip("="))
        for safe in ("", "/"):
            for encoded in (quote(secret, safe=safe), quote_plus(secret, safe=safe)):
                forms.append(encoded)
                forms.append(_PERCENT_HEX.sub(lambda m: m.group(0).lower(), encoded))
        forms.append(json.dumps(secret)[1:-1])
        forms.append(json.dumps(secret, ensure_ascii=False)[1:-1])
        forms.append(repr(secret)[1:-1])
        forms.append(repr(raw)[2:-1])
        return [form for form in dict.fromkeys(forms) if len(form) >= _MIN_SECRET_LENGTH]

    @staticmethod
    def _base64_cores(secret: str) -> list[str]:
        """What base64 shows of ``secret`` wherever it sits in the encoded text.

        Base64 encodes 3 bytes at a time, so a secret inside ``user:secret`` is encoded
        differently depending on its offset modulo 3. For each of the three offsets, the
        groups made of the secret's bytes alone are the same whatever surrounds them.
        """
        raw = secret.encode()
        cores = []
        for skip in range(3):
            body = raw[skip:]
            body = body[: len(body) // 3 * 3]
            core = base64.b64encode(body).decode()
            if len(core) >= _MIN_CORE_LENGTH:
                cores.append(core)
        return cores

    @property
    def secrets(self) -> frozenset[str]:
        """The registered secret values (never print this)."""
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        """Mask every registered secret occurring in ``value`` (raw, percent-encoded, JSON
        escaped or inside base64), and the value of every credential-named ``name=value``
        pair (a query string quoted in an error message)."""
        if not value:
            return value
        if self._raw:
            value = _BASIC.sub(self._mask_basic, value)
        if self._b64_cores is not None:
            value = self._mask_base64_words(value, self._b64_cores)
        if self._pattern is not None:
            value = self._pattern.sub(MASK, value)
        return mask_text_pairs(value)

    @staticmethod
    def _mask_base64_words(value: str, cores: re.Pattern[str]) -> str:
        """Mask each base64 word (and its ``=`` padding) that holds a core, in one pass: the
        cores are found as literals, then each one's word is widened to its ends. Linear in
        ``value``: the single pattern ``[B64]*(?:cores)[B64]*`` this replaces backtracked over
        every start of a long base64 run (4 s of CPU for 32 KB of "xxx...", a vendor's answer
        or a refused event's record)."""
        parts: list[str] = []
        done = 0  # everything before this is copied or masked
        for found in cores.finditer(value):
            start = found.start()
            if start < done:  # inside a word already masked
                continue
            while start > done and value[start - 1] in _B64_SET:
                start -= 1
            tail = _B64_TAIL.match(value, found.end())
            end = tail.end() if tail is not None else found.end()
            parts += (value[done:start], MASK)
            done = end
        if not parts:
            return value
        parts.append(value[done:])
        return "".join(parts)

    @property
    def generation(self) -> tuple[int, int]:
        """Changes whenever what is masked changes (it only grows): a cache of masked values
        is valid while this stays the same."""
        return len(self._secrets) + len(self._cores) + len(self._raw), len(self._masked_headers)

    def mask_headers(self, *names: str) -> None:
        """Mask the whole value of these headers from now on (a credential in a header whose
        name does not say so, such as a webhook's ``X-Functions-Key``), however short."""
        self._masked_headers.update(name.lower() for name in names)

    def _mask_basic(self, match: re.Match[str]) -> str:
        token = match.group(2)
        try:
            # Padding restored (shown tokens often lack it); excess padding is ignored.
            decoded = base64.b64decode(token + "==", altchars=b"-_")
        except ValueError:
            return match.group(0)
        text = decoded.decode(errors="replace")
        if any(secret in text for secret in self._raw):
            return match.group(1) + MASK
        return match.group(0)

    def header(self, name: str, value: str) -> str:
        """Mask a header's value when its name is a credential, else any secret inside it."""
        if name.lower() in self._masked_headers:
            return MASK
        if is_secret_name(name):
            scheme, _, rest = value.partition(" ")
            if rest and scheme.lower() in {"bearer", "basic", "token", "oauth"}:
                return f"{scheme} {MASK}"
            return MASK
        if name.lower() in _URL_HEADERS:
            return self.url(value)
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
        if not isinstance(value, (Mapping, list, tuple)):
            return value
        try:
            document = to_json(value)  # compact UTF-8 JSON, in Rust: cheap enough per event
        except PydanticSerializationError:  # not plain JSON (odd objects): walk all of it
            return self._walk(value, True)
        # One pass over the serialized document decides what the walk must do: whether any
        # string can hold a registered secret, and whether anything looks credential-named.
        lowered = document.lower()
        # A Basic token is decoded to be checked: what it holds is not among the probes.
        probe = self._any_probe
        holds_secret = b"basic" in lowered or (
            probe is not None and probe.search(document) is not None
        )
        if not holds_secret and _ANY_WORD.search(lowered) is None:
            return from_json(document)  # nothing to mask: a fast deep copy
        return self._walk(value, holds_secret)

    def _walk(self, value: Any, deep: bool) -> Any:
        if isinstance(value, str):
            return self.text(value) if deep else mask_text_pairs(value)
        if isinstance(value, Mapping):
            return {
                key: (
                    MASK if is_secret_name(str(key)) and _maskable(item) else self._walk(item, deep)
                )
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self._walk(item, deep) for item in value]
        return value


def mask_text_pairs(text: str) -> str:
    """Mask the value of every credential-named ``name=value`` pair in free text."""
    if "=" not in text:
        return text

    def mask(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if value and value != MASK and is_secret_name(name):
            return f"{name}={MASK}"
        return match.group(0)

    return _TEXT_PAIR.sub(mask, text)


def _maskable(value: Any) -> bool:
    # Mask scalar credentials; keep structure (e.g. {"token": {...}}) and booleans readable.
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


class _PairRedactingFilter(logging.Filter):
    """Masks credential-named query parameters in a record, should its logger be turned up."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, never the caller's
            return True
        masked = mask_text_pairs(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = _PairRedactingFilter()


def quiet_http_loggers() -> None:
    """httpx and httpcore log every request's full URL at INFO/DEBUG, query-string keys included.

    destkit records requests itself, redacted, so their loggers are held at WARNING; and should
    an application turn them up again, credential-named query parameters are still masked.
    """
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
