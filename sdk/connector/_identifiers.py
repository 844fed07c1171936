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

Invisible characters (a byte-order mark, zero-width space or joiner, a left-to-right or
right-to-left mark, NUL and other format or control characters) are stripped at the ends of a value
as white space is; inside an email, phone, advertising id or external id they make the identifier
refused, never hashed into a digest that can match nobody. Names, cities and states keep letters
only, so such characters never reach their hash.

Every normaliser raises :class:`~sdk._errors.InvalidIdentifier` naming the field and the rule, and
never the value itself: identifiers are personal data. This module holds the contact identifiers
(email, phone, advertising id, external id) and hashing; ``_identifier_fields`` the person and
location fields; ``_identifier_kinds`` the declarative table.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from sdk._errors import InvalidIdentifier
from sdk.connector._calling_codes import calling_code_for_country

__all__ = [
    "clean_text",
    "is_sha256_hex",
    "normalize_email",
    "normalize_external_id",
    "normalize_mobile_ad_id",
    "normalize_phone",
    "phone_digits_only",
    "sha256_hex",
]

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ZERO_AD_ID = "00000000-0000-0000-0000-000000000000"
# Symbols people write inside phone numbers (Meta: "remove symbols"): white space, hyphens and
# dashes of any width, dots, slashes, parentheses and brackets. Letters ("ext", a vanity number)
# and a "+" past the start are refused rather than guessed at.
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.\u00b7/()\[\]]")
_PHONE_TRUNK_ZERO_GROUP = re.compile(r"\(\s*0\s*\)")  # "+44 (0)20 ..." writes the trunk 0
_COUNTRY_CALLING_CODE = re.compile(r"\+?([1-9][0-9]{0,2})")
# Italy (and San Marino, the Vatican) keep the leading 0 of landlines in E.164.
_KEEPS_LEADING_ZERO = frozenset({"39", "378", "379"})
_E164_MIN_DIGITS = 8
_E164_MAX_DIGITS = 15
# Unicode categories of invisible characters: format (BOM, ZWSP, ZWJ, LRM/RLM) and control (NUL).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc"})


# --------------------------------------------------------------------------- hashing


def is_sha256_hex(value: str) -> bool:
    """True when ``value`` is already a SHA-256 digest: exactly 64 hexadecimal characters."""
    return isinstance(value, str) and len(value) == 64 and _SHA256_HEX.fullmatch(value) is not None


def sha256_hex(value: str) -> str:
    """The lowercase hex SHA-256 digest of ``value`` encoded as UTF-8.

    A value that already is a digest (:func:`is_sha256_hex`) is returned as it is (only
    lowercased, the form every vendor expects), never hashed a second time.
    """
    if is_sha256_hex(value):
        return value.lower()
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- text


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES and not ch.isspace()


def clean_text(value: object, field: str, *, inner_invisible: bool = False) -> str:
    """``value`` with white space and invisible characters stripped from both ends.

    Raises :class:`~sdk._errors.InvalidIdentifier` naming ``field`` when it is not a string, is
    empty once stripped, or (unless ``inner_invisible``) still holds an invisible character
    (format or control: BOM, zero-width space, ZWJ, RTL mark, NUL, CR, tab...) inside.
    """
    if not isinstance(value, str):
        raise InvalidIdentifier(field, "must be a string")
    if value.isascii() and value.isprintable():  # the common case: nothing invisible at all
        text = value.strip()
    else:
        start, end = 0, len(value)
        while start < end and (value[start].isspace() or _invisible(value[start])):
            start += 1
        while end > start and (value[end - 1].isspace() or _invisible(value[end - 1])):
            end -= 1
        text = value[start:end]
        if not inner_invisible:
            # Inside, a control character is refused even when it is white space (a CR, a
            # tab): an identifier never holds one, and it would be hashed unseen.
            hidden = next(
                (ch for ch in text if unicodedata.category(ch) in _INVISIBLE_CATEGORIES), None
            )
            if hidden is not None:
                raise InvalidIdentifier(
                    field, f"contains an invisible character (U+{ord(hidden):04X}) inside"
                )
    if not text:
        raise InvalidIdentifier(field, "is empty")
    return text


def _ascii_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit (full-width, Arabic-Indic...) made ASCII."""
    if text.isascii():
        return text
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
    conversions require; Google Ads Customer Match documents that step as not required ("they'll
    still be accepted"), and Meta does not ask for it, so it is off by default.
    """
    email = clean_text(value, "email").lower()
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


def normalize_phone(
    value: str, default_country_code: str | None = None, *, country: str | None = None
) -> str:
    """A phone number in E.164: ``+``, the country calling code and the number, digits only.

    Spaces, dashes, dots and parentheses are removed, as is the "(0)" some write after the
    country code. ``00`` before the country code is read as the international prefix. A number
    written without a country code (neither ``+`` nor ``00``) takes the calling code of the
    user's own ``country`` (ISO 3166-1 alpha-2, like ``"gb"``) when it is known, else
    ``default_country_code`` (``"1"``, ``"+44"``...), its trunk prefix dropped (the leading 0,
    or North America's 1); with neither it is refused. The result has 8 to 15 digits after the
    ``+`` (Google Ads: "E164 format ... up to fifteen digits ... starting with a + sign").
    """
    text = clean_text(value, "phone")
    if not text.isascii():  # full-width digits and signs, Arabic-Indic digits...
        text = _ascii_digits(unicodedata.normalize("NFKC", text))
    international = text.startswith(("+", "00"))
    if international and "(" in text:
        text = _PHONE_TRUNK_ZERO_GROUP.sub("", text, count=1)
    body = text[1:] if text.startswith("+") else text
    digits = _PHONE_SEPARATORS.sub("", body)
    if not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier(
            "phone",
            "may contain only digits, spaces, dashes, dots, slashes, parentheses and a leading +",
        )
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        calling_code = calling_code_for_country(country) if country is not None else None
        if calling_code is None and default_country_code is not None:
            calling_code = _country_calling_code(default_country_code)
        if calling_code is None:
            raise InvalidIdentifier(
                "phone",
                "has no country code (+ or 00), the user's country is unknown and no default "
                "country code was given",
            )
        number = _national_to_international(calling_code, digits)
    if number.startswith("0"):
        raise InvalidIdentifier("phone", "country calling code cannot start with 0")
    if not _E164_MIN_DIGITS <= len(number) <= _E164_MAX_DIGITS:
        raise InvalidIdentifier(
            "phone",
            f"must have {_E164_MIN_DIGITS} to {_E164_MAX_DIGITS} digits with its country code",
        )
    return "+" + number


def phone_digits_only(
    value: str, default_country_code: str | None = None, *, country: str | None = None
) -> str:
    """A phone number in Meta's PHONE form: the E.164 digits without the ``+``.

    Meta: "Remove symbols, letters, and any leading zeroes"; the country code is included (the
    user's ``country`` first, else ``default_country_code``, for a number written nationally).
    The result is a wire format: read again, it has no ``+`` and counts as a national number, so
    normalise the original value rather than this one.
    """
    return normalize_phone(value, default_country_code, country=country)[1:]


def normalize_mobile_ad_id(value: str) -> str:
    """An IDFA or Google advertising id: lowercase, in UUID form with its hyphens (Meta MADID).

    The all-zero id that a device reports when ad tracking is limited matches nobody and is
    refused.
    """
    ad_id = clean_text(value, "mobile_ad_id").lower()
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
    return clean_text(value, "external_id")
