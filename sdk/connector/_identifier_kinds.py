"""The declarative table of identifier kinds: each kind's normaliser, whether it is hashed by
default, and its key in Meta's ``users`` schema; :func:`normalize` and
:func:`normalize_and_hash` by kind."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

from sdk._errors import InvalidIdentifier
from sdk.connector._identifier_fields import (
    normalize_birth_day,
    normalize_birth_month,
    normalize_birth_year,
    normalize_city,
    normalize_country,
    normalize_first_initial,
    normalize_gender,
    normalize_name,
    normalize_state,
    normalize_zip,
)
from sdk.connector._identifiers import (
    is_sha256_hex,
    normalize_email,
    normalize_external_id,
    normalize_mobile_ad_id,
    normalize_phone,
    phone_digits_only,
    sha256_hex,
)

__all__ = ["IdentifierKind", "hasher", "normalize", "normalize_and_hash"]


# --------------------------------------------------------------------------- declarative table


class IdentifierKind(StrEnum):
    """A kind of identifier a list destination can match users on."""

    EMAIL = "email"
    PHONE = "phone"
    MOBILE_AD_ID = "mobile_ad_id"
    EXTERNAL_ID = "external_id"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FIRST_INITIAL = "first_initial"
    ZIP = "zip"
    CITY = "city"
    STATE = "state"
    COUNTRY = "country"
    GENDER = "gender"
    BIRTH_YEAR = "birth_year"
    BIRTH_MONTH = "birth_month"
    BIRTH_DAY = "birth_day"

    @property
    def hashed_by_default(self) -> bool:
        """Meta Custom Audiences rule: SHA-256 every key except MADID and EXTERN_ID."""
        return _SPECS[self].hashed

    @property
    def meta_key(self) -> str:
        """This kind's key in Meta's Custom Audiences ``users`` schema (``EMAIL``, ``MADID``...)."""
        return _SPECS[self].meta_key


def _normalize_phone_kind(
    value: str,
    *,
    default_country_code: str | None = None,
    country: str | None = None,
    digits_only: bool = False,
) -> str:
    if digits_only:
        return phone_digits_only(value, default_country_code, country=country)
    return normalize_phone(value, default_country_code, country=country)


@dataclass(frozen=True)
class _KindSpec:
    normalizer: Callable[..., str]
    hashed: bool
    meta_key: str


_SPECS: dict[IdentifierKind, _KindSpec] = {
    IdentifierKind.EMAIL: _KindSpec(normalize_email, True, "EMAIL"),
    IdentifierKind.PHONE: _KindSpec(_normalize_phone_kind, True, "PHONE"),
    IdentifierKind.MOBILE_AD_ID: _KindSpec(normalize_mobile_ad_id, False, "MADID"),
    IdentifierKind.EXTERNAL_ID: _KindSpec(normalize_external_id, False, "EXTERN_ID"),
    IdentifierKind.FIRST_NAME: _KindSpec(partial(normalize_name, field="first_name"), True, "FN"),
    IdentifierKind.LAST_NAME: _KindSpec(partial(normalize_name, field="last_name"), True, "LN"),
    IdentifierKind.FIRST_INITIAL: _KindSpec(normalize_first_initial, True, "FI"),
    IdentifierKind.ZIP: _KindSpec(normalize_zip, True, "ZIP"),
    IdentifierKind.CITY: _KindSpec(normalize_city, True, "CT"),
    IdentifierKind.STATE: _KindSpec(normalize_state, True, "ST"),
    IdentifierKind.COUNTRY: _KindSpec(normalize_country, True, "COUNTRY"),
    IdentifierKind.GENDER: _KindSpec(normalize_gender, True, "GEN"),
    IdentifierKind.BIRTH_YEAR: _KindSpec(normalize_birth_year, True, "DOBY"),
    IdentifierKind.BIRTH_MONTH: _KindSpec(normalize_birth_month, True, "DOBM"),
    IdentifierKind.BIRTH_DAY: _KindSpec(normalize_birth_day, True, "DOBD"),
}


def _kind(kind: IdentifierKind | str) -> IdentifierKind:
    if type(kind) is IdentifierKind:  # the common case, without the enum lookup
        return kind
    try:
        return IdentifierKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in IdentifierKind)
        raise InvalidIdentifier("kind", f"unknown identifier kind; known: {known}") from None


def normalize(kind: IdentifierKind | str, value: str, **options: Any) -> str:
    """``value`` normalised by the rule of ``kind``.

    Options go to that kind's normaliser: ``gmail`` (email); ``country`` (the user's ISO
    country), ``default_country_code`` and ``digits_only`` (phone: E.164 by default, Meta's
    digits-only form with ``digits_only=True``); ``country`` (zip).
    """
    return _SPECS[_kind(kind)].normalizer(value, **options)


def normalize_and_hash(
    kind: IdentifierKind | str, value: str, *, hashed: bool | None = None, **options: Any
) -> str:
    """``value`` normalised, then SHA-256 hashed when the kind is (see ``hashed_by_default``).

    ``hashed`` overrides the kind's default (Google Customer Match sends zip and country in
    clear). A value that already is a SHA-256 digest is passed through (lowercased), neither
    normalised nor hashed again. For Meta's PHONE, pass ``digits_only=True``.
    """
    spec = _SPECS[_kind(kind)]
    do_hash = spec.hashed if hashed is None else hashed
    # Only a value of 64 characters or more (white space around) can be a digest already.
    if do_hash and isinstance(value, str) and len(value) >= 64 and is_sha256_hex(value.strip()):
        return value.strip().lower()
    normalised = spec.normalizer(value, **options)
    return sha256_hex(normalised) if do_hash else normalised


def hasher(
    kind: IdentifierKind | str, *, hashed: bool | None = None, **options: Any
) -> Callable[[str], str]:
    """``lambda value: normalize_and_hash(kind, value, hashed=hashed, **options)``, with the
    kind, its normaliser and its options looked up once: what a list connector calls per user
    in a large sync."""
    spec = _SPECS[_kind(kind)]
    normalizer = partial(spec.normalizer, **options) if options else spec.normalizer
    if not (spec.hashed if hashed is None else hashed):
        return normalizer
    sha256 = hashlib.sha256

    def normalize_and_hash_one(value: str) -> str:
        if isinstance(value, str) and len(value) >= 64 and is_sha256_hex(value.strip()):
            return value.strip().lower()
        normalised: str = normalizer(value)
        if len(normalised) == 64 and is_sha256_hex(normalised):
            return normalised.lower()
        return sha256(normalised.encode("utf-8")).hexdigest()

    return normalize_and_hash_one
