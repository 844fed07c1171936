"""A message's wire JSON without its empty ``integrations`` member, written in one pass: for
the delivery engine's fused path (an action that forwards the message as it is,
``WireForward``), which makes :func:`message_to_json`'s checks on those bytes.

For a message whose ``integrations`` object is empty, ``message_to_json`` writes
``,"integrations":{}`` between ``context`` and the fields after it (never first: ``messageId``
is), and nothing else differs: so the bytes here are the wire JSON less exactly those
``INTEGRATIONS_BYTES`` bytes, and what the wire checks find (NaN, Infinity, U+FFFD, its
size) they find here too.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from pydantic_core import SchemaSerializer

from sdk.spec._messages import (
    _REPLACEMENT,
    _VALIDATE,
    MAX_MESSAGE_BYTES,
    Alias,
    Group,
    Identify,
    Page,
    Screen,
    Track,
)

__all__ = [
    "INTEGRATIONS_BYTES",
    "MAX_PLAIN",
    "REPLACEMENT",
    "WITHOUT_INTEGRATIONS",
    "validate_raw",
]

#: U+FFFD as UTF-8 (what validation makes of a lone surrogate in a key).
REPLACEMENT = _REPLACEMENT

AnyMessage = Track | Identify | Page | Screen | Group | Alias

#: The SDK's message validation (the discriminated union's core validator), raising pydantic's
#: ``ValidationError`` as it is: for a caller that words the error through the general path.
validate_raw: Callable[[Any], AnyMessage] = _VALIDATE

_EMPTY_INTEGRATIONS = b',"integrations":{}'
#: What ``message_to_json`` writes more than ``WITHOUT_INTEGRATIONS`` for a message whose
#: ``integrations`` object is empty.
INTEGRATIONS_BYTES = len(_EMPTY_INTEGRATIONS)
#: The largest ``WITHOUT_INTEGRATIONS`` bytes whose wire JSON is within Segment's limit.
MAX_PLAIN = MAX_MESSAGE_BYTES - INTEGRATIONS_BYTES


def _writer(cls: type[AnyMessage]) -> Callable[[AnyMessage], bytes]:
    """``cls``'s serializer with ``integrations`` left out: the model's own core schema with
    that one field marked ``serialization_exclude``, so a message is written in one pass at
    the cost of the model's own ``to_json`` (passing ``exclude=`` costs more per call).

    pydantic-core reuses a complete model's prebuilt serializer for a schema naming the model,
    which would ignore the change: the model is marked incomplete only while the serializer is
    built (at import, once). Should the result ever differ from ``to_json(exclude=...)`` on a
    probe message (another pydantic), that call is used instead."""
    excluded = functools.partial(cls.__pydantic_serializer__.to_json, exclude={"integrations"})
    schema = copy.deepcopy(cls.__pydantic_core_schema__)
    model: Any = schema
    while model.get("type") != "model" and "schema" in model:
        model = model["schema"]
    fields = model.get("schema", {}).get("fields", {})
    if model.get("type") != "model" or "integrations" not in fields:
        return excluded
    fields["integrations"]["serialization_exclude"] = True
    if cls.__dict__.get("__pydantic_complete__") is not True:
        return excluded  # not a complete model as pydantic 2.x leaves one: the plain call
    cls.__pydantic_complete__ = False
    try:
        serializer = SchemaSerializer(schema, model.get("config"))
    finally:
        cls.__pydantic_complete__ = True
    probe: dict[str, Any] = {"type": cls.model_fields["type"].default, "userId": "u"}
    probe |= {"event": "e", "groupId": "g", "previousId": "p", "extra": [1.5, None, "\u00e9"]}
    probe["integrations"], probe["context"] = {}, {"integrations": {}}
    message = _VALIDATE(probe)
    if serializer.to_json(message) != excluded(message):
        return excluded
    write: Callable[[AnyMessage], bytes] = serializer.to_json
    return write


#: By message class: the message's wire JSON without its ``integrations`` member (which the
#: caller has seen to be empty). Raises ``PydanticSerializationError`` where
#: ``message_to_json`` would refuse the message for a value JSON cannot carry.
WITHOUT_INTEGRATIONS: dict[type[AnyMessage], Callable[[AnyMessage], bytes]] = {
    cls: _writer(cls) for cls in (Track, Identify, Page, Screen, Group, Alias)
}
