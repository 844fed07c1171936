"""Instance configuration: per-action ``mapping:`` overrides and ``subscribe:`` conditions.

One shape serves a settings file, the ``destkit serve`` config and the tester::

    actions:
      track_event:
        mapping: {event_type: "$.properties.name"}   # single fields; the rest keep defaults
        subscribe: 'type = "track" and properties.revenue > 100'

:func:`configure_destination` checks all of it at load (one :class:`InvalidMapping` line naming
``actions.<action>.mapping.<field>`` or ``actions.<action>.subscribe``) and returns a copy of
the destination whose actions use it. :func:`preview_payload` resolves one event's payload
with a configuration, for a live preview.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from sdk.mapping._conditions import parse_condition
from sdk.mapping._fields import FieldMappings
from sdk.mapping._nodes import InvalidMapping

if TYPE_CHECKING:
    from sdk.connector._destination import Destination
    from sdk.connector._settings import DestinationSettings

__all__ = ["ACTIONS_KEY", "PayloadPreview", "configure_destination", "preview_payload"]

#: The key of a settings file (or a serve config entry) holding the per-action configuration.
ACTIONS_KEY = "actions"
_ENTRY_KEYS = frozenset({"mapping", "subscribe"})
DestinationT = TypeVar("DestinationT", bound="Destination[Any]")


def configure_destination(
    destination: DestinationT, config: Any, *, where: str = ACTIONS_KEY
) -> DestinationT:
    """A copy of ``destination`` configured by ``{action: {mapping: ..., subscribe: ...}}``.

    Validated now: an unknown action, key or field, a mapping that cannot be compiled or can
    never match the action's events, or a condition that does not parse is one
    :class:`InvalidMapping` line naming where it is. ``None`` or ``{}`` changes nothing.
    """
    if config is None or config == {}:
        return destination
    if not isinstance(config, Mapping):
        raise InvalidMapping(where, "must map action names to {mapping, subscribe}")
    by_name = {action.name: action for action in destination.actions}
    configured = list(destination.actions)
    for name, entry in config.items():
        here = f"{where}.{name}"
        if name not in by_name:
            known = ", ".join(by_name)
            raise InvalidMapping(here, f"is not an action of {destination.slug} (actions: {known})")
        if entry is None:
            continue
        if not isinstance(entry, Mapping):
            raise InvalidMapping(here, "must hold mapping: and/or subscribe:")
        unknown = sorted(str(key) for key in entry if key not in _ENTRY_KEYS)
        if unknown:
            raise InvalidMapping(f"{here}.{unknown[0]}", "is not mapping or subscribe")
        action = by_name[name]
        clone = copy.copy(action)
        clone.__dict__.pop("_field_mappings", None)
        overrides = entry.get("mapping") or {}
        if not isinstance(overrides, Mapping):
            raise InvalidMapping(f"{here}.mapping", "must map field names to mappings")
        if overrides:
            if action.fields is None:
                raise InvalidMapping(
                    f"{here}.mapping", f"{name} declares no fields; only subscribe can be set"
                )
            clone.overrides = MappingProxyType(dict(overrides))
            clone.__dict__["_field_mappings"] = FieldMappings(
                action.fields, action.subscribe.types, overrides, where=f"{here}.mapping"
            )
        if entry.get("subscribe") is not None:
            clone.condition = parse_condition(
                entry["subscribe"], action.subscribe.types, where=f"{here}.subscribe"
            )
        configured[configured.index(action)] = clone
    return dataclasses.replace(destination, actions=configured)


@dataclasses.dataclass(frozen=True, slots=True)
class PayloadPreview:
    """One event's resolved payload (as the lifecycle records it, secrets masked), or the one
    line saying why there is none."""

    action: str | None
    payload: Any = None
    error: str | None = None


def preview_payload(
    destination: Destination[Any],
    event: Mapping[str, Any] | Any,
    config: Any = None,
    settings: DestinationSettings | Mapping[str, Any] | None = None,
) -> PayloadPreview:
    """Resolve ``event``'s payload for ``destination`` configured by ``config`` (the tester's
    live preview). Never raises for bad input: the error is one line in the result."""
    from sdk._errors import DestkitError
    from sdk.connector._settings import load_settings, secret_values
    from sdk.spec._messages import parse_message
    from sdk.transport._redaction import Redactor

    try:
        configured = configure_destination(destination, config)
        message = parse_message(dict(event)) if isinstance(event, Mapping) else event
        if isinstance(settings, Mapping):
            values = load_settings(destination.settings, settings)
        elif settings is None:
            values = destination.settings.model_construct()
        else:
            values = settings
        action = configured.action_for(message)
        if action is None:
            return PayloadPreview(None, error=f"no action of {destination.name} takes this event")
        payload = action.map(message, values)
        record = action.payload_record(payload)
        secrets = secret_values(values) if settings is not None else []
        return PayloadPreview(action.name, Redactor(secrets).value(record))
    except DestkitError as exc:
        return PayloadPreview(None, error=exc.message)
    except Exception as exc:  # a connector bug must not crash a live preview
        return PayloadPreview(None, error=f"the connector crashed: {type(exc).__name__}")
