"""Normalising and SHA-256 hashing of identifiers for list destinations.

Ad platforms match the users on a list by comparing SHA-256 digests, so a value must be normalised
the way the platform normalises it before it is hashed, or it silently never matches. The rules
here follow the vendors' published requirements:

- Meta Marketing API, Customer File Custom Audiences, "Hashing and Normalizing Data"
  (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences):
  EMAIL trim + lowercase; PHONE digits only with the country code, no ``+``, no leading zeros;
  FN/LN letters only, lowercase, no punctuation, special characters kept as UTF-8; CT letters only,
  no white space; ST the 2-letter ANSI code for U.S. states; ZIP lowercase, no white space, first
  5 digits in the U.S., area/district/sector in the UK; COUNTRY ISO 3166-1 alpha-2 lowercase;
  GEN ``m``/``f``; DOBY ``YYYY`` (1900 to this year), DOBM ``MM``, DOBD ``DD``; every one of those
  hashed. MADID (lowercase, hyphens kept) and EXTERN_ID are sent unhashed.
- Google Ads API Customer Match and enhanced conversions
  (https://developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match):
  email and names trimmed and lowercased, phone in E.164 (``+`` and up to 15 digits), all
  SHA-256 hashed; country code and postal code sent in clear; removing the dots of a gmail.com /
  googlemail.com address is *not required* for Customer Match (Campaign Manager 360's enhanced
  conversions do require it, hence the opt-in ``gmail`` flag).

Every normaliser raises :class:`~sdk._errors.InvalidIdentifier` naming the field and the rule, and
never the value itself: identifiers are personal data.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import partial
from typing import Any

from sdk._errors import InvalidIdentifier

__all__ = [
    "IdentifierKind",
    "is_sha256_hex",
    "normalize",
    "normalize_and_hash",
    "normalize_birth_day",
    "normalize_birth_month",
    "normalize_birth_year",
    "normalize_city",
    "normalize_country",
    "normalize_date_of_birth",
    "normalize_email",
    "normalize_external_id",
    "normalize_first_initial",
    "normalize_gender",
    "normalize_mobile_ad_id",
    "normalize_name",
    "normalize_phone",
    "normalize_state",
    "normalize_zip",
    "phone_digits_only",
    "sha256_hex",
]

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ZERO_AD_ID = "00000000-0000-0000-0000-000000000000"
# Separators people write inside phone numbers; anything else (letters, "ext") is refused.
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_PHONE_TRUNK_ZERO_GROUP = re.compile(r"\(\s*0\s*\)")  # "+44 (0)20 ..." writes the trunk 0
_COUNTRY_CALLING_CODE = re.compile(r"\+?([1-9][0-9]{0,2})")
# Italy (and San Marino, the Vatican) keep the leading 0 of landlines in E.164.
_KEEPS_LEADING_ZERO = frozenset({"39", "378", "379"})
_E164_MIN_DIGITS = 8
_E164_MAX_DIGITS = 15
_US_ZIP = re.compile(r"([0-9]{5})(?:-?[0-9]{4})?")
_UK_POSTCODE = re.compile(r"([a-z]{1,2}[0-9][a-z0-9]?[0-9])[a-z]{2}")
_ZIP_CHARS = re.compile(r"[a-z0-9\-]*[a-z0-9][a-z0-9\-]*")
_DATE_OF_BIRTH = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ].*)?")
_MIN_BIRTH_YEAR = 1900

# U.S. states, the District of Columbia and the territories, by name, to their ANSI code.
_US_STATES = {
    "alabama": "al",
    "alaska": "ak",
    "arizona": "az",
    "arkansas": "ar",
    "california": "ca",
    "colorado": "co",
    "connecticut": "ct",
    "delaware": "de",
    "districtofcolumbia": "dc",
    "florida": "fl",
    "georgia": "ga",
    "hawaii": "hi",
    "idaho": "id",
    "illinois": "il",
    "indiana": "in",
    "iowa": "ia",
    "kansas": "ks",
    "kentucky": "ky",
    "louisiana": "la",
    "maine": "me",
    "maryland": "md",
    "massachusetts": "ma",
    "michigan": "mi",
    "minnesota": "mn",
    "mississippi": "ms",
    "missouri": "mo",
    "montana": "mt",
    "nebraska": "ne",
    "nevada": "nv",
    "newhampshire": "nh",
    "newjersey": "nj",
    "newmexico": "nm",
    "newyork": "ny",
    "northcarolina": "nc",
    "northdakota": "nd",
    "ohio": "oh",
    "oklahoma": "ok",
    "oregon": "or",
    "pennsylvania": "pa",
    "rhodeisland": "ri",
    "southcarolina": "sc",
    "southdakota": "sd",
    "tennessee": "tn",
    "texas": "tx",
    "utah": "ut",
    "vermont": "vt",
    "virginia": "va",
    "washington": "wa",
    "westvirginia": "wv",
    "wisconsin": "wi",
    "wyoming": "wy",
    "americansamoa": "as",
    "guam": "gu",
    "northernmarianaislands": "mp",
    "puertorico": "pr",
    "usvirginislands": "vi",
    "virginislands": "vi",
}
# Common non-ISO spellings of an ISO 3166-1 alpha-2 code.
_COUNTRY_ALIASES = {"uk": "gb"}


# --------------------------------------------------------------------------- hashing


def is_sha256_hex(value: str) -> bool:
    """True when ``value`` is already a SHA-256 digest: exactly 64 hexadecimal characters."""
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None


def sha256_hex(value: str) -> str:
    """The lowercase hex SHA-256 digest of ``value`` encoded as UTF-8.

    A value that already is a digest (:func:`is_sha256_hex`) is returned as it is (only
    lowercased, the form every vendor expects), never hashed a second time.
    """
    if is_sha256_hex(value):
        return value.lower()
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- helpers


def _text(value: object, field: str) -> str:
    """``value`` trimmed, or an error naming ``field`` when it is not a non-blank string."""
    if not isinstance(value, str):
        raise InvalidIdentifier(field, "must be a string")
    text = value.strip()
    if not text:
        raise InvalidIdentifier(field, "is empty")
    return text


def _letters(text: str, *, digits: bool = False) -> str:
    """Lowercase Unicode letters of ``text`` (and digits when asked), in NFC; nothing else."""
    lowered = unicodedata.normalize("NFC", text).lower()
    kept = "".join(
        ch
        for ch in lowered
        if unicodedata.category(ch)[0] in "LM" or (digits and ch in "0123456789")
    )
    return unicodedata.normalize("NFC", kept)


def _ascii_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit (full-width, Arabic-Indic...) made ASCII."""
    out = []
    for ch in text:
        digit = unicodedata.decimal(ch, None)
        out.append(str(digit) if digit is not None else ch)
    return "".join(out)


