"""Person and location identifiers for list destinations: names, gender, date of birth, city,
state, country and postal code, normalised as Meta's Custom Audiences and Google's Customer Match
ask (see ``_identifiers`` for the sources). Each raises
:class:`~sdk._errors.InvalidIdentifier` naming the field and the rule, never the value."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

from sdk._errors import InvalidIdentifier
from sdk.connector._identifiers import clean_text

__all__ = [
    "normalize_birth_day",
    "normalize_birth_month",
    "normalize_birth_year",
    "normalize_city",
    "normalize_country",
    "normalize_date_of_birth",
    "normalize_first_initial",
    "normalize_gender",
    "normalize_name",
    "normalize_state",
    "normalize_zip",
]

_US_ZIP = re.compile(r"([0-9]{5})(?:-?[0-9]{4})?")
_UK_POSTCODE = re.compile(r"([a-z]{1,2}[0-9][a-z0-9]?[0-9])[a-z]{2}")
_ZIP_CHARS = re.compile(r"[a-z0-9\-]*[a-z0-9][a-z0-9\-]*")
_DATE_OF_BIRTH = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ].*)?")
_MIN_BIRTH_YEAR = 1900
_NOT_ASCII_LETTER = re.compile(r"[^a-z]+")
_NOT_ASCII_LETTER_OR_DIGIT = re.compile(r"[^a-z0-9]+")

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


def _text(value: object, field: str) -> str:
    return clean_text(value, field)


def _letters(text: str, *, digits: bool = False) -> str:
    """Lowercase Unicode letters of ``text`` (and digits when asked), in NFC; nothing else (so no
    punctuation, white space, nor invisible format character reaches a hash)."""
    if text.isascii():  # the common case: no composition, no category lookups
        return (_NOT_ASCII_LETTER_OR_DIGIT if digits else _NOT_ASCII_LETTER).sub("", text.lower())
    lowered = unicodedata.normalize("NFC", text).lower()
    kept = "".join(
        ch
        for ch in lowered
        if unicodedata.category(ch)[0] in "LM" or (digits and ch in "0123456789")
    )
    return unicodedata.normalize("NFC", kept)


# --------------------------------------------------------------------------- person


def normalize_name(value: str, *, field: str = "name") -> str:
    """A first or last name (Meta FN/LN): lowercase letters only, accents kept as UTF-8.

    Punctuation, white space and digits are removed ("Mary-Ann O'Neil" gives "maryannoneil"),
    letters of any script are kept, composed (NFC) so that the same name always hashes the same.
    ``field`` names the identifier in errors (``first_name``, ``last_name``).
    """
    name = _letters(clean_text(value, field, inner_invisible=True))
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
    city = _letters(clean_text(value, "city", inner_invisible=True))
    if not city:
        raise InvalidIdentifier("city", "has no letters")
    return city


def normalize_state(value: str) -> str:
    """A state or region (Meta ST): a U.S. state as its 2-letter ANSI code, lowercase.

    U.S. state names ("New York", "california") and ISO 3166-2 codes ("US-TX") become the code
    ("ny", "ca", "tx"); any other region is lowercased with punctuation and white space removed.
    """
    text = clean_text(value, "state", inner_invisible=True)
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
