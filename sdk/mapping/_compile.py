"""Compiling mapping nodes into plain closures, checked against the message types they serve.

A compiled mapping is a function of the message's wire document (and the current array
element, for ``@`` paths) that returns the value or :data:`MISSING`. Compilation does all the
checking (paths that can never match the action's message types are refused here), so
resolving an event is a few dict look-ups per field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from sdk.mapping._nodes import (
    Case,
    Each,
    FirstOf,
    IfEquals,
    IfExists,
    InvalidMapping,
    Literal_,
    Node,
    ObjectOf,
    Path,
    Template,
)

__all__ = ["MESSAGE_FIELDS", "MISSING", "Resolver", "check_path", "compile_node"]


class _Missing:
    """No value: the path is absent (a ``null`` is a value, but not one ``first_of`` takes)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
#: ``(message document, current array element) -> value or MISSING``.
Resolver = Callable[[Any, Any], Any]

_COMMON = {
    "type": "text",
    "messageId": "text",
    "timestamp": "text",
    "userId": "text",
    "anonymousId": "text",
    "context": "object",
    "integrations": "object",
    "sentAt": "text",
    "receivedAt": "text",
    "originalTimestamp": "text",
    "channel": "text",
    "version": "any",
}
#: The top-level fields of each message type's wire document, and what they hold.
MESSAGE_FIELDS: dict[str, dict[str, str]] = {
    "track": {**_COMMON, "event": "text", "properties": "object"},
    "identify": {**_COMMON, "traits": "object"},
    "page": {**_COMMON, "name": "text", "category": "text", "properties": "object"},
    "screen": {**_COMMON, "name": "text", "category": "text", "properties": "object"},
    "group": {**_COMMON, "groupId": "text", "traits": "object"},
    "alias": {**_COMMON, "previousId": "text"},
}


def _can_match(parts: tuple[str | int, ...], message_type: str) -> bool:
    if not parts:
        return True
    first = parts[0]
    kind = MESSAGE_FIELDS[message_type].get(first) if isinstance(first, str) else None
    if kind is None:
        return False
    return len(parts) == 1 or kind != "text"


def check_path(node: Path, types: Iterable[str], where: str) -> None:
    """Refuse a ``$`` path that no message of ``types`` can ever hold."""
    if node.root != "$":
        return
    kinds = sorted(types)
    if any(_can_match(node.parts, t) for t in kinds):
        return
    first = node.parts[0]
    names = " or ".join(kinds)
    if len(node.parts) > 1 and any(first in MESSAGE_FIELDS[t] for t in kinds):
        raise InvalidMapping(where, f"path {node.text} can never match: {first} is text in {names}")
    fields = sorted({f for t in kinds for f in MESSAGE_FIELDS[t]})
    raise InvalidMapping(
        where,
        f"path {node.text} can never match a {names} event ({first} is not one of its fields: "
        f"{', '.join(fields)})",
    )


def _path_resolver(node: Path) -> Resolver:
    parts = node.parts
    use_element = node.root == "@"
    if not parts:
        return (lambda doc, el: el) if use_element else (lambda doc, el: doc)
    if len(parts) == 1 and isinstance(parts[0], str):
        key = parts[0]
        if use_element:

            def get_element_key(doc: Any, el: Any) -> Any:
                return el.get(key, MISSING) if type(el) is dict else MISSING

            return get_element_key

        def get_key(doc: Any, el: Any) -> Any:
            return doc.get(key, MISSING)

        return get_key
    if len(parts) == 2 and all(isinstance(p, str) for p in parts) and not use_element:
        first, second = parts

        def get_key2(doc: Any, el: Any) -> Any:
            inner = doc.get(first)
            return inner.get(second, MISSING) if type(inner) is dict else MISSING

        return get_key2

    def get(doc: Any, el: Any) -> Any:
        value = el if use_element else doc
        for part in parts:
            if type(part) is str:
                if type(value) is not dict:
                    return MISSING
                value = value.get(part, MISSING)
                if value is MISSING:
                    return MISSING
            else:
                if type(value) is not list:
                    return MISSING
                try:
                    value = value[part]  # type: ignore[index]
                except IndexError:
                    return MISSING
        return value

    return get


def _render(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def compile_node(node: Node, types: Iterable[str], where: str) -> Resolver:
    """A resolver for ``node``; paths are checked against ``types`` (raises InvalidMapping)."""
    kinds = tuple(types)

    def sub(child: Node) -> Resolver:
        return compile_node(child, kinds, where)

    if isinstance(node, Path):
        check_path(node, kinds, where)
        return _path_resolver(node)
    if isinstance(node, Literal_):
        constant = node.value
        return lambda doc, el: constant
    if isinstance(node, Template):
        pieces: list[str | Resolver] = []
        for piece in node.pieces:
            if isinstance(piece, Path):
                check_path(piece, kinds, where)
                pieces.append(_path_resolver(piece))
            else:
                pieces.append(piece)

        def render(doc: Any, el: Any) -> Any:
            out: list[str] = []
            found = False
            for piece in pieces:
                if isinstance(piece, str):
                    out.append(piece)
                    continue
                value = piece(doc, el)
                if value is not MISSING and value is not None:
                    found = True
                    out.append(_render(value))
            return "".join(out) if found else MISSING

        return render
    if isinstance(node, FirstOf):
        options = [sub(o) for o in node.options]

        def first(doc: Any, el: Any) -> Any:
            for option in options:
                value = option(doc, el)
                if value is not MISSING and value is not None:
                    return value
            return MISSING

        return first
    if isinstance(node, (IfExists, IfEquals)):
        check_path(node.test, kinds, where)
        test = _path_resolver(node.test)
        then = sub(node.then)
        otherwise = sub(node.otherwise) if node.otherwise is not None else None
        if isinstance(node, IfExists):

            def if_exists(doc: Any, el: Any) -> Any:
                value = test(doc, el)
                if value is not MISSING and value is not None:
                    return then(doc, el)
                return otherwise(doc, el) if otherwise is not None else MISSING

            return if_exists
        expected = node.value

        def if_equals(doc: Any, el: Any) -> Any:
            if test(doc, el) == expected:
                return then(doc, el)
            return otherwise(doc, el) if otherwise is not None else MISSING

        return if_equals
    if isinstance(node, Case):
        inner = sub(node.value)
        upper = node.mode == "upper"

        def case(doc: Any, el: Any) -> Any:
            value = inner(doc, el)
            if isinstance(value, str):
                return value.upper() if upper else value.lower()
            return value

        return case
    if isinstance(node, ObjectOf):
        fields = [(key, sub(value)) for key, value in node.fields]

        def build(doc: Any, el: Any) -> Any:
            out = {}
            for key, resolver in fields:
                value = resolver(doc, el)
                if value is not MISSING and value is not None:
                    out[key] = value
            return out

        return build
    if isinstance(node, Each):
        check_path(node.source, kinds, where)
        source = _path_resolver(node.source)
        item = sub(node.item)

        def each(doc: Any, el: Any) -> Any:
            values = source(doc, el)
            if type(values) is not list:
                return MISSING
            out = []
            for element in values:
                value = item(doc, element)
                if value is not MISSING:
                    out.append(value)
            return out

        return each
    parts = [sub(p) for p in node.parts]

    def merged(doc: Any, el: Any) -> Any:
        out: dict[str, Any] | None = None
        for part in parts:
            value = part(doc, el)
            if isinstance(value, dict):
                out = {**(out or {}), **value}
        return MISSING if out is None else out

    return merged
