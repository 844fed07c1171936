"""Step keys and audience keys.

A journey's "Send to destinations" step is referenced by a key generated from its name:
``j_o_<journey>__<step>_<suffix>``, e.g. ``j_o_first_purchase__opened_email_dje83h``. Destinations
see it as the property name (track) or the trait name (identify), so a key must be:

- **stable**: the suffix is derived from the step's stable id (a hash), never drawn at random;
- **unique within a space**: a :class:`KeyRegistry` detects two steps that would share a key and
  gives the later one the next derived suffix;
- **safe everywhere**: ASCII ``[a-z0-9_]``, starts with a letter, no ``__`` inside the journey or
  step part (so the separator is unambiguous), at most :data:`MAX_KEY_LENGTH` characters.

An audience's key is its name in snake case, with no prefix.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "JOURNEY_KEY_PREFIX",
    "MAX_KEY_LENGTH",
    "KeyRegistry",
    "audience_key",
    "is_journey_key",
    "snake_case",
    "step_key",
    "step_key_suffix",
]

JOURNEY_KEY_PREFIX = "j_o_"
#: The longest key destkit generates. 64 fits every connector's attribute/property name limit
#: (Braze and Mixpanel allow 255, Amplitude 1024, Segment none) with room for a namespace prefix.
MAX_KEY_LENGTH = 64
SUFFIX_LENGTH = 6
#: Each of the journey and step parts is cut to this length: 4 + 25 + 2 + 25 + 1 + 6 = 63.
PART_LENGTH = 25
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: Latin letters that Unicode does not decompose into a base letter and an accent: folded by hand
#: (NFKD leaves them whole and the ASCII step would drop them: "Łódź" must not become "odz").
_FOLD_LETTERS = {
    "ß": "ss",
    "ẞ": "SS",
    "æ": "ae",
    "Æ": "AE",
    "ø": "o",
    "Ø": "O",
    "œ": "oe",
    "Œ": "OE",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "TH",
    "ı": "i",
}
_FOLD = str.maketrans(_FOLD_LETTERS)


def snake_case(name: str, *, max_length: int | None = None) -> str:
    """ASCII snake case: accents folded, anything else non-alphanumeric becomes ``_``.

    ``"Opened Émail!"`` -> ``"opened_email"``; ``"firstPurchase"`` -> ``"first_purchase"``;
    emoji and symbols vanish, so the result can be empty. Runs of ``_`` collapse to one.
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_FOLD)
    text = _CAMEL_BOUNDARY.sub("_", text)
    text = "".join(ch for ch in text if ch.isascii()).lower()
    text = _NON_ALNUM.sub("_", text).strip("_")
    if max_length is not None:
        text = text[:max_length].rstrip("_")
    return text


def _base36(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest)  # big-endian, the default
    chars = []
    for _ in range(length):
        number, remainder = divmod(number, 36)
        chars.append(_ALPHABET[remainder])
    return "".join(chars)


def step_key_suffix(step_id: str, *, attempt: int = 0) -> str:
    """The 6-character lowercase alphanumeric suffix derived from a step's stable id.

    ``attempt`` > 0 gives the next candidate when the first one collides within a space.
    """
    seed = step_id if attempt == 0 else f"{step_id}#{attempt}"
    return _base36(hashlib.sha256(seed.encode()).digest(), SUFFIX_LENGTH)


def _key_part(name: str, fallback: str) -> str:
    part = snake_case(name, max_length=PART_LENGTH)
    return part or fallback


def step_key(journey_name: str, step_name: str, step_id: str, *, attempt: int = 0) -> str:
    """``j_o_<journey>__<step>_<suffix>`` for one step; deterministic for the same inputs.

    A journey or step name that is empty after cleaning (only emoji or symbols) becomes
    ``journey`` or ``step``; the suffix still tells such steps apart.
    """
    journey = _key_part(journey_name, "journey")
    step = _key_part(step_name, "step")
    return f"{JOURNEY_KEY_PREFIX}{journey}__{step}_{step_key_suffix(step_id, attempt=attempt)}"


def default_step_id(space_id: str, journey_name: str, step_name: str) -> str:
    """A stable id for a step known only by name (the CLI's ``destkit key``)."""
    return f"{space_id}/{journey_name}/{step_name}"


def audience_key(name: str) -> str:
    """An audience's key: its name in snake case, no prefix (``"VIP Users"`` -> ``vip_users``).

    A name that is empty after cleaning becomes ``audience``; one that starts with a digit gets
    an ``a_`` prefix so it is a valid identifier everywhere, and so does one that would start
    with the journey prefix ``j_o_`` ("J O Fans"), which would make it look like an add-only
    journey step.
    """
    key = snake_case(name, max_length=MAX_KEY_LENGTH - 2) or "audience"
    if key[0].isdigit() or key.startswith(JOURNEY_KEY_PREFIX):
        key = f"a_{key}"
    return key


def is_journey_key(key: str) -> bool:
    """True for a journey step key (journey lists are add-only)."""
    return key.startswith(JOURNEY_KEY_PREFIX)


@dataclass
class KeyRegistry:
    """The keys of one space: the same step always gets the same key, and no two steps share one.

    On a collision (two different step ids whose names and suffixes meet) the later step gets the
    next derived suffix, so the result depends only on the steps and the order they were first
    registered in, never on chance.
    """

    space_id: str
    _by_key: dict[str, str] = field(default_factory=dict)
    _by_step: dict[str, str] = field(default_factory=dict)

    def key_for(self, journey_name: str, step_name: str, step_id: str) -> str:
        """The key of this step in this space, registering it on first use."""
        known = self._by_step.get(step_id)
        if known is not None:
            return known
        attempt = 0
        while True:
            key = step_key(journey_name, step_name, step_id, attempt=attempt)
            owner = self._by_key.get(key)
            if owner is None:
                self._by_key[key] = step_id
                self._by_step[step_id] = key
                return key
            attempt += 1

    def claim(self, key: str, owner: str) -> str:
        """Register a key chosen elsewhere (an audience key); a clash is refused, never shared."""
        existing = self._by_key.get(key)
        if existing is not None and existing != owner:
            raise ValueError(f"key {key!r} is already used in space {self.space_id} by {existing}")
        self._by_key[key] = owner
        return key

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)