# --------------------------------------------------------------------------- contact


def normalize_email(value: str, *, gmail: bool = False) -> str:
    """An email address trimmed and lowercased (Meta EMAIL, Google ``hashed_email``).

    It must look like ``local@domain.tld``. With ``gmail=True`` the dots of the local part of a
    ``gmail.com`` / ``googlemail.com`` address are removed, as Campaign Manager 360's enhanced
    conversions require; Google Ads Customer Match documents that step as not required, and Meta
    does not ask for it, so it is off by default.
    """
    email = _text(value, "email").lower()
    if _EMAIL.fullmatch(email) is None:
        raise InvalidIdentifier("email", "must look like local@domain.tld, without spaces")
    if gmail:
        local, _, domain = email.partition("@")
        if domain in _GMAIL_DOMAINS:
            local = local.replace(".", "")
            if not local:
                raise InvalidIdentifier("email", "has no characters before @ besides dots")
            email = f"{local}@{domain}"
    return email


def _country_calling_code(code: str) -> str:
    match = _COUNTRY_CALLING_CODE.fullmatch(code.strip()) if isinstance(code, str) else None
    if match is None:
        raise InvalidIdentifier(
            "default_country_code", "must be a country calling code of 1 to 3 digits, like '1'"
        )
    return match.group(1)


def _national_to_international(calling_code: str, national: str) -> str:
    """Digits of a number written nationally, with ``calling_code`` and without a trunk prefix."""
    if calling_code == "1":
        # North America: area codes never start with 1, so an eleventh leading 1 is the trunk "1".
        if len(national) == 11 and national.startswith("1"):
            national = national[1:]
    elif calling_code not in _KEEPS_LEADING_ZERO:
        national = national.lstrip("0")  # the trunk "0" of most countries is not dialled abroad
    return calling_code + national


