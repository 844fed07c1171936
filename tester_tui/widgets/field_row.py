"""A form row: a fixed-width label beside its input, one line high."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

__all__ = ["FieldRow"]


class FieldRow(Horizontal):
    """``label  [input.............]``; the tooltip explains the field."""

    DEFAULT_CSS = """
    FieldRow {
        height: auto;
        margin-bottom: 0;
        & > .field-label { width: 11; color: $text-muted; }
        & > .field-value { width: 1fr; }
        & > Select SelectCurrent #label { text-wrap: nowrap; text-overflow: ellipsis; }
    }
    """

    def __init__(
        self, label: str, field: Widget, *, tooltip: str | None = None, **kwargs: object
    ) -> None:
        title = Label(label, classes="field-label")
        title.tooltip = tooltip
        field.add_class("field-value")
        super().__init__(title, field, **kwargs)
        if tooltip:
            field.tooltip = tooltip
