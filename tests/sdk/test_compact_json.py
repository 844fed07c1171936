"""``compact_json``: orjson's speed, the standard library's bytes (what httpx sends for ``json=``
and what a batch's byte limit counts)."""

from __future__ import annotations

import datetime
import json
import random
import struct
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk.transport import compact_json


def _json(value: Any, allow_nan: bool = False) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=allow_nan
    ).encode()


def _random_floats(count: int) -> list[float]:
    rng = random.Random(14)
    floats = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(count)]
    return [f for f in floats if f == f and abs(f) != float("inf")]


@pytest.mark.parametrize(
    "value",
    [
        {"a": 'é\x00\x1f\u2028😀"\\', "n": [1e-7, 2**70, -0.0, 1e16, 0.1, True, None]},
        {"text": "a string with e-0 in it", "x": 1.5},
        [6.103515625e-05, -2.5e-05, 1e-05, 9.99e-05, 0.0001234],  # 1e-5 <= |x| < 1e-4
        {"text": "0.00001 in a string", "x": 0.5},
        {1: "an integer key"},
        [("a", 1)],
        _random_floats(5000),
        {"nested": {"list": [{"k": "v"}, [], {}], "empty": ""}},
    ],
)
def test_bytes_are_json_s_exactly(value: Any) -> None:
    assert compact_json(value) == _json(value)
    assert compact_json(value, allow_nan=True) == _json(value, allow_nan=True)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_any_json_value_is_written_as_json_writes_it(value: Any) -> None:
    try:
        expected = _json(value)
    except UnicodeEncodeError:  # a lone surrogate in a string: json's bytes cannot be UTF-8
        with pytest.raises(UnicodeEncodeError):
            compact_json(value)
        return
    assert compact_json(value) == expected


def test_nan_and_infinity_are_refused_as_httpx_refuses_them_unless_allowed() -> None:
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="JSON compliant"):
            compact_json({"x": bad})  # orjson alone would write null
        assert compact_json({"x": bad}, allow_nan=True) == _json({"x": bad}, allow_nan=True)


def test_what_json_cannot_write_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(TypeError):
        compact_json({"at": datetime.datetime(2026, 12, 7)})
    with pytest.raises(UnicodeEncodeError):
        compact_json({"s": "\ud800"})
    # The one kept difference: a UUID is written as its text (json refuses it).
    value = uuid.UUID(int=7)
    assert compact_json([value]) == f'["{value}"]'.encode()