def normalize_phone(value: str, default_country_code: str | None = None) -> str:
    """A phone number in E.164: ``+``, the country calling code and the number, digits only.

    Spaces, dashes, dots and parentheses are removed, as is the "(0)" some write after the
    country code. ``00`` before the country code is read as the international prefix. A number
    written without a country code (neither ``+`` nor ``00``) takes ``default_country_code``
    (``"1"``, ``"+44"``...), its trunk prefix dropped (the leading 0, or North America's 1);
    without a default it is refused. The result has 8 to 15 digits after the ``+``
    (Google Ads: "E164 format ... up to fifteen digits ... starting with a + sign").
    """
    text = _ascii_digits(unicodedata.normalize("NFKC", _text(value, "phone")))
    international = text.startswith(("+", "00"))
    if international:
        text = _PHONE_TRUNK_ZERO_GROUP.sub("", text, count=1)
    body = text[1:] if text.startswith("+") else text
    digits = _PHONE_SEPARATORS.sub("", body)
    if not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier(
            "phone", "may contain only digits, spaces, dashes, dots, parentheses and a leading +"
        )
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif default_country_code is not None:
        number = _national_to_international(_country_calling_code(default_country_code), digits)
    else:
        raise InvalidIdentifier(
            "phone", "has no country code (+ or 00) and no default country code was given"
        )
    if number.startswith("0"):
        raise InvalidIdentifier("phone", "country calling code cannot start with 0")
    if not _E164_MIN_DIGITS <= len(number) <= _E164_MAX_DIGITS:
        raise InvalidIdentifier(
            "phone",
            f"must have {_E164_MIN_DIGITS} to {_E164_MAX_DIGITS} digits with its country code",
        )
    return "+" + number


def phone_digits_only(value: str, default_country_code: str | None = None) -> str:
    """A phone number in Meta's PHONE form: the E.164 digits without the ``+``.

    Meta: "Remove symbols, letters, and any leading zeroes"; the country code is included. The
    result is a wire format: read again, it has no ``+`` and counts as a national number, so
    normalise the original value rather than this one.
    """
    return normalize_phone(value, default_country_code)[1:]


def normalize_mobile_ad_id(value: str) -> str:
    """An IDFA or Google advertising id: lowercase, in UUID form with its hyphens (Meta MADID).

    The all-zero id that a device reports when ad tracking is limited matches nobody and is
    refused.
    """
    ad_id = _text(value, "mobile_ad_id").lower()
    if _UUID.fullmatch(ad_id) is None:
        raise InvalidIdentifier(
            "mobile_ad_id", "must be a UUID like 8-4-4-4-12 hexadecimal digits with hyphens"
        )
    if ad_id == _ZERO_AD_ID:
        raise InvalidIdentifier(
            "mobile_ad_id", "is the all-zero id of a device limiting ad tracking"
        )
    return ad_id


def normalize_external_id(value: str) -> str:
    """An advertiser's user id (Meta EXTERN_ID, Google ``third_party_user_id``): trimmed only."""
    return _text(value, "external_id")


# --------------------------------------------------------------------------- person


def normalize_name(value: str, *, field: str = "name") -> str:
    """A first or last name (Meta FN/LN): lowercase letters only, accents kept as UTF-8.

    Punctuation, white space and digits are removed ("Mary-Ann O'Neil" gives "maryannoneil"),
    letters of any script are kept, composed (NFC) so that the same name always hashes the same.
    ``field`` names the identifier in errors (``first_name``, ``last_name``).
    """
    name = _letters(_text(value, field))
    if not name:
        raise InvalidIdentifier(field, "has no letters")
    return name


def normalize_first_initial(value: str) -> str:
    """The first letter of a first name (Meta FI), normalised as :func:`normalize_name`."""
    return normalize_name(value, field="first_initial")[0]


def normalize_gender(value: str) -> str:
    """A gender as Meta's GEN wants it: ``m`` or ``f`` (``male``/``female`` are accepted)."""
    gender = _text(value, "gender").lower()
    if gender in ("m", "male"):
        return "m"
    if gender in ("f", "female"):
        return "f"
    raise InvalidIdentifier("gender", "must be m or f (male or female)")


def normalize_birth_year(value: str) -> str:
    """A year of birth as Meta's DOBY wants it: ``YYYY``, from 1900 to the current year."""
    year = _text(value, "birth_year")
    if not (len(year) == 4 and year.isascii() and year.isdigit()):
        raise InvalidIdentifier("birth_year", "must be a four-digit year (YYYY)")
    if not _MIN_BIRTH_YEAR <= int(year) <= datetime.now(UTC).year:
        raise InvalidIdentifier("birth_year", "must be between 1900 and the current year")
    return year


def _two_digits(value: str, field: str, highest: int, form: str) -> str:
    text = _text(value, field)
    if not (len(text) <= 2 and text.isascii() and text.isdigit() and 1 <= int(text) <= highest):
        raise InvalidIdentifier(field, f"must be a number from 01 to {highest} ({form})")
    return f"{int(text):02d}"


def normalize_birth_month(value: str) -> str:
    """A month of birth as Meta's DOBM wants it: ``MM``, ``01`` to ``12``."""
    return _two_digits(value, "birth_month", 12, "MM")


def normalize_birth_day(value: str) -> str:
    """A day of birth as Meta's DOBD wants it: ``DD``, ``01`` to ``31``."""
    return _two_digits(value, "birth_day", 31, "DD")


