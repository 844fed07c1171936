"""Fields on actions: a pydantic payload model whose fields carry default mappings.

``mapped("$.properties.revenue")`` is a pydantic ``Field`` that records its default mapping in
the field's JSON Schema (``default_mapping``), so one definition drives resolution, validation,
``destkit connectors --schema`` and the docs. :class:`FieldMappings` compiles a model's
mappings (with per-instance overrides of single fields) once, and resolves events with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from sdk._errors import InvalidEvent
from sdk.mapping._compile import MISSING, Resolver, compile_node
from sdk.mapping._forms import as_node, describe, node_from_json, node_to_json
from sdk.mapping._nodes import FirstOf, InvalidMapping, Node

__all__ = [
    "DEFAULT_MAPPING_KEY",
    "MAPPING_NOTES",
    "FieldMappings",
    "LooseNumber",
    "LooseText",
    "default_mappings",
    "mapped",
]

#: Where a field's default mapping is kept in its JSON Schema.
DEFAULT_MAPPING_KEY = "default_mapping"


#: Where :meth:`FieldMappings.resolve` adds a note for each value a loose field left out; the
#: delivery engine sets a fresh list around an action's ``map`` and records the notes in the
#: event's lifecycle, so a value of the wrong type is never dropped silently.
MAPPING_NOTES: ContextVar[list[str] | None] = ContextVar("destkit_mapping_notes", default=None)


def _text_or_none(value: Any) -> Any:
    return value if isinstance(value, str) and value.strip() else None


def _number_or_none(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


#: The rule each loose validator applies, named in the note of a value it left out.
_TEXT = "text"
_LOOSE_RULES = {_text_or_none: _TEXT, _number_or_none: "a number"}


def _loose_rule(metadata: Iterable[Any]) -> str | None:
    for item in metadata:
        if isinstance(item, BeforeValidator):
            rule = _LOOSE_RULES.get(item.func)  # type: ignore[arg-type]
            if rule is not None:
                return rule
    return None


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


#: Optional text where a value of another type (or blank text) counts as no value: for fields
#: a vendor documents as text that events fill loosely (``context.ip``, ``os.name``...).
LooseText: TypeAlias = Annotated[str | None, BeforeValidator(_text_or_none)]
#: Optional number where a value of another type (a bool, text) counts as no value.
LooseNumber: TypeAlias = Annotated[int | float | None, BeforeValidator(_number_or_none)]


def mapped(
    mapping: Any,
    *,
    default: Any = None,
    required: bool = False,
    description: str = "",
    **field_options: Any,
) -> Any:
    """A payload field filled from the event by ``mapping`` (a node or its JSON form).

    ``required=True`` makes an event without a value an ``InvalidEvent`` naming the field;
    otherwise the field takes ``default``. Other keyword arguments go to pydantic's ``Field``.
    """
    node = as_node(mapping, "mapping")
    extra = {DEFAULT_MAPPING_KEY: node_to_json(node)}
    if required or "default_factory" in field_options:
        return Field(description=description, json_schema_extra=extra, **field_options)
    return Field(default=default, description=description, json_schema_extra=extra, **field_options)


def default_mappings(model: type[BaseModel]) -> dict[str, Node]:
    """Each field's default mapping (fields without one are left out)."""
    out: dict[str, Node] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and DEFAULT_MAPPING_KEY in extra:
            out[name] = node_from_json(extra[DEFAULT_MAPPING_KEY], name)
    return out


class FieldMappings:
    """A payload model's mappings, compiled for the message ``types`` an action takes.

    ``overrides`` replace single fields' mappings (the others keep their defaults); a field
    name that is not in the model, or a mapping that cannot be compiled, is an
    :class:`InvalidMapping` naming ``<where>.<field>``.
    """

    def __init__(
        self,
        model: type[BaseModel],
        types: Iterable[str],
        overrides: Mapping[str, Any] | None = None,
        *,
        where: str = "mapping",
    ) -> None:
        self.model = model
        self.nodes = default_mappings(model)
        fields = model.model_fields
        for name, spec in (overrides or {}).items():
            if name not in fields:
                known = ", ".join(fields)
                raise InvalidMapping(f"{where}.{name}", f"is not a field (fields: {known})")
            self.nodes[name] = as_node(spec, f"{where}.{name}")
        kinds = self._kinds = tuple(sorted(types))
        self._resolvers: list[tuple[str, str, Resolver]] = []
        for name, info in fields.items():
            node = self.nodes.get(name)
            if node is None:
                if info.is_required():
                    raise InvalidMapping(f"{where}.{name}", "is required and has no mapping")
                continue
            resolver = compile_node(node, kinds, f"{where}.{name}")
            self._resolvers.append((name, info.alias or name, resolver))
        #: Loose fields (``LooseText``/``LooseNumber``): name, key and the rule they apply.
        self._loose = [
            (name, key, rule)
            for name, key, _ in self._resolvers
            if (rule := _loose_rule(fields[name].metadata)) is not None
        ]

    def values(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The mapped values of one message's wire document (fields without a value left out)."""
        out: dict[str, Any] = {}
        for _name, key, resolver in self._resolvers:
            value = resolver(document, None)
            if value is not MISSING:
                out[key] = value
        return out

    def resolve(self, document: Mapping[str, Any]) -> Any:
        """The validated payload model; a value the model refuses is one ``InvalidEvent``
        line naming the field and its mapping (the value itself is not shown)."""
        values = self.values(document)
        try:
            model = self.model.model_validate(values)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            name = str(first["loc"][0]) if first["loc"] else "payload"
            node = self.nodes.get(name)
            source = f" (mapped from {describe(node)})" if node is not None else ""
            rule = "is required" if first["type"] == "missing" else str(first["msg"])
            raise InvalidEvent(name, f"{rule}{source}") from None
        for name, key, rule in self._loose:
            value = values.get(key)
            if value is not None and getattr(model, name) is None:
                self._note_dropped(name, value, rule, document)
        return model

    def _note_dropped(self, name: str, value: Any, rule: str, document: Mapping[str, Any]) -> None:
        """A note naming the field, where it came from and the rule (never the value)."""
        notes = MAPPING_NOTES.get()
        if notes is None:
            return
        source = self._source(self.nodes[name], document)
        if isinstance(value, str) and rule == _TEXT:
            notes.append(f"{name} left out: {source} is blank")
        else:
            notes.append(f"{name} left out: {source} is {_kind(value)}, not {rule}")

    def _source(self, node: Node, document: Mapping[str, Any]) -> str:
        """Where the value came from: the option of a ``first_of`` that gave it, else the
        whole mapping (only on the path of a left-out value, so compiling here is fine)."""
        if isinstance(node, FirstOf):
            for option in node.options:
                value = compile_node(option, self._kinds, "source")(document, None)
                if value is not MISSING and value is not None:
                    return self._source(option, document)
        return describe(node)

    def describe(self) -> dict[str, str]:
        """Each field's mapping as one line (docs, the tester)."""
        return {name: describe(node) for name, node in self.nodes.items()}
