"""The mapping language: typed nodes, their Python builders, and their JSON/YAML form.

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

import json
import re
from collections.abc import Mapping, Sequence
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
    "Template",
    "each",
    "first_of",
    "if_equals",
    "if_exists",
    "literal",
    "lower",
    "merge",
    "node_from_json",
    "node_to_json",
    "obj",
    "path",
    "template",
    "upper",
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


# -- Python builders --------------------------------------------------------------------------


def path(text: str) -> Path:
    """``path("$.properties.revenue")``: a value of the message."""
    return _parse_path(text, "mapping")


def template(text: str) -> Template:
    """``template("{{traits.first_name}} {{traits.last_name}}")``."""
    return _parse_template(text, "mapping")


def literal(value: Any) -> Literal_:
    """A fixed value."""
    return Literal_(value)


def first_of(*options: Spec) -> FirstOf:
    """The first of ``options`` that has a value."""
    return FirstOf(tuple(as_node(option, "mapping") for option in options))


def if_exists(test: str | Path, then: Spec, otherwise: Spec = None) -> IfExists:
    """``then`` when ``test`` has a value, else ``otherwise``."""
    return IfExists(
        _test_path(test, "mapping"),
        as_node(then, "mapping"),
        None if otherwise is None else as_node(otherwise, "mapping"),
    )


def if_equals(test: str | Path, value: Any, then: Spec, otherwise: Spec = None) -> IfEquals:
    """``then`` when ``test`` equals ``value``, else ``otherwise``."""
    return IfEquals(
        _test_path(test, "mapping"),
        value,
        as_node(then, "mapping"),
        None if otherwise is None else as_node(otherwise, "mapping"),
    )


def lower(value: Spec) -> Case:
    """The value in lower case."""
    return Case("lower", as_node(value, "mapping"))


def upper(value: Spec) -> Case:
    """The value in upper case."""
    return Case("upper", as_node(value, "mapping"))


def obj(fields: Mapping[str, Spec]) -> ObjectOf:
    """An object of mapped keys."""
    return ObjectOf(tuple((str(k), as_node(v, f"mapping.{k}")) for k, v in fields.items()))


def each(source: str | Path, item: Spec) -> Each:
    """Map every element of the array at ``source``; a dict ``item`` is an object of fields."""
    node = obj(item) if isinstance(item, Mapping) and not _is_directive(item) else item
    return Each(_test_path(source, "mapping"), as_node(node, "mapping"))


def merge(*parts: Spec) -> Merge:
    """Objects merged left to right."""
    return Merge(tuple(as_node(part, "mapping") for part in parts))


def _test_path(value: str | Path, where: str) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise InvalidMapping(where, "a test must be a path such as $.traits.email")
    return _parse_path(value, where)


# -- the JSON / YAML form ---------------------------------------------------------------------

#: Each directive and the option keys it takes besides itself.
DIRECTIVES: dict[str, frozenset[str]] = {
    "path": frozenset(),
    "template": frozenset(),
    "literal": frozenset(),
    "first_of": frozenset(),
    "if_exists": frozenset({"then", "else"}),
    "if_equals": frozenset({"value", "then", "else"}),
    "lower": frozenset(),
    "upper": frozenset(),
    "object": frozenset(),
    "each": frozenset({"map", "item"}),
    "merge": frozenset(),
}


def _is_directive(value: Mapping[Any, Any]) -> bool:
    return any(key in DIRECTIVES for key in value)


def as_node(spec: Spec, where: str) -> Node:
    """A node from a node or its JSON form (the builders' argument)."""
    if isinstance(spec, (Path, Template, Literal_, FirstOf, IfExists, IfEquals, Case)):
        return spec
    if isinstance(spec, (ObjectOf, Each, Merge)):
        return spec
    return node_from_json(spec, where)


def node_from_json(spec: Any, where: str, depth: int = 0) -> Node:
    """Parse the JSON/YAML form of a mapping; ``where`` names the field in errors."""
    if depth > MAX_DEPTH:
        raise InvalidMapping(where, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(spec, str):
        if spec.startswith(("$.", "@.", "$[", "@[")) or spec in ("$", "@"):
            return _parse_path(spec, where)
        if "{{" in spec:
            return _parse_template(spec, where)
        return Literal_(spec)
    if spec is None or isinstance(spec, (bool, int, float)):
        return Literal_(spec)
    if isinstance(spec, list):
        raise InvalidMapping(where, "a list is not a mapping (use first_of, merge or literal)")
    if not isinstance(spec, Mapping):
        raise InvalidMapping(where, f"a {type(spec).__name__} is not a mapping")
    found = [key for key in spec if key in DIRECTIVES]
    if len(found) != 1:
        keys = ", ".join(sorted(map(str, spec))) or "nothing"
        known = ", ".join(DIRECTIVES)
        if not found:
            raise InvalidMapping(where, f"unknown directive {keys} (known: {known})")
        raise InvalidMapping(where, f"one directive per object, got {', '.join(found)}")
    name = found[0]
    extra = sorted(str(k) for k in spec if k != name and k not in DIRECTIVES[name])
    if extra:
        raise InvalidMapping(where, f"{name} takes no option {extra[0]!r}")
    return _directive(name, spec, where, depth + 1)


def _directive(name: str, spec: Mapping[str, Any], where: str, depth: int) -> Node:
    arg = spec[name]

    def sub(value: Any, label: str) -> Node:
        return node_from_json(value, f"{where}.{label}", depth)

    if name == "path":
        return _test_path(arg, where)
    if name == "template":
        if not isinstance(arg, str):
            raise InvalidMapping(where, "template must be text")
        return _parse_template(arg, where)
    if name == "literal":
        return Literal_(arg)
    if name in ("first_of", "merge"):
        if not isinstance(arg, list) or not arg:
            raise InvalidMapping(where, f"{name} takes a non-empty list")
        options = tuple(sub(item, f"{name}[{i}]") for i, item in enumerate(arg))
        return FirstOf(options) if name == "first_of" else Merge(options)
    if name in ("lower", "upper"):
        return Case("lower" if name == "lower" else "upper", sub(arg, name))
    if name == "object":
        if not isinstance(arg, Mapping):
            raise InvalidMapping(where, "object takes a mapping of keys")
        return ObjectOf(tuple((str(k), sub(v, str(k))) for k, v in arg.items()))
    if name == "each":
        if ("map" in spec) == ("item" in spec):
            raise InvalidMapping(where, "each takes one of map (fields) or item (a mapping)")
        if "map" in spec:
            fields = spec["map"]
            if not isinstance(fields, Mapping):
                raise InvalidMapping(where, "each.map takes a mapping of keys")
            item: Node = ObjectOf(tuple((str(k), sub(v, f"map.{k}")) for k, v in fields.items()))
        else:
            item = sub(spec["item"], "item")
        return Each(_test_path(arg, where), item)
    if "then" not in spec:
        raise InvalidMapping(where, f"{name} needs then")
    otherwise = sub(spec["else"], "else") if "else" in spec else None
    if name == "if_exists":
        return IfExists(_test_path(arg, where), sub(spec["then"], "then"), otherwise)
    if "value" not in spec:
        raise InvalidMapping(where, "if_equals needs value")
    return IfEquals(_test_path(arg, where), spec["value"], sub(spec["then"], "then"), otherwise)


def node_to_json(node: Node) -> Any:
    """The JSON form of a node (short forms where they are unambiguous); docs show it."""
    if isinstance(node, Path):
        return node.text
    if isinstance(node, Template):
        return node.text
    if isinstance(node, Literal_):
        value = node.value
        if isinstance(value, str) and (value.startswith(("$", "@")) or "{{" in value):
            return {"literal": value}
        if isinstance(value, (Mapping, list)):
            return {"literal": value}
        return value
    if isinstance(node, FirstOf):
        return {"first_of": [node_to_json(o) for o in node.options]}
    if isinstance(node, Merge):
        return {"merge": [node_to_json(o) for o in node.parts]}
    if isinstance(node, Case):
        return {node.mode: node_to_json(node.value)}
    if isinstance(node, ObjectOf):
        return {"object": {k: node_to_json(v) for k, v in node.fields}}
    if isinstance(node, Each):
        if isinstance(node.item, ObjectOf):
            return {
                "each": node.source.text,
                "map": {k: node_to_json(v) for k, v in node.item.fields},
            }
        return {"each": node.source.text, "item": node_to_json(node.item)}
    out: dict[str, Any]
    if isinstance(node, IfExists):
        out = {"if_exists": node.test.text, "then": node_to_json(node.then)}
    else:
        out = {"if_equals": node.test.text, "value": node.value, "then": node_to_json(node.then)}
    if node.otherwise is not None:
        out["else"] = node_to_json(node.otherwise)
    return out


def describe(node: Node) -> str:
    """One line of the node's JSON form (for docs and error messages)."""
    value = node_to_json(node)
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))


def children(node: Node) -> Sequence[Node]:
    """The direct sub-nodes (paths inside templates and tests included)."""
    if isinstance(node, Template):
        return [p for p in node.pieces if isinstance(p, Path)]
    if isinstance(node, FirstOf):
        return node.options
    if isinstance(node, Merge):
        return node.parts
    if isinstance(node, Case):
        return [node.value]
    if isinstance(node, ObjectOf):
        return [v for _, v in node.fields]
    if isinstance(node, Each):
        return [node.source, node.item]
    if isinstance(node, (IfExists, IfEquals)):
        rest = [node.test, node.then]
        return rest if node.otherwise is None else [*rest, node.otherwise]
    return []