def normalize_date_of_birth(value: str) -> tuple[str, str, str]:
    """An ISO date of birth (``YYYY-MM-DD``, a time part ignored) split into Meta's
    ``(DOBY, DOBM, DOBD)``: ``("1984", "07", "02")``. The date must exist."""
    text = _text(value, "date_of_birth")
    match = _DATE_OF_BIRTH.fullmatch(text)
    if match is None:
        raise InvalidIdentifier("date_of_birth", "must be an ISO date, YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    try:
        date(year, month, day)
    except ValueError:
        raise InvalidIdentifier("date_of_birth", "is not a calendar date") from None
    if not _MIN_BIRTH_YEAR <= year <= datetime.now(UTC).year:
        raise InvalidIdentifier("date_of_birth", "year must be between 1900 and the current year")
    return f"{year:04d}", f"{month:02d}", f"{day:02d}"


# --------------------------------------------------------------------------- location


def normalize_city(value: str) -> str:
    """A city (Meta CT): lowercase letters only, no punctuation, no white space ("newyork")."""
    city = _letters(_text(value, "city"))
    if not city:
        raise InvalidIdentifier("city", "has no letters")
    return city


def normalize_state(value: str) -> str:
    """A state or region (Meta ST): a U.S. state as its 2-letter ANSI code, lowercase.

    U.S. state names ("New York", "california") and ISO 3166-2 codes ("US-TX") become the code
    ("ny", "ca", "tx"); any other region is lowercased with punctuation and white space removed.
    """
    text = _text(value, "state")
    lowered = text.lower()
    if lowered.startswith("us-") and len(lowered) == 5:
        text = lowered[3:]
    state = _letters(text, digits=True)
    if not state:
        raise InvalidIdentifier("state", "has no letters or digits")
    return _US_STATES.get(state, state)


def normalize_country(value: str) -> str:
    """A country as its ISO 3166-1 alpha-2 code, lowercase (Meta COUNTRY, Google country_code).

    "US", " us ", "U.S." give "us"; "UK" gives "gb". Names are not translated.
    """
    text = unicodedata.normalize("NFKC", _text(value, "country")).lower()
    code = re.sub(r"[\s.]", "", text)
    code = _COUNTRY_ALIASES.get(code, code)
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise InvalidIdentifier("country", "must be an ISO 3166-1 alpha-2 code, like 'us'")
    return code


def normalize_zip(value: str, *, country: str | None = None) -> str:
    """A postal code (Meta ZIP, Google postal_code): lowercase, without white space.

    A U.S. ZIP+4 ("94303-5300") keeps its first 5 digits, as Meta asks; with ``country="gb"`` a
    full UK postcode is cut to its area/district/sector ("SW1A 1AA" gives "sw1a1").
    """
    text = unicodedata.normalize("NFKC", _text(value, "zip")).lower()
    code = re.sub(r"\s", "", text)
    if _ZIP_CHARS.fullmatch(code) is None:
        raise InvalidIdentifier("zip", "may contain only letters, digits, spaces and dashes")
    country_code = normalize_country(country) if country is not None else None
    us_zip = _US_ZIP.fullmatch(code)
    if country_code == "us":
        if us_zip is None:
            raise InvalidIdentifier("zip", "a U.S. ZIP code must be 5 digits (or ZIP+4)")
        return us_zip.group(1)
    if country_code is None and us_zip is not None and len(code) == 10:
        return us_zip.group(1)  # "12345-6789" is a ZIP+4 wherever it comes from
    if country_code == "gb":
        uk = _UK_POSTCODE.fullmatch(code)
        if uk is not None:
            return uk.group(1)
    return code


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
    value: str, *, default_country_code: str | None = None, digits_only: bool = False
) -> str:
    if digits_only:
        return phone_digits_only(value, default_country_code)
    return normalize_phone(value, default_country_code)


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
    try:
        return IdentifierKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in IdentifierKind)
        raise InvalidIdentifier("kind", f"unknown identifier kind; known: {known}") from None


def normalize(kind: IdentifierKind | str, value: str, **options: Any) -> str:
    """``value`` normalised by the rule of ``kind``.

    Options go to that kind's normaliser: ``gmail`` (email), ``default_country_code`` and
    ``digits_only`` (phone: E.164 by default, Meta's digits-only form with ``digits_only=True``),
    ``country`` (zip).
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
    spec_kind = _kind(kind)
    do_hash = spec_kind.hashed_by_default if hashed is None else hashed
    if do_hash and isinstance(value, str) and is_sha256_hex(value.strip()):
        return value.strip().lower()
    normalised = normalize(spec_kind, value, **options)
    return sha256_hex(normalised) if do_hash else normalised
