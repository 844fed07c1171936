"""Text from outside made safe to print on a terminal.

A destination's response body, an error message, a vendor's text or a value from a file may hold
control characters: an escape sequence that clears the screen, sets the window title or writes
the clipboard (OSC 52), a carriage return that overwrites a line, a bidi override that reorders
it. :func:`terminal_safe` shows each such character as a visible escape (``\\x1b``, ``\\u202e``)
instead of sending it to the terminal. ``--json`` output needs none of it: JSON escapes them.
"""

from __future__ import annotations

__all__ = ["terminal_safe", "terminal_safe_json"]

#: C0 controls, DEL, C1 controls, and the bidi and line/paragraph separator format characters.
_CONTROLS = [
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0xFEFF,  # a byte-order mark / zero-width no-break space: invisible, so shown
]


def _escape(code: int) -> str:
    if code == 0x0D:
        return "\\r"  # a carriage return would overwrite the line
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE: dict[int, str] = {code: _escape(code) for code in _CONTROLS}
_TABLE_KEEP_LINES: dict[int, str] = {
    code: text for code, text in _TABLE.items() if code not in (0x0A, 0x09)
}


#: For JSON text: what ``json.dumps(..., ensure_ascii=False)`` leaves raw (DEL, C1, bidi and
#: separators; it escapes C0 itself), written as ``\\uXXXX`` escapes, which JSON reads back alike.
_JSON_TABLE: dict[int, str] = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x20}


def terminal_safe_json(text: str) -> str:
    """JSON text (as ``json.dumps`` writes it) with the characters that could still drive a
    terminal written as ``\\uXXXX`` escapes: the same JSON document, safe to print."""
    return text.translate(_JSON_TABLE)


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character (and lone surrogate) shown as an escape.

    With ``keep_newlines`` a line feed and a tab are kept as they are (for a multi-line text
    that destkit itself laid out); everything else that could drive the terminal is escaped.
    """
    safe = text.translate(_TABLE_KEEP_LINES if keep_newlines else _TABLE)
    if not safe.isascii():
        # A lone surrogate (from a non-UTF-8 argument, or "\ud800" in JSON) cannot be encoded.
        safe = safe.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe
