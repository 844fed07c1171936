"""Moving the focus to a pane, shared by the tester and journey mode.

Both show one pane at a time on narrow terminals (tabs) and several side by side on wide ones.
Showing a pane by its key (f2, f3, ...) moves the focus into it, so the next key goes there;
showing one for another reason (a send shows the lifecycle) moves the focus only when the
focused widget was hidden by the switch, so nobody loses their place in a pane still on screen.
"""

from __future__ import annotations

from typing import Any

from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget

__all__ = ["focus_pane", "on_screen"]


def on_screen(widget: Widget) -> bool:
    """True when ``widget`` and every container around it are displayed."""
    return all(node.display for node in widget.ancestors_with_self)


def focus_pane(screen: Screen[Any], pane: Widget, preferred: str | None, *, moved: bool) -> None:
    """Focus ``preferred`` (a selector inside ``pane``), else the first focusable widget of
    ``pane``, else ``pane`` itself when it can take the focus.

    ``moved``: the user asked for the pane (its key); otherwise the focus moves only if the
    switch hid it. Nothing happens when the focus is inside ``pane`` already; when ``pane``
    has nothing to focus (an empty lifecycle), no widget keeps the focus.
    """
    focused = screen.focused
    if focused is not None and pane in focused.ancestors_with_self:
        return
    if not moved and focused is not None and on_screen(focused):
        return
    target: Widget | None = None
    if preferred is not None:
        try:
            candidate = pane.query_one(preferred)
        except NoMatches:
            candidate = None
        if candidate is not None and candidate.focusable and on_screen(candidate):
            target = candidate
    if target is None:
        target = next(
            (widget for widget in screen.focus_chain if pane in widget.ancestors_with_self), None
        )
    if target is None and pane.focusable:
        target = pane
    if target is not None:
        target.focus()
    elif focused is not None:
        screen.set_focus(None)  # nothing to focus there: typing must not go to a hidden field
