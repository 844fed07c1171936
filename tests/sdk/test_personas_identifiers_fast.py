"""``user_identifiers`` reads each root once: the same answer as walking every candidate path
of the wire document (the reference below, the former implementation), for any event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sdk import parse_message
from sdk.engage import user_identifiers
from sdk.engage._identifiers import _IDENTIFIER_PATHS


def _reference(message: Any) -> dict[str, str]:
    def dig(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
        value: Any = document
        for part in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    wire = message.to_wire()
    found: dict[str, str] = {}
    if message.user_id:
        found["user_id"] = message.user_id
    if message.anonymous_id:
        found["anonymous_id"] = message.anonymous_id
    for kind, paths in _IDENTIFIER_PATHS.items():
        for path in paths:
            value = dig(wire, path)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                found[kind] = str(value)
                break
    return found


_NAMES = st.sampled_from(
    [
        "email",
        "phone",
        "first_name",
        "firstName",
        "last_name",
        "lastName",
        "gender",
        "birthday",
        "address",
        "other",
        "traits",
        "advertisingId",
    ]
)
_ADDRESS = st.dictionaries(
    st.sampled_from(["city", "state", "country", "postal_code", "postalCode", "street"]),
    st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none()),
    max_size=4,
)
_VALUES = st.one_of(
    st.text(max_size=4),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    _ADDRESS,
    st.lists(st.integers(), max_size=2),
)
_ROOT = st.dictionaries(_NAMES, _VALUES, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]),
    traits=_ROOT,
    properties=_ROOT,
    context_traits=_ROOT,
    device=st.one_of(st.none(), _ROOT),
)
def test_same_identifiers_as_walking_every_path(
    kind: str,
    traits: dict[str, Any],
    properties: dict[str, Any],
    context_traits: dict[str, Any],
    device: dict[str, Any] | None,
) -> None:
    event: dict[str, Any] = {"type": kind, "userId": "u1", "traits": traits}
    event["properties"] = properties
    event["context"] = {"traits": context_traits, "device": device}
    if kind == "track":
        event["event"] = "E"
    if kind == "alias":
        event["previousId"] = "p1"
    if kind == "group":
        event["groupId"] = "g1"
    message = parse_message(event)
    assert user_identifiers(message) == _reference(message)
    assert list(user_identifiers(message)) == list(_reference(message))
