"""Fuzz every reader of outside documents, and ``parse_message``/``parse_batch``, with arbitrary
JSON and YAML: anchors and aliases, huge numbers, NaN and Infinity, lone surrogates, control
characters, deep nesting, and plain garbage. The only outcomes allowed are a valid result or one
``InputError`` line, within a bounded amount of memory (tracemalloc's peak)."""

from __future__ import annotations

import json
import math
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdk import InputError, load_journey_file, load_user_profile, parse_batch, read_settings_file
from sdk import parse_message as parse_message_
from sdk._documents import check_value
from sdk.cli._send import payload_message

#: The most memory one read may take (the file itself is at most 1 MiB).
PEAK_LIMIT = 64 * 1024 * 1024

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- values and documents ----------------------------------------------------------------------

_characters = st.characters(codec=None, exclude_categories=())  # surrogates and controls too
_text = st.text(_characters, max_size=20)
_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**30, max_value=10**120),
    st.floats(allow_nan=True, allow_infinity=True),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=25,
)


def _as_json(value: Any) -> str:
    return json.dumps(value, allow_nan=True)  # NaN, Infinity and "\ud800" escapes as written


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["value", "deep", "huge", "message", "garbage"]))
    if kind == "deep":
        depth = draw(st.integers(0, 1500))
        return "[" * depth + draw(st.sampled_from(["1", "NaN", '"\\ud800"'])) + "]" * depth
    if kind == "huge":
        return '{"n": ' + "9" * draw(st.integers(1, 6000)) + "}"
    if kind == "message":
        return _as_json(
            {
                "type": draw(st.sampled_from(["track", "identify", "alias", 7])),
                "event": draw(_text),
                "userId": draw(_text),
                "properties": draw(st.dictionaries(_text, _values, max_size=4)),
                "traits": draw(_values),
            }
        )
    if kind == "garbage":
        return draw(st.text(_characters, max_size=200))
    return _as_json(draw(_values))


HOSTILE_SCALARS = [
    ".nan",
    "-.inf",
    "1e400",
    "9" * 5000,
    "0x" + "f" * 200,
    "2026-13-45",
    "1:2:3:4",
    '"\\ud800"',
    '"\\e]52;c;eA==\\a"',
    "!!python/object:os.system x",
    "~",
]


@st.composite
def yaml_documents(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["laughs", "aliases", "json", "scalars", "garbage"]))
    if kind == "laughs":
        levels, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
        for level in range(1, levels):
            lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
        return "\n".join(lines) + "\n"
    if kind == "aliases":
        parts = draw(
            st.lists(
                st.sampled_from(["&a [1, 2]", "*a", "&b {k: *a}", "*b", "&c [*c]", "x", "[", "{"]),
                min_size=1,
                max_size=30,
            )
        )
        return "items:\n" + "".join(f"  - {part}\n" for part in parts)
    if kind == "json":
        return draw(json_documents())  # JSON is (mostly) YAML
    if kind == "scalars":
        scalar = draw(st.sampled_from(HOSTILE_SCALARS))
        return f"traits:\n  x: {scalar}\n"
    return draw(st.text(_characters, max_size=200))


# -- the readers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


Reader = Callable[[str], Any]

FILE_READERS: dict[str, Reader] = {
    "settings": read_settings_file,
    "journey": load_journey_file,
    "user": load_user_profile,
    "payload": payload_message,
}


def outcome_is_bounded_and_one_line(read: Callable[[], Any]) -> None:
    """Run ``read``: a result (checked: no value JSON cannot carry) or one ``InputError``
    line; the allocation peak stays under :data:`PEAK_LIMIT`."""
    tracemalloc.start()
    try:
        try:
            result = read()
        except InputError as exc:
            assert "\n" not in exc.message and exc.message, exc.message
            result = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"
    if isinstance(result, dict):
        check_value(result, max_depth=None, long_numbers=True)
    elif hasattr(result, "model_dump"):
        dumped = result.model_dump()
        check_value(dumped, max_depth=None, long_numbers=True)
        json.dumps(dumped, default=str, allow_nan=False)


def _write(folder: Path, name: str, text: str) -> Path:
    file = folder / name
    file.write_bytes(text.encode("utf-8", "surrogatepass"))
    return file


@pytest.mark.parametrize("reader", FILE_READERS)
@FUZZ
@given(document=json_documents())
def test_json_files(reader: str, document: str, folder: Path) -> None:
    file = _write(folder, f"{reader}.json", document)
    outcome_is_bounded_and_one_line(lambda: FILE_READERS[reader](str(file)))


@pytest.mark.parametrize("reader", ["settings", "journey", "user"])
@FUZZ
@given(document=yaml_documents())
def test_yaml_files(reader: str, document: str, folder: Path) -> None:
    file = _write(folder, f"{reader}.yaml", document)
    outcome_is_bounded_and_one_line(lambda: FILE_READERS[reader](str(file)))


@FUZZ
@given(document=json_documents())
def test_parse_message_and_batch_text(document: str) -> None:
    outcome_is_bounded_and_one_line(lambda: parse_message_(document))
    outcome_is_bounded_and_one_line(lambda: parse_batch(document))


@FUZZ
@given(value=_values, properties=st.dictionaries(_text, _values, max_size=5), user=_text)
def test_parse_message_objects(value: Any, properties: dict[str, Any], user: str) -> None:
    document = {"type": "track", "event": "E", "userId": user or "u", "properties": properties}
    document["context"] = {"extra": value}

    def parse() -> Any:
        message = parse_message_(document)
        wire = json.loads(message.model_dump_json())  # what is sent is strict JSON
        assert all(math.isfinite(v) for v in _floats(wire))
        return message

    outcome_is_bounded_and_one_line(parse)


def _floats(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)
