"""Text from outside (response bodies, vendor error messages, headers, user files) made safe
for the terminal before the tester draws it.

Rich markup escaping is not enough: a response body can carry ESC sequences (colours, cursor
moves, an OSC 52 clipboard write, an OSC 8 link, a window title), C1 controls (``\\x9b`` is a
one-byte CSI) or bidirectional overrides that reorder what is shown. Every such character is
replaced by a visible escape (``\\x1b``, ``\\u202e``), so it is shown, never obeyed. Tabs and
newlines are kept; a carriage return is shown as ``\\r`` (it would overwrite the line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["safe", "safe_value"]

#: ``sdk.terminal_safe``, imported on first use: importing ``sdk`` costs most of a second, and
#: the first frame needs none of it (every caller draws a lifecycle, after ``sdk`` is loaded).
_terminal_safe: Callable[..., str] | None = None


def safe(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), never sent to
    the terminal as is: the SDK's :func:`sdk.terminal_safe`, keeping tabs and newlines."""
    global _terminal_safe
    if _terminal_safe is None:
        from sdk import terminal_safe

        _terminal_safe = terminal_safe
    return _terminal_safe(text, keep_newlines=True)


def safe_value(value: Any) -> Any:
    """``value`` (a decoded JSON document) with every string, key included, made :func:`safe`."""
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, dict):
        return {safe(str(key)): safe_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(item) for item in value]
    return value
