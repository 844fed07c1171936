"""Declarative mappings: where each payload field comes from in a Segment message.

Built in Python (``path``, ``template``, ``first_of``...) or read from JSON/YAML, compiled once
and checked before any event is sent; fields on actions (``mapped``), per-instance overrides
and subscription conditions (``configure_destination``), and a live payload preview.
"""

from sdk.mapping._compile import MISSING, compile_node
from sdk.mapping._conditions import Condition, parse_condition
from sdk.mapping._fields import (
    DEFAULT_MAPPING_KEY,
    MAPPING_NOTES,
    FieldMappings,
    LooseNumber,
    LooseText,
    default_mappings,
    mapped,
)
from sdk.mapping._forms import (
    describe,
    each,
    first_of,
    if_equals,
    if_exists,
    literal,
    lower,
    merge,
    node_from_json,
    node_to_json,
    obj,
    path,
    template,
    upper,
)
from sdk.mapping._instance import (
    ACTIONS_KEY,
    PayloadPreview,
    configure_destination,
    preview_payload,
)
from sdk.mapping._nodes import InvalidMapping, Node
from sdk.mapping._spec import (
    ORDER_EVENTS,
    VIEW_NAME,
    VIEW_NAME_DOC,
    VIEW_PROPERTIES,
    VIEW_PROPERTIES_DOC,
)

__all__ = [
    "ACTIONS_KEY",
    "DEFAULT_MAPPING_KEY",
    "MAPPING_NOTES",
    "MISSING",
    "ORDER_EVENTS",
    "VIEW_NAME",
    "VIEW_NAME_DOC",
    "VIEW_PROPERTIES",
    "VIEW_PROPERTIES_DOC",
    "Condition",
    "FieldMappings",
    "InvalidMapping",
    "LooseNumber",
    "LooseText",
    "Node",
    "PayloadPreview",
    "compile_node",
    "configure_destination",
    "default_mappings",
    "describe",
    "each",
    "first_of",
    "if_equals",
    "if_exists",
    "literal",
    "lower",
    "mapped",
    "merge",
    "node_from_json",
    "node_to_json",
    "obj",
    "parse_condition",
    "path",
    "preview_payload",
    "template",
    "upper",
]
