"""A ``TextArea`` for JSON, syntax highlighted.

With tree-sitter installed (``textual[syntax]``) it is Textual's own JSON language. Without it,
a small tokenizer fills the same highlight names (``json.label``, ``string``, ``number``...), so
the editor looks the same either way.
"""

from __future__ import annotations

import re
from typing import Any

from textual.widgets import TextArea

__all__ = ["JsonTextArea"]

_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*"?)'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<word>true|false|null)"
    r"|(?P<bracket>[\[\]{}])"
    r"|(?P<delimiter>[,:])"
)
_WORDS = {"true": "boolean", "false": "boolean", "null": "json.null"}


def _has_tree_sitter_json() -> bool:
    try:
        from textual._tree_sitter import TREE_SITTER, get_language
    except ImportError:  # pragma: no cover - older or newer Textual layout
        return False
    return bool(TREE_SITTER) and get_language("json") is not None


def json_highlights(line: str) -> list[tuple[int, int, str]]:
    """Highlights of one line as ``(start_byte, end_byte, name)``, as TextArea expects."""
    found: list[tuple[int, int, str]] = []
    for match in _TOKEN.finditer(line):
        kind = match.lastgroup or ""
        start, end = match.span()
        if kind == "string":
            rest = line[end:].lstrip()
            name = "json.label" if rest.startswith(":") else "string"
        elif kind == "word":
            name = _WORDS[match.group()]
        elif kind == "bracket":
            name = "punctuation.bracket"
        elif kind == "delimiter":
            name = "punctuation.delimiter"
        else:
            name = kind
        byte_start = len(line[:start].encode())
        byte_end = byte_start + len(line[start:end].encode())
        found.append((byte_start, byte_end, name))
    return found


class JsonTextArea(TextArea):
    """A code-editor TextArea for one JSON document."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        self._own_highlighter = not _has_tree_sitter_json()
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("tab_behavior", "focus")  # tab leaves the editor
        kwargs.setdefault("show_line_numbers", True)
        super().__init__(text, language=None if self._own_highlighter else "json", **kwargs)

    def _build_highlight_map(self) -> None:
        if not getattr(self, "_own_highlighter", False):
            super()._build_highlight_map()
            return
        # Textual's highlight map is private; fill it the same way tree-sitter would.
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        for row, line in enumerate(self.document.lines):
            highlights[row].extend(json_highlights(line))
