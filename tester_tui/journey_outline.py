"""A journey file's outline (its journeys and their steps), read without ``sdk``.

Journey mode opens before ``sdk`` is loaded (importing it takes most of a second): the outline
lets the step tree show the file at once. It is only a sketch for that instant, never used for
anything else: ``sdk.load_journey_file`` reads and checks the file as soon as ``sdk`` is loaded
and replaces it, and says what is wrong with a bad file. A file the outline cannot read (too
big, YAML aliases, not a mapping of journeys) gets no outline, only the loading state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_OUTLINE_BYTES", "JourneyOutline", "StepOutline", "read_outline"]

#: A bigger file waits for ``sdk``'s bounded reader.
MAX_OUTLINE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class StepOutline:
    """One top-level step: its name (or type) and type."""

    label: str
    type: str


@dataclass(frozen=True, slots=True)
class JourneyOutline:
    """One journey: its name, status and top-level steps."""

    name: str
    status: str
    steps: tuple[StepOutline, ...]


def _text(value: Any, default: str) -> str:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else default


def _outline(document: Any) -> list[JourneyOutline] | None:
    if not isinstance(document, dict) or not isinstance(document.get("journeys"), list):
        return None
    journeys: list[JourneyOutline] = []
    for journey in document["journeys"]:
        if not isinstance(journey, dict):
            return None
        raw_steps = journey.get("steps")
        steps = []
        for step in raw_steps if isinstance(raw_steps, list) else []:
            if not isinstance(step, dict):
                return None
            kind = _text(step.get("type"), "?")
            steps.append(StepOutline(_text(step.get("name"), kind), kind))
        name = _text(journey.get("name"), "?")
        journeys.append(JourneyOutline(name, _text(journey.get("status"), "?"), tuple(steps)))
    return journeys


def read_outline(path: str | Path) -> list[JourneyOutline] | None:
    """The outline of the journey file at ``path`` (YAML or JSON), or None when it cannot be
    read cheaply and safely (``sdk`` then reads it and reports why)."""
    import yaml  # JSON is YAML: one parser for both

    class _NoAliases(yaml.SafeLoader):
        """Refuses aliases: no "billion laughs" before the bounded reader has seen the file."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases are left to sdk's reader")
            return super().compose_node(parent, index)

    try:
        file = Path(path).expanduser()
        if not file.is_file():
            return None
        with file.open("rb") as stream:  # bounded as read: the file may grow after a stat
            raw = stream.read(MAX_OUTLINE_BYTES + 1)
        if len(raw) > MAX_OUTLINE_BYTES:
            return None
        document = yaml.load(raw.decode("utf-8"), Loader=_NoAliases)
    except (OSError, ValueError, yaml.YAMLError, RecursionError):
        return None
    return _outline(document)
