"""Text from outside (response bodies, vendor error messages, headers, user files) made safe
for the terminal before the tester draws it.

Rich markup escaping is not enough: a response body can carry ESC sequences (colours, cursor
moves, an OSC 52 clipboard write, an OSC 8 link, a window title), C1 controls (``\\x9b`` is a
one-byte CSI) or bidirectional overrides that reorder what is shown. Every such character is
replaced by a visible escape (``\\x1b``, ``\\u202e``), so it is shown, never obeyed. Tabs and
newlines are kept; a carriage return is shown as ``\\r`` (it would overwrite the line).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["safe", "safe_value"]

# C0 controls except tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates,
# line/paragraph separators, and the BOM / zero-width no-break space.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return "\\r"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), never sent to
    the terminal as is."""
    return _UNSAFE.sub(_escape, text)


def safe_value(value: Any) -> Any:
    """``value`` (a decoded JSON document) with every string, key included, made :func:`safe`."""
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, dict):
        return {safe(str(key)): safe_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(item) for item in value]
    return value
