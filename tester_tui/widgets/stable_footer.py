"""A footer whose keys keep their place: the app's and the screen's own bindings first, in the
order of the key tables (:mod:`tester_tui.keys`), whatever widget has the focus; a focused
widget's keys (escape on an open menu) only after them.

Textual's ``Footer`` also lists the focused widget's bindings, first, so the hints move as
the focus moves; keyboard-first users read the footer by position.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["StableFooter", "footer_bindings"]


def footer_bindings(
    active: Iterable[tuple[object, Binding, bool, str]], order: list[str]
) -> list[tuple[Binding, bool, str]]:
    """The shown bindings, one per action: the app's and the screen's ranked by ``order``
    (actions; unknown ones last), then the focused widget's own, as found."""
    chosen: dict[str, tuple[Binding, bool, str]] = {}
    extra: dict[str, tuple[Binding, bool, str]] = {}
    for node, binding, enabled, tooltip in active:
        if binding.show:
            kind = chosen if isinstance(node, App | Screen) else extra
            kind.setdefault(binding.action, (binding, enabled, tooltip))
    rank = {action: index for index, action in enumerate(order)}
    stable = sorted(chosen.values(), key=lambda item: rank.get(item[0].action, len(rank)))
    # The focused widget's own keys (escape closes an open menu) come after, never before.
    return stable + [item for action, item in extra.items() if action not in chosen]


class StableFooter(Footer):
    """``Footer`` with a fixed set and order of keys (``order``: the actions, in order)."""

    def __init__(self, order: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.order = order

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        items = footer_bindings(active.values(), self.order)
        self.styles.grid_size_columns = len(items)
        for binding, enabled, tooltip in items:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
                # Born with its class: set after mounting, it restyles each key again.
                classes="-compact" if self.compact else "",
            ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, tooltip = palette
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )
