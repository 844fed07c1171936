"""The base64 masking finds each core as a literal and widens it to its word: the same result
as the single backtracking pattern it replaced, in time linear in the text."""

from __future__ import annotations

import base64
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sdk.transport._redaction import MASK, Redactor

SECRET = "s3cr3t-api-key-value"


def _old_masking(redactor: Redactor, text: str) -> str:
    """What the single pattern ``[B64]*(?:cores)[B64]*={0,2}`` masked."""
    cores = "|".join(re.escape(c) for c in redactor._cores)
    return re.sub(f"[A-Za-z0-9+/]*(?:{cores})[A-Za-z0-9+/]*={{0,2}}", MASK, text)


REDACTOR = Redactor([SECRET])
CORES = sorted(REDACTOR._cores)
#: Text made of pieces that make base64 words touch, pad and split: cores, base64 runs,
#: padding, separators and the encodings of the secret inside other text.
PIECES = st.one_of(
    st.sampled_from(CORES),
    st.text(alphabet="AZaz09+/", max_size=12),
    st.sampled_from(["=", "==", "===", " ", '"', ":", "-", "_", "\n"]),
    st.builds(
        lambda pre, post: base64.b64encode(f"{pre}{SECRET}{post}".encode()).decode(),
        st.text(alphabet="ab:", max_size=3),
        st.text(alphabet="ab:", max_size=3),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_the_words_masked_are_those_the_single_pattern_masked(text: str) -> None:
    cores = REDACTOR._b64_cores
    assert cores is not None
    assert Redactor._mask_base64_words(text, cores) == _old_masking(REDACTOR, text)


def test_a_basic_credential_inside_a_long_base64_run_is_masked_whole() -> None:
    word = base64.b64encode(f"user:{SECRET}!!".encode()).decode()  # no padding: one run
    assert "=" not in word
    text = "x" * 100_000 + word + "y" * 100_000 + "== tail"
    assert REDACTOR.text(text) == MASK + " tail"
    assert REDACTOR.text("x" * 100_000) == "x" * 100_000
