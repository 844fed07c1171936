"""A user's identifiers in a Segment message (email, phone, names, address, device ad id), read
once per event: each place identifiers sit (the event's traits, its properties,
``context.traits``) is read key by key, never walked path by path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python

from sdk.spec._messages import Alias, Group, Identify, Page, Screen, Track

__all__ = ["identifiers_of", "user_identifiers"]


def _trait_paths(*names: str) -> tuple[tuple[str, ...], ...]:
    """Where a trait may sit, in order: the event's traits (identify), its properties (track,
    where Trait Enrichment puts profile traits), then ``context.traits``."""
    roots = (("traits",), ("properties",), ("context", "traits"))
    return tuple((*root, *name.split(".")) for root in roots for name in names)


# Where Segment messages carry identifiers, in the order connectors should look.
_IDENTIFIER_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "email": _trait_paths("email"),
    "phone": _trait_paths("phone"),
    "first_name": _trait_paths("first_name", "firstName"),
    "last_name": _trait_paths("last_name", "lastName"),
    "mobile_ad_id": (("context", "device", "advertisingId"),),
    "city": _trait_paths("address.city"),
    "state": _trait_paths("address.state"),
    "country": _trait_paths("address.country"),
    "zip": _trait_paths("address.postal_code", "address.postalCode"),
    "gender": _trait_paths("gender"),
    "birthday": _trait_paths("birthday"),
}


# The same table, read the other way: for each key a root (traits, properties, context.traits)
# may hold, the identifier it gives and its rank among that identifier's names (first_name
# before firstName); the address parts sit one level down, under ``address``.
def _names_of(prefix: str) -> dict[str, tuple[str, int]]:
    names: dict[str, tuple[str, int]] = {}
    for kind, paths in _IDENTIFIER_PATHS.items():
        ranked = [path[1:] for path in paths if path[0] == "traits"]
        for rank, rest in enumerate(ranked):
            if prefix and len(rest) == 2 and rest[0] == prefix:
                names[rest[1]] = (kind, rank)
            elif not prefix and len(rest) == 1:
                names[rest[0]] = (kind, rank)
    return names


_TOP_NAMES = _names_of("")
_ADDRESS_NAMES = _names_of("address")


_PLAIN = (str, int, float, type(None), dict, list)


def _usable(value: Any) -> bool:
    return (
        isinstance(value, (str, int)) and not isinstance(value, bool) and bool(str(value).strip())
    )


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def _read_root(
    root: Mapping[str, Any], found: dict[str, str], into: dict[str, tuple[int, str]]
) -> None:
    """One pass over a root's keys: each identifier not found in an earlier root, by its
    best-ranked name in this one."""
    for name, value in root.items():
        spec = _TOP_NAMES.get(name)
        if spec is None:
            if name == "address" and _is_mapping(value):
                for part, inner in value.items():
                    spec = _ADDRESS_NAMES.get(part)
                    if spec is not None:
                        _offer(spec, inner, found, into)
            continue
        if type(value) is str:  # the common case, inline: text is usable when not blank
            kind, rank = spec
            if kind in found:
                continue
            held = into.get(kind)
            if (held is None or rank < held[0]) and value.strip():
                into[kind] = (rank, value)
            continue
        _offer(spec, value, found, into)


def _offer(
    spec: tuple[str, int], value: Any, found: dict[str, str], into: dict[str, tuple[int, str]]
) -> None:
    kind, rank = spec
    if kind in found:
        return
    if not isinstance(value, _PLAIN):  # built in Python: read as the wire form writes it
        value = to_jsonable_python(value)
    held = into.get(kind)
    if (held is None or rank < held[0]) and _usable(value):
        into[kind] = (rank, str(value))


def user_identifiers(message: Track | Identify | Page | Screen | Group | Alias) -> dict[str, str]:
    """The identifiers a message carries: ``user_id``, ``anonymous_id``, ``email``, ``phone``,
    ``mobile_ad_id`` (``context.device.advertisingId``), ``first_name``, ``last_name``, the
    address parts ``city``, ``state``, ``country``, ``zip``, and ``gender``, ``birthday``.
    First found wins: event traits, then properties, then ``context.traits``. Values are
    returned as given (as text); list connectors normalise and hash them.

    Each root is read once, key by key (no walk over every candidate path, no copy of the
    message)."""
    context = message.context
    extra = message.model_extra or {}
    roots = (
        message.traits if isinstance(message, Identify | Group) else extra.get("traits"),
        message.properties
        if isinstance(message, Track | Page | Screen)
        else extra.get("properties"),
        context.get("traits") if _is_mapping(context) else None,
    )
    return identifiers_of(message.user_id, message.anonymous_id, roots, context)


def identifiers_of(
    user_id: str | None,
    anonymous_id: str | None,
    roots: tuple[Any, ...],
    context: Any,
) -> dict[str, str]:
    """:func:`user_identifiers` of a message given by its parts: its ids, the roots traits are
    read from, in order (event traits, properties, ``context.traits``; ``None`` for an absent
    one), and its ``context`` (for ``device.advertisingId``). A bulk list sync reads each user
    through this, with the roots its users share given once."""
    found: dict[str, str] = {}
    if user_id:
        found["user_id"] = user_id
    if anonymous_id:
        found["anonymous_id"] = anonymous_id
    ids = len(found)
    for root in roots:
        if root and (type(root) is dict or isinstance(root, Mapping)):
            best: dict[str, tuple[int, str]] = {}
            _read_root(root, found, best)
            for kind, (_, text) in best.items():
                found[kind] = text
    device = context.get("device") if _is_mapping(context) else None
    if device is not None and _is_mapping(device):
        value = device.get("advertisingId")
        if not isinstance(value, _PLAIN):
            value = to_jsonable_python(value)
        if _usable(value):
            found["mobile_ad_id"] = str(value)
    if len(found) - ids <= 1:  # the ids and at most one more: already in order
        return found
    return {kind: found[kind] for kind in _ORDER if kind in found}


#: The order of :func:`user_identifiers`'s answer (as the path table lists the identifiers).
_ORDER = ("user_id", "anonymous_id", *_IDENTIFIER_PATHS)
