"""The journey outline drawn before ``sdk`` loads: read cheaply, within a limit, never trusting
YAML aliases; anything it cannot read is left to ``sdk``'s bounded reader (None)."""

from __future__ import annotations

from pathlib import Path

from tester_tui.journey_outline import MAX_OUTLINE_BYTES, StepOutline, read_outline

JOURNEY = """\
journeys:
  - name: First purchase
    status: published
    steps:
      - {name: Entered, type: entry}
      - {type: wait}
"""


def test_a_journey_file_gives_its_journeys_and_top_level_steps(tmp_path: Path) -> None:
    path = tmp_path / "j.yaml"
    path.write_text(JOURNEY)
    [journey] = read_outline(path) or []
    assert (journey.name, journey.status) == ("First purchase", "published")
    assert journey.steps == (StepOutline("Entered", "entry"), StepOutline("wait", "wait"))


def test_a_file_over_the_limit_is_left_to_sdk(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(JOURNEY + "#" * MAX_OUTLINE_BYTES)
    assert read_outline(path) is None


def test_aliases_and_broken_files_are_left_to_sdk(tmp_path: Path) -> None:
    aliased = tmp_path / "a.yaml"
    aliased.write_text("a: &x [1, 2]\njourneys: [*x]\n")
    broken = tmp_path / "b.yaml"
    broken.write_bytes(b"journeys: [\xff\xfe")
    assert read_outline(aliased) is None
    assert read_outline(broken) is None
    assert read_outline(tmp_path / "missing.yaml") is None
