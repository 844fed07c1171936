"""Standard Webhooks signing and verification (symmetric, ``v1``).

Specification: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

- The sender signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 and sends
  ``webhook-id``, ``webhook-timestamp`` (integer unix seconds) and ``webhook-signature``: a
  space-delimited list of ``v1,<base64 signature>``; several signatures allow a secret to be
  rotated without downtime (sign with the new and the old secret for a while).
- The secret is shown to users as ``whsec_`` followed by base64; the HMAC key is the decoded part.
- The receiver rejects a timestamp outside a tolerance of its clock (replays), compares
  signatures in constant time, and accepts the message when any ``v1`` signature matches.
- Neither the id nor the timestamp may contain a ``.``: the signed content would become ambiguous
  (an id ``a.1700000000`` could be re-read as id ``a`` with another timestamp and body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Mapping, Sequence

from sdk._errors import DestkitError, InvalidEvent, InvalidSettings

__all__ = [
    "DEFAULT_TOLERANCE",
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "sign",
    "signature_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"
#: The usual replay window: five minutes either side of the receiver's clock.
DEFAULT_TOLERANCE = 300
_VERSION = "v1"
_ID_HEADER = "webhook-id"
_TIMESTAMP_HEADER = "webhook-timestamp"
_SIGNATURE_HEADER = "webhook-signature"
_SETTING = "signing_secret"
_UNSAFE_ID = re.compile(r"[.\s]")
_TIMESTAMP = re.compile(r"[0-9]{1,19}")


class WebhookVerificationError(DestkitError):
    """A webhook failed verification: a header is missing, its timestamp is out of tolerance, or
    no signature matches. The message is one line and never contains the secret."""


def _key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` (or bare base64) secret."""
    if not isinstance(secret, str) or not secret.strip():
        raise InvalidSettings(_SETTING, "is empty")
    encoded = secret.strip()
    if encoded.startswith(SECRET_PREFIX):
        encoded = encoded[len(SECRET_PREFIX) :]
    encoded += "=" * (-len(encoded) % 4)  # secrets are often shown without their padding
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSettings(
            _SETTING, "must be base64, optionally prefixed with 'whsec_'"
        ) from None
    if not key:
        raise InvalidSettings(_SETTING, "decodes to an empty key")
    return key


def _keys(secret: str | Sequence[str]) -> list[bytes]:
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise InvalidSettings(_SETTING, "is empty")
    return [_key(one) for one in secrets]


def _digest(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + bytes(body)
    return hmac.new(key, signed, hashlib.sha256).digest()


def _check_id_and_timestamp(msg_id: str, timestamp: int) -> None:
    if not isinstance(msg_id, str) or not msg_id or _UNSAFE_ID.search(msg_id):
        raise InvalidEvent(_ID_HEADER, "must be a non-empty id without '.' or white space")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidEvent(_TIMESTAMP_HEADER, "must be a non-negative integer of unix seconds")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of ``body`` sent as message ``msg_id`` at ``timestamp``.

    ``secret`` is ``whsec_<base64>`` or bare base64; a secret that is not base64 raises
    :class:`~sdk._errors.InvalidSettings` on ``signing_secret`` (the secret is never echoed).
    An id containing ``.`` or white space raises :class:`~sdk._errors.InvalidEvent`.
    """
    key = _key(secret)
    _check_id_and_timestamp(msg_id, timestamp)
    signature = base64.b64encode(_digest(key, msg_id, timestamp, body)).decode()
    return f"{_VERSION},{signature}"


def signature_headers(
    secret: str | Sequence[str],
    body: bytes,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers for ``body``.

    ``msg_id`` defaults to a new ``msg_<uuid>`` and ``timestamp`` to now. Give several secrets
    (newest first) while rotating: the signature header then carries one signature per secret.
    """
    keys_given = [secret] if isinstance(secret, str) else list(secret)
    if not keys_given:
        raise InvalidSettings(_SETTING, "is empty")
    message_id = msg_id if msg_id is not None else f"msg_{uuid.uuid4().hex}"
    sent_at = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(sign(one, message_id, sent_at, body) for one in keys_given)
    return {
        _ID_HEADER: message_id,
        _TIMESTAMP_HEADER: str(sent_at),
        _SIGNATURE_HEADER: signatures,
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not isinstance(value, str) or not value.strip():
        raise WebhookVerificationError(f"missing header {name}")
    return value.strip()


def _candidates(signature_header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` header; others are ignored."""
    found = []
    prefix = f"{_VERSION},"
    for entry in signature_header.split():
        if not entry.startswith(prefix):
            continue
        encoded = entry[len(prefix) :]
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    secret: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check that ``body`` and its Standard Webhooks ``headers`` were signed with ``secret``.

    Header names are matched case-insensitively. Raises :class:`WebhookVerificationError` with a
    one-line reason when a header is missing, the timestamp is not an integer or is more than
    ``tolerance`` seconds from ``now`` (default: the current time), or no ``v1`` signature
    matches. Several secrets may be given (a receiver rotating its secret): any one may match.
    A secret that is not base64 raises :class:`~sdk._errors.InvalidSettings`.
    """
    if tolerance < 0:
        raise ValueError("tolerance must be zero or more seconds")
    keys = _keys(secret)
    lowered = {str(name).lower(): value for name, value in headers.items()}
    msg_id = _header(lowered, _ID_HEADER)
    timestamp_text = _header(lowered, _TIMESTAMP_HEADER)
    signature_header = _header(lowered, _SIGNATURE_HEADER)

    if _TIMESTAMP.fullmatch(timestamp_text) is None:
        raise WebhookVerificationError(f"invalid {_TIMESTAMP_HEADER}: not integer unix seconds")
    timestamp = int(timestamp_text)
    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            f"{_TIMESTAMP_HEADER} too old: more than {tolerance} s before now"
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            f"{_TIMESTAMP_HEADER} too new: more than {tolerance} s after now"
        )

    candidates = _candidates(signature_header)
    if not candidates:
        raise WebhookVerificationError(f"no {_VERSION} signature in {_SIGNATURE_HEADER}")
    for key in keys:
        # Over the header exactly as sent, so a signature covers the bytes the sender signed.
        expected = _digest(key, msg_id, timestamp_text, body)
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate):
                return
    raise WebhookVerificationError("no matching signature")
