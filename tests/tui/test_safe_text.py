"""Outside text never reaches the terminal as control sequences (issue 13, the tester's part)."""

from __future__ import annotations

import pytest

from tester_tui.safe_text import safe, safe_value


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # SGR colour
        ("\x1b]52;c;c2VjcmV0\x07", "\\x1b]52;c;c2VjcmV0\\x07"),  # OSC 52: write the clipboard
        ("\x1b]8;;http://evil\x1b\\link", "\\x1b]8;;http://evil\\x1b\\link"),  # OSC 8 link
        ("\x9b2J", "\\x9b2J"),  # C1 CSI: clear the screen
        ("ok\rFAKE", "ok\\rFAKE"),  # carriage return overwrites the line
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override
        ("tab\tand\nnewline", "tab\tand\nnewline"),  # kept
        ("café ✓ 日本", "café ✓ 日本"),  # printable text untouched
    ],
)
def test_control_characters_are_shown_not_obeyed(raw: str, shown: str) -> None:
    assert safe(raw) == shown


def test_every_string_of_a_document_is_made_safe_keys_included() -> None:
    document = {"\x1bkey": ["\x07bell", {"n": 1, "s": "\x9b"}], "ok": True}
    assert safe_value(document) == {"\\x1bkey": ["\\x07bell", {"n": 1, "s": "\\x9b"}], "ok": True}
