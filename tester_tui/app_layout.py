"""The event tester's layout: one pane at a time below 110 columns (tabs), setup beside the
others below 150, three columns above; f2-f4 show a pane and move the focus into it.

A part of :class:`tester_tui.app.DestkitTester` (its base class).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App
from textual.widgets import Tabs

from tester_tui.panes import focus_pane

if TYPE_CHECKING:
    pass


__all__ = ["MEDIUM_WIDTH", "WIDE_WIDTH", "TesterLayout", "layout_mode"]

_PANES = ("setup", "payload", "lifecycle")
# Where the focus goes in each pane (else its first focusable widget).
_PANE_FOCUS = {"setup": "#destination", "payload": "#payload", "lifecycle": "#lc-attempts"}
# The tester's own actions: switched off while journey mode is open (it binds the same keys).
MEDIUM_WIDTH = 110
WIDE_WIDTH = 150


def layout_mode(width: int) -> str:
    """``narrow``, ``medium`` or ``wide`` for a terminal ``width`` columns wide."""
    if width >= WIDE_WIDTH:
        return "wide"
    return "medium" if width >= MEDIUM_WIDTH else "narrow"


class TesterLayout(App[int]):
    """Panes and tabs (a base class of ``DestkitTester``)."""

    def action_show_pane(self, name: str) -> None:
        """Show ``setup``, ``payload`` or ``lifecycle`` and move the focus into it."""
        self._switch_pane(name, moved=True)

    def _switch_pane(self, name: str, *, moved: bool = False) -> None:
        """Show the pane (a tab where panes take turns); ``moved``: the user asked for it, so
        the focus goes there too (otherwise only when the switch hid the focused widget)."""
        if name not in _PANES:
            return
        tabs = self.screen_stack[0].query_one("#pane-tabs", Tabs)
        target = f"tab-{name}"
        if name == "setup" and self.layout == "medium":
            target = tabs.active  # always shown beside the others: nothing to switch
        tabs.active = target
        self.call_after_refresh(self._focus_pane, name, moved)

    def _focus_pane(self, name: str, moved: bool) -> None:
        if not self._loaded or self.screen is not self.screen_stack[0]:
            return  # the forms are not there yet, or another screen has the keys
        pane = self.screen_stack[0].query_one(f"#pane-{name}")
        focus_pane(self.screen, pane, _PANE_FOCUS[name], moved=moved)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        mode = layout_mode(width)
        if mode == self.layout:
            return
        self.layout = mode
        tabs = self.screen_stack[0].query_one("#pane-tabs", Tabs)
        if mode == "medium":
            if tabs.active in ("", "tab-setup"):
                tabs.active = "tab-payload"
            tabs.hide("tab-setup")
        else:
            tabs.show("tab-setup")

    @on(Tabs.TabActivated, "#pane-tabs")
    def _pane_tab(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-setup").removeprefix("tab-")
        for pane in _PANES:
            self.screen_stack[0].query_one(f"#pane-{pane}").set_class(pane == name, "-current")
        self.call_after_refresh(self._focus_pane, name, False)
