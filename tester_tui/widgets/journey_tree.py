"""The journey file as a tree: journeys (status, entry and audience rules) -> their ordered
steps with their type; a send-to-destinations step shows its key and its connected destinations
(calls, Trait Enrichment, ID Sync), a send-to-journey step its target journey, a split its two
branches. Enter on a journey chooses it; enter on a step (or any line under it) focuses it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

if TYPE_CHECKING:
    from sdk import Journey, JourneyFile
    from tester_tui.journey_outline import JourneyOutline

__all__ = ["JourneyTree", "NodeData"]

NodeData = dict[str, Any]  # {"journey": name, "path": "steps[1]" or None for the journey}

_MUTED = "grey62"
_WITH_DETAILS = {
    "send_to_destinations",
    "send_to_journey",
    "true_false_split",
    "wait_for_condition",
    "wait",
    "update_traits",
}


def _destination_label(destination: Any) -> Text:
    text = Text.assemble(("→ ", "bold"), (destination.name, "bold"))
    text.append(f"  {', '.join(destination.events)}", style=_MUTED)
    enrich = [
        t.trait if t.target == t.trait else f"{t.trait} as {t.target}"
        for t in destination.trait_enrichment
    ]
    if enrich:
        text.append(f" · enrich {', '.join(enrich)}", style=_MUTED)
    ids = []
    for rule in destination.id_sync:
        limit = f" ≤{rule.limit}" if getattr(rule, "limit", None) else ""
        ids.append(f"{rule.identifier} {rule.strategy}{limit}")
    if ids:
        text.append(f" · ID sync {', '.join(ids)}", style=_MUTED)
    return text


class JourneyTree(Tree[NodeData]):
    """Call :meth:`load` with a loaded ``sdk.JourneyFile`` (or None to empty it)."""

    DEFAULT_CSS = """
    JourneyTree {
        height: 1fr;
        padding: 0;
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("journeys", **kwargs)
        self.show_root = False
        self.auto_expand = False  # enter chooses; space opens and closes
        self.guide_depth = 3

    def render_label(self, node: TreeNode[NodeData], base_style: Style, style: Style) -> Text:
        """The label, cut to the pane's width with an ellipsis: a tree line cannot wrap, and
        a horizontal scrollbar hid the end of every long line anyway. The full detail is in
        the Path and Payloads panes."""
        label = super().render_label(node, base_style, style)
        width = self.scrollable_content_region.width
        if width <= 0:
            return label
        # Each level under the (hidden) root is drawn behind a guide guide_depth cells wide.
        depth, parent = 0, node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        guides = max(0, depth - (0 if self.show_root else 1)) * self.guide_depth
        room = max(width - guides, 4)
        if label.cell_len > room:
            label.truncate(room, overflow="ellipsis")
        return label

    def load(self, file: JourneyFile | None) -> None:
        """Show ``file``'s journeys and steps (everything expanded)."""
        self.clear()
        if file is None:
            return
        statuses: dict[str, str] = {journey.name: journey.status for journey in file.journeys}
        for journey in file.journeys:
            node = self.root.add(
                self._journey_label(journey), data={"journey": journey.name, "path": None}
            )
            self._rules(node, journey)
            self._steps(node, journey.name, journey.steps, "steps", statuses)
            node.expand_all()
        self.cursor_line = 0
        self._measure_again()

    def _measure_again(self) -> None:
        """Cut the labels again once the new lines are laid out: loaded over a shorter tree (the
        outline), they were cut to the width without the vertical scrollbar they now bring."""
        self.call_after_refresh(self._invalidate)

    def watch_show_vertical_scrollbar(self) -> None:
        """The vertical scrollbar came or went: the labels are cut again to the new width."""
        if self.is_mounted:
            self._invalidate()

    def load_outline(self, outline: Sequence[JourneyOutline]) -> None:
        """Show a file's outline (read without ``sdk``) until :meth:`load` replaces it: the
        journeys and their top-level steps, marked as loading; choosing them does nothing."""
        self.clear()
        for journey in outline:
            node = self.root.add(
                Text.assemble((journey.name, "bold"), (f"  {journey.status} · loading…", _MUTED))
            )
            for index, step in enumerate(journey.steps):
                node.add_leaf(
                    Text.assemble(
                        (f"{index + 1}. ", "bold"), (step.label, "bold"), (f"  {step.type}", _MUTED)
                    )
                )
            node.expand()
        self.cursor_line = 0

    @staticmethod
    def _journey_label(journey: Journey) -> Text:
        entry = journey.entry
        how = "real-time" if entry.type == "real_time" else f"scheduled ({entry.schedule})"
        return Text.assemble((journey.name, "bold"), (f"  {journey.status} · {how}", _MUTED))

    @staticmethod
    def _rules(node: TreeNode[NodeData], journey: Journey) -> None:
        data = {"journey": journey.name, "path": None}
        rules: list[tuple[str, str]] = []
        if journey.entry.event is not None:
            rules.append(("entry", journey.entry.event.as_condition().describe()))
        rules += [("entry", c.describe()) for c in journey.entry.conditions]
        rules += [("audience", c.describe()) for c in journey.audience.conditions]
        if not rules:
            rules.append(("entry", "anyone (no entry or audience rule)"))
        for kind, rule in rules:
            node.add_leaf(Text.assemble((f"{kind} ", "italic"), (rule, _MUTED)), data=data)

    def _steps(
        self,
        parent: TreeNode[NodeData],
        journey: str,
        steps: Sequence[Any],
        prefix: str,
        statuses: dict[str, str],
    ) -> None:
        for index, step in enumerate(steps):
            path = f"{prefix}[{index}]"
            data = {"journey": journey, "path": path}
            label = Text.assemble(
                (f"{index + 1}. ", "bold"), (step.label, "bold"), (f"  {step.type}", _MUTED)
            )
            kind = step.type
            if kind not in _WITH_DETAILS:  # exit
                parent.add_leaf(label, data=data)
                continue
            node = parent.add(label, data=data)
            if kind == "send_to_destinations":
                node.add_leaf(Text(f"key {step.key}", style=_MUTED), data=data)
                for destination in step.destinations:
                    node.add_leaf(_destination_label(destination), data=data)
            elif kind == "send_to_journey":
                target = Text.assemble(
                    ("→ journey ", "bold"),
                    (step.journey, "bold"),
                    (f" ({statuses.get(step.journey, '?')}) at its first step", _MUTED),
                )
                node.add_leaf(target, data=data)
                if step.context:
                    context = ", ".join(f"{k}={v}" for k, v in step.context.items())
                    node.add_leaf(Text(f"context {context}", style=_MUTED), data=data)
                node.add_leaf(Text(f"key {step.key}", style=_MUTED), data=data)
            elif kind == "true_false_split":
                condition = step.condition.describe()
                for branch, steps_of in (("if_true", step.if_true), ("if_false", step.if_false)):
                    title = Text.assemble(
                        (f"{branch.replace('_', ' ')} ", "italic"),
                        (condition if branch == "if_true" else "otherwise", _MUTED),
                    )
                    if steps_of:
                        child = node.add(title, data=data)
                        self._steps(child, journey, steps_of, f"{path}.{branch}", statuses)
                    else:
                        title.append(" · goes on", style=_MUTED)
                        node.add_leaf(title, data=data)
            elif kind == "wait_for_condition":
                rule = f"until {step.condition.describe()}"
                if step.max_wait_days is not None:
                    rule += f" · at most {step.max_wait_days:g}d, then {step.on_timeout}"
                node.add_leaf(Text(rule, style=_MUTED), data=data)
            elif kind == "wait":
                parts = [
                    f"{value:g}{unit}"
                    for value, unit in ((step.days, "d"), (step.hours, "h"), (step.minutes, "m"))
                    if value
                ]
                node.add_leaf(Text("for " + " ".join(parts), style=_MUTED), data=data)
            else:  # update_traits
                traits = ", ".join(f"{k}={v}" for k, v in step.traits.items())
                node.add_leaf(Text(f"set {traits}", style=_MUTED), data=data)
