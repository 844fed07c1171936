"""Subscription conditions: which events an action takes, written as text, and why not.

``type = "track" and event = "Order Completed"``, ``properties.revenue > 100``,
``event in ["Order Completed", "Order Refunded"]``, ``traits.email exists``, with ``and``,
``or``, ``not`` and parentheses. Operators: ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``,
``exists``. A condition is parsed and checked (paths against the action's message types) when
it is loaded; :meth:`Condition.explain` says why an event does not match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sdk.mapping._compile import MESSAGE_FIELDS, MISSING, Resolver, _path_resolver, check_path
from sdk.mapping._nodes import InvalidMapping, _parse_path

__all__ = ["Condition", "parse_condition"]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'[^']*')
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<op>==|!=|>=|<=|=|>|<)
    |(?P<punct>[()\[\],])
    |(?P<word>[A-Za-z_$][\w$.\-]*(?:\[(?:-?\d+|"[^"]*")\][\w$.\-]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "exists", "true", "false", "null"}
MAX_CONDITION_CHARS = 2000


def _show(value: Any) -> str:
    if value is MISSING:
        return "missing"
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True, slots=True)
class _Test:
    path: str
    op: str
    value: Any
    get: Resolver

    def explain(self, document: Mapping[str, Any]) -> str | None:
        actual = self.get(document, None)
        if self.op == "exists":
            return (
                None if actual is not MISSING and actual is not None else f"{self.path} is missing"
            )
        if self.op == "in":
            if actual in self.value:
                return None
            return f"{self.path} is {_show(actual)}, not in {_show(self.value)}"
        if _holds(actual, self.op, self.value):
            return None
        return f"{self.path} is {_show(actual)}, not {self.op} {_show(self.value)}"


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if op in ("=", "=="):
        return bool(actual == expected)
    if op == "!=":
        return bool(actual != expected)
    numbers = (int, float)
    if isinstance(actual, bool) or not isinstance(actual, numbers):
        return False
    if op == ">":
        return bool(actual > expected)
    if op == ">=":
        return bool(actual >= expected)
    if op == "<":
        return bool(actual < expected)
    return bool(actual <= expected)


@dataclass(frozen=True, slots=True)
class _Junction:
    kind: str  # "and" | "or" | "not"
    parts: tuple[_Test | _Junction, ...]

    def explain(self, document: Mapping[str, Any]) -> str | None:
        if self.kind == "not":
            return None if self.parts[0].explain(document) is not None else "the negated test holds"
        reasons = [part.explain(document) for part in self.parts]
        if self.kind == "and":
            return next((r for r in reasons if r is not None), None)
        if any(r is None for r in reasons):
            return None
        return " and ".join(r for r in reasons if r is not None)


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed subscription condition."""

    text: str
    root: _Test | _Junction

    def matches(self, document: Mapping[str, Any]) -> bool:
        """True when the message's wire document satisfies the condition."""
        return self.root.explain(document) is None

    def explain(self, document: Mapping[str, Any]) -> str | None:
        """``None`` when it matches, else one line saying which test failed and why."""
        return self.root.explain(document)


class _Parser:
    def __init__(self, text: str, types: tuple[str, ...], where: str) -> None:
        self.text, self.types, self.where = text, types, where
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            found = _TOKEN.match(text, position)
            if found is None or found.end() == position:
                if not text[position:].strip():
                    break
                raise self.error(f"cannot read {text[position:].strip()[:20]!r}")
            kind = found.lastgroup or ""
            self.tokens.append((kind, found.group(kind)))
            position = found.end()
        self.index = 0

    def error(self, rule: str) -> InvalidMapping:
        return InvalidMapping(self.where, f"{rule} in {self.text!r}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.index += 1
            return True
        return False

    def expression(self) -> _Test | _Junction:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _Junction("or", tuple(parts))

    def conjunction(self) -> _Test | _Junction:
        parts = [self.negation()]
        while self.keyword("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else _Junction("and", tuple(parts))

    def negation(self) -> _Test | _Junction:
        if self.keyword("not"):
            return _Junction("not", (self.negation(),))
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.expression()
            if self.take() != ("punct", ")"):
                raise self.error("expected )")
            return inner
        return self.test()

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return json.loads(text) if text[0] == '"' else text[1:-1]
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word" and text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text.lower()]
        if (kind, text) == ("punct", "["):
            items: list[Any] = []
            while self.peek() != ("punct", "]"):
                items.append(self.value())
                if self.peek() == ("punct", ","):
                    self.take()
            self.take()
            return items
        raise self.error(f"expected a value, got {text!r}")

    def test(self) -> _Test:
        kind, name = self.take()
        if kind != "word" or name.lower() in _KEYWORDS:
            raise self.error(f"expected a field such as properties.revenue, got {name!r}")
        node = _parse_path("$." + name, self.where)
        check_path(node, self.types, self.where)
        get = _path_resolver(node)
        if self.keyword("exists"):
            return _Test(name, "exists", None, get)
        if self.keyword("in"):
            values = self.value()
            if not isinstance(values, list):
                raise self.error(f'{name} in takes a list such as ["a", "b"]')
            return _Test(name, "in", values, get)
        op_kind, op = self.take()
        if op_kind != "op":
            raise self.error(f"expected an operator after {name}, got {op!r}")
        expected = self.value()
        if op in (">", ">=", "<", "<=") and (
            isinstance(expected, bool) or not isinstance(expected, (int, float))
        ):
            raise self.error(f"{op} compares numbers")
        if name == "type" and op in ("=", "==") and expected not in self.types:
            raise self.error(
                f"type {expected!r} is not one this action takes ({', '.join(self.types)})"
            )
        return _Test(name, "=" if op == "==" else op, expected, get)


def parse_condition(
    text: str, types: Iterable[str] = MESSAGE_FIELDS, *, where: str = "subscribe"
) -> Condition:
    """Parse and check a condition for an action taking ``types`` (one line on error)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidMapping(where, 'must be a condition such as type = "track"')
    if len(text) > MAX_CONDITION_CHARS:
        raise InvalidMapping(where, f"is longer than {MAX_CONDITION_CHARS} characters")
    parser = _Parser(text, tuple(sorted(types)), where)
    root = parser.expression()
    if parser.peek() is not None:
        raise parser.error(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return Condition(text, root)
