"""The mapping language's typed nodes, and the parsing of paths and templates.

A mapping says where a payload field's value comes from in a Segment message. It is a tree of
nodes, built in Python (``path("$.properties.revenue")``) or read from JSON/YAML, where each
directive is an object with one known key (``{"first_of": [...]}``) and a string is a short
form: ``"$.a.b"`` (or ``"@.a"`` inside ``each``) is a path, a string holding ``{{...}}`` is a
template, any other value is a literal (``{"literal": "$5"}`` keeps a ``$`` string literal).

Unlike directives checked only when an event arrives, every node is checked when it is built:
an unknown directive, a misspelt option or a malformed path is an :class:`InvalidMapping`
naming the field, before any event is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from sdk._errors import InvalidSettings

__all__ = [
    "Case",
    "Each",
    "FirstOf",
    "IfEquals",
    "IfExists",
    "InvalidMapping",
    "Literal_",
    "Merge",
    "Node",
    "ObjectOf",
    "Path",
    "Spec",
    "Template",
    "test_path",
]

#: Nesting allowed in one mapping (a file is outside input: it is bounded).
MAX_DEPTH = 32


class InvalidMapping(InvalidSettings):
    """A mapping or a subscription that cannot be compiled: ``<field>: <rule>`` on one line."""


_SEGMENT = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(-?\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Path:
    """A value in the message (root ``$``) or in the current array element (root ``@``):
    ``$.properties.products[0].price``, ``$.context["user agent"]``; ``$`` is the whole message."""

    text: str
    root: Literal["$", "@"]
    parts: tuple[str | int, ...]

    def __str__(self) -> str:
        return self.text


def _parse_path(text: str, where: str) -> Path:
    stripped = text.strip()
    if not stripped or stripped[0] not in "$@":
        raise InvalidMapping(where, f"path {text!r} must start with $ (the message) or @")
    root = stripped[0]
    parts: list[str | int] = []
    position = 1
    while position < len(stripped):
        found = _SEGMENT.match(stripped, position)
        if found is None:
            raise InvalidMapping(
                where, f"path {text!r} is malformed at {stripped[position:][:20]!r}"
            )
        name, index, quoted, single = found.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(name if name is not None else quoted if quoted is not None else single)
        position = found.end()
    return Path(stripped, "$" if root == "$" else "@", tuple(parts))


@dataclass(frozen=True, slots=True)
class Template:
    """Text with ``{{path}}`` placeholders (``{{traits.first_name}}``, ``{{@.name}}`` in
    ``each``); a missing value renders empty, and a template whose every placeholder is
    missing has no value."""

    text: str
    pieces: tuple[str | Path, ...]


def _parse_template(text: str, where: str) -> Template:
    pieces: list[str | Path] = []
    position = 0
    for found in _PLACEHOLDER.finditer(text):
        if found.start() > position:
            pieces.append(text[position : found.start()])
        inner = found.group(1)
        if not inner:
            raise InvalidMapping(where, f"template {text!r} has an empty {{{{}}}}")
        if inner[0] not in "$@":
            inner = "$." + inner
        pieces.append(_parse_path(inner, where))
        position = found.end()
    if position < len(text):
        pieces.append(text[position:])
    if not any(isinstance(piece, Path) for piece in pieces):
        raise InvalidMapping(where, f"template {text!r} has no {{{{path}}}} placeholder")
    return Template(text, tuple(pieces))


@dataclass(frozen=True, slots=True)
class Literal_:
    """A fixed value (any JSON value)."""

    value: Any


@dataclass(frozen=True, slots=True)
class FirstOf:
    """The first option that has a value (not missing, not null): a coalesce."""

    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class IfExists:
    """``then`` when ``test`` has a value (not missing, not null), else ``otherwise``."""

    test: Path
    then: Node
    otherwise: Node | None = None


@dataclass(frozen=True, slots=True)
class IfEquals:
    """``then`` when ``test`` equals ``value``, else ``otherwise``."""

    test: Path
    value: Any
    then: Node
    otherwise: Node | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A text value in lower or upper case (other values pass unchanged)."""

    mode: Literal["lower", "upper"]
    value: Node


@dataclass(frozen=True, slots=True)
class ObjectOf:
    """An object whose keys are mapped one by one; keys without a value are left out."""

    fields: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Each:
    """Each element of the array at ``source`` mapped by ``item`` (where ``@`` is the element)."""

    source: Path
    item: Node


@dataclass(frozen=True, slots=True)
class Merge:
    """Objects merged left to right (later keys win); parts that are not objects are skipped."""

    parts: tuple[Node, ...]


Node: TypeAlias = (
    Path | Template | Literal_ | FirstOf | IfExists | IfEquals | Case | ObjectOf | Each | Merge
)
#: What a builder accepts for a sub-mapping: a node, or its JSON short form.
Spec: TypeAlias = Any


def test_path(value: str | Path, where: str) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise InvalidMapping(where, "a test must be a path such as $.traits.email")
    return _parse_path(value, where)
