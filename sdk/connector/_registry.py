"""The connector registry: built-in connectors, entry-point plugins, and ones registered in code.

Built-in connectors live in ``connectors/<slug>/`` and expose a module-level ``destination``.
Another package adds its own through the ``destkit.connectors`` entry-point group (each entry
point loads a :class:`~sdk.Destination`).
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Any

from sdk._errors import UnknownDestination
from sdk.connector._destination import Destination

__all__ = ["all_destinations", "broken_connectors", "get_destination", "register"]

_registered: dict[str, Destination[Any]] = {}
#: Connectors that failed to import, with the reason (shown instead of crashing).
_broken: dict[str, str] = {}
_discovered = False


def register(destination: Destination[Any]) -> Destination[Any]:
    """Add a destination to the registry (a later one with the same slug replaces it)."""
    _registered[destination.slug] = destination
    return destination


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    try:
        package = importlib.import_module("connectors")
    except ImportError:
        package = None
    if package is not None:
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if not info.ispkg or info.name.startswith("_"):
                continue
            try:
                module = importlib.import_module(f"connectors.{info.name}")
            except Exception as exc:  # one broken connector must not hide the others
                _broken[info.name] = f"{type(exc).__name__}: {exc}"
                continue
            destination = getattr(module, "destination", None)
            if isinstance(destination, Destination):
                _registered.setdefault(destination.slug, destination)
    for entry in entry_points(group="destkit.connectors"):
        loaded = entry.load()
        if isinstance(loaded, Destination):
            _registered.setdefault(loaded.slug, loaded)


def all_destinations() -> list[Destination[Any]]:
    """Every known destination, sorted by slug."""
    _discover()
    return [_registered[slug] for slug in sorted(_registered)]


def get_destination(name: str) -> Destination[Any]:
    """A destination by slug (``braze``) or by its integrations name (``Braze``)."""
    _discover()
    if name in _registered:
        return _registered[name]
    for destination in _registered.values():
        if destination.name == name or destination.name.lower() == name.lower():
            return destination
    if name in _broken:
        raise UnknownDestination(f"{name} (it failed to load: {_broken[name]})")
    raise UnknownDestination(name, list(_registered))


def broken_connectors() -> dict[str, str]:
    """Connectors that failed to import, with the reason."""
    _discover()
    return dict(_broken)
