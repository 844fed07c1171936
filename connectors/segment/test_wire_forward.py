"""Segment's ``WireForward`` promise: for every plain message (empty integrations object, no
``context.personas``, no upstream ``writeKey``), ``map_wire`` returns exactly the bytes the
engine's fused path writes itself; and a stream sends the same bytes either way."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sdk
from connectors.segment import destination

KEY = "seg-write-key-5f1e2d"

_keys = st.one_of(st.sampled_from(["integrations", "writeKey", "a", "NaN"]), st.text(max_size=4))
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), _keys
)
_json = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=8,
)
_KNOWN = frozenset(sdk.Track.model_fields) | {
    field.alias for field in sdk.Track.model_fields.values() if field.alias
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]),
    context=st.dictionaries(_keys, _json, max_size=3),
    body=st.dictionaries(_keys, _json, max_size=3),
    extra=st.dictionaries(_keys.filter(lambda key: key not in _KNOWN), _json, max_size=2),
    empty=st.sampled_from([None, {}]),
    strip=st.booleans(),
)
def test_map_wire_returns_the_fused_paths_bytes_for_a_plain_message(
    kind: str,
    context: dict[str, Any],
    body: dict[str, Any],
    extra: dict[str, Any],
    empty: dict[str, Any] | None,
    strip: bool,
) -> None:
    message: dict[str, Any] = {**extra, "type": kind, "userId": "u", "messageId": "m"}
    message.update(event="E", groupId="g", previousId="p", context=context, traits=body)
    if empty is not None:
        message["integrations"] = empty
    parsed = sdk.parse_message(message)
    action = destination.actions[0]
    forward = action.wire_forward
    assert forward is not None
    settings_ = destination.settings.model_validate({"write_key": KEY, "strip_integrations": strip})
    wire = sdk.message_to_json(parsed)
    if forward.is_plain(parsed):
        assert action.map_wire(parsed, wire, settings_) == forward.written(parsed)
    else:  # a writeKey or personas: map_wire's own business
        assert "writeKey" in extra or context.get("personas")
