"""Segment traits as Braze user attributes: Segment's spec names become Braze's standard
attributes, and the two standard attributes that take only some values (``gender``,
``country``) are converted or left out with the reason. See the package docstring."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sdk import InvalidEvent, InvalidIdentifier
from sdk.connector import normalize_country

__all__ = ["MAX_NAME_LENGTH", "attributes_of", "check_names", "iso"]

#: Braze: property and attribute names are 1-255 characters with no leading ``$``.
MAX_NAME_LENGTH = 255
_RENAMED_TRAITS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "birthday": "dob",
    "avatar": "image_url",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Segment's free-form gender -> Braze's letters ("M", "F", "O", "N", "P"; null is unknown).
_GENDERS = {
    "m": "M",
    "male": "M",
    "man": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "o": "O",
    "other": "O",
    "non binary": "O",
    "nonbinary": "O",
    "n": "N",
    "not applicable": "N",
    "p": "P",
    "prefer not to say": "P",
}
_BRAZE_GENDERS = "M, F, O, N, P"
#: Braze's ``language`` is an ISO-639-1 code; a locale (``en-US``) gives its language part.
_LANGUAGE = re.compile(r"^([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*$")


def iso(moment: datetime) -> str:
    """A moment as Braze's ISO 8601 with milliseconds, in UTC (``...Z``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def check_names(values: Mapping[str, Any], where: str, what: str) -> None:
    """Refuse a name Braze refuses (empty, too long, or starting with ``$``) in one line."""
    for name in values:
        if not name or len(name) > MAX_NAME_LENGTH or name.startswith("$"):
            shown = name[:40] + ("..." if len(name) > 40 else "")
            raise InvalidEvent(
                f"{where}.{shown}",
                f"Braze {what} names must be 1-{MAX_NAME_LENGTH} characters and not start with $",
            )


def _gender(value: Any) -> str | None:
    """Braze's gender letter for a Segment gender, or ``None`` when there is none."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    return _GENDERS.get(text)


def _country(value: Any) -> str | None:
    """An ISO-3166-1 alpha-2 code, upper-cased as Braze's examples write it (``GB``)."""
    if not isinstance(value, str):
        return None
    try:
        return normalize_country(value).upper()
    except InvalidIdentifier:
        return None


def language_of(locale: Any) -> str | None:
    """The ISO-639-1 language of a locale (``en-US`` -> ``en``), or ``None``."""
    if not isinstance(locale, str):
        return None
    match = _LANGUAGE.match(locale.strip())
    return match.group(1).lower() if match else None


def attributes_of(traits: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Traits as Braze attributes (Segment's spec names become Braze's standard attributes),
    and the traits left out because Braze's standard field would not take them."""
    attributes: dict[str, Any] = {}
    dropped: dict[str, str] = {}

    def put(source: str, target: str, value: Any) -> None:
        if value is not None and target == "gender":
            letter = _gender(value)
            if letter is None:
                dropped[source] = f"not a gender Braze takes ({_BRAZE_GENDERS}): left out"
                return
            value = letter
        elif value is not None and target == "country":
            code = _country(value)
            if code is None:
                dropped[source] = "not an ISO-3166-1 alpha-2 country code: left out"
                return
            value = code
        elif value is not None and target == "language":
            code = language_of(value)
            if code is None:
                dropped[source] = "not an ISO-639-1 language code: left out"
                return
            value = code
        attributes[target] = value

    for name, value in traits.items():
        if name == "address" and isinstance(value, Mapping):
            if value.get("city") is not None:
                attributes["home_city"] = value["city"]
            if value.get("country") is not None:
                put("address.country", "country", value["country"])
            continue
        target = _RENAMED_TRAITS.get(name, name)
        if target == "dob" and isinstance(value, str) and _DATE.match(value):
            value = value[:10]  # Braze's dob is YYYY-MM-DD
        put(name, target, value)
    return attributes, dropped
