"""A form row: a label beside its input, one line high.

Labels are one line: a form sizes them to its longest label (:func:`label_width`, capped so the
input keeps its room) and a longer one ends in an ellipsis, its full name in the tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

__all__ = ["DEFAULT_LABEL_WIDTH", "MAX_LABEL_WIDTH", "FieldRow", "label_width"]

#: The label column of a form whose labels are all short ("User id", "Journey").
DEFAULT_LABEL_WIDTH = 11
#: The widest label column: the setup pane is 40 columns inside, the input keeps half of it.
MAX_LABEL_WIDTH = 20


def label_width(labels: Iterable[str]) -> int:
    """The label column for ``labels``: the longest one and a space, within the bounds."""
    longest = max((len(label) for label in labels), default=0)
    return max(DEFAULT_LABEL_WIDTH, min(longest + 1, MAX_LABEL_WIDTH))


class FieldRow(Horizontal):
    """``label  [input.............]``; the tooltip explains the field."""

    DEFAULT_CSS = """
    FieldRow {
        height: auto;
        margin-bottom: 0;
        & > .field-label {
            width: 11; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
        }
        & > .field-value { width: 1fr; }
        & > Select SelectCurrent #label { text-wrap: nowrap; text-overflow: ellipsis; }
    }
    """

    def __init__(
        self,
        label: str,
        field: Widget,
        *,
        tooltip: str | None = None,
        width: int | None = None,
        **kwargs: Any,
    ) -> None:
        """``width``: the label column (default 11); a label that does not fit (with a space
        after it) ends in an ellipsis and its tooltip starts with the whole label."""
        columns = DEFAULT_LABEL_WIDTH if width is None else width
        title = Label(label, classes="field-label")
        title.styles.width = columns
        if len(label) >= columns:
            tooltip = f"{label}: {tooltip}" if tooltip else label
        title.tooltip = tooltip
        field.add_class("field-value")
        super().__init__(title, field, **kwargs)
        if tooltip:
            field.tooltip = tooltip
