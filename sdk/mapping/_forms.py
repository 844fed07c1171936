"""The mapping language's two written forms: Python builders (``path``, ``first_of``...) and
the JSON/YAML form (``{"first_of": [...]}``, with ``"$.a.b"`` and ``"{{a}}"`` short forms),
each checked when it is built; and the JSON form of a node, for docs and schemas."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sdk.mapping._nodes import (
    MAX_DEPTH,
    Case,
    Each,
    FirstOf,
    IfEquals,
    IfExists,
    InvalidMapping,
    Literal_,
    Merge,
    Node,
    ObjectOf,
    Path,
    Spec,
    Template,
    _parse_path,
    _parse_template,
    test_path,
)

__all__ = [
    "DIRECTIVES",
    "as_node",
    "describe",
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
        test_path(test, "mapping"),
        as_node(then, "mapping"),
        None if otherwise is None else as_node(otherwise, "mapping"),
    )


def if_equals(test: str | Path, value: Any, then: Spec, otherwise: Spec = None) -> IfEquals:
    """``then`` when ``test`` equals ``value``, else ``otherwise``."""
    return IfEquals(
        test_path(test, "mapping"),
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
    return Each(test_path(source, "mapping"), as_node(node, "mapping"))


def merge(*parts: Spec) -> Merge:
    """Objects merged left to right."""
    return Merge(tuple(as_node(part, "mapping") for part in parts))


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
        return test_path(arg, where)
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
        return Each(test_path(arg, where), item)
    if "then" not in spec:
        raise InvalidMapping(where, f"{name} needs then")
    otherwise = sub(spec["else"], "else") if "else" in spec else None
    if name == "if_exists":
        return IfExists(test_path(arg, where), sub(spec["then"], "then"), otherwise)
    if "value" not in spec:
        raise InvalidMapping(where, "if_equals needs value")
    return IfEquals(test_path(arg, where), spec["value"], sub(spec["then"], "then"), otherwise)


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
