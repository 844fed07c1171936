"""Journey mode's sending: the settings of each destination the preview names, why a send
cannot go (one line), what ctrl+s and f7 send, credentials checks, and the outcome.

A part of :class:`tester_tui.screens.journey.JourneyScreen` (its base class).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.screen import Screen
from textual.widgets import (
    Button,
    Select,
)

from tester_tui.journey_session import (
    Focus,
    delivery_counts,
    send_problem,
    send_settings,
    settings_for,
)
from tester_tui.widgets.journey_send import JourneySend
from tester_tui.widgets.settings_form import SettingsForm

if TYPE_CHECKING:
    from sdk import Destination


__all__ = ["JourneySending"]


class JourneySending(Screen[None]):
    """Settings and sending (a base class of ``JourneyScreen``)."""

    # -- send ------------------------------------------------------------------------------------

    def _destination(self, name: str) -> Destination[Any] | None:
        from sdk import InputError, get_destination

        try:
            return get_destination(name)
        except InputError:
            return None

    def _preview_destinations(self) -> None:
        """The Settings menu follows the preview: one entry per destination it sends to."""
        if self.preview is None:
            self.send_view.set_destinations([], None)
            return
        options: list[tuple[str, str]] = []
        for name in self.preview.destinations:
            destination = self._destination(name)
            if destination is not None:
                options.append((f"{destination.name} ({destination.slug})", destination.slug))
        current = self.send_view.form.destination
        slugs = [slug for _, slug in options]
        if current is not None and current.slug in slugs:
            value: str | None = current.slug
        else:
            value = self._first_missing() or (slugs[0] if slugs else None)
        self.send_view.set_destinations(options, value)
        if value is not None and (current is None or current.slug != value):
            self._show_settings(value)

    def _first_missing(self) -> str | None:
        """The slug of the first destination that lacks a required setting."""
        from sdk import InputError, missing_settings

        if self.preview is None:
            return None
        try:
            missing = missing_settings(self.preview, self._send_settings(), environ={})
        except InputError:
            return None
        if not missing:
            return None
        destination = self._destination(missing[0].rpartition(".")[0])
        return destination.slug if destination is not None else None

    def _values_for(self, destination: Destination[Any]) -> dict[str, Any]:
        tester = self.tester
        return settings_for(
            destination,
            tester.settings_values,
            environ=tester.environ,
            file_values=tester._file_values,
            sandbox_url=tester.sandbox_url,
        )

    def _show_settings(self, slug: str) -> None:
        destination = self.tester.destinations.get(slug) or self._destination(slug)
        if destination is None:
            return
        values = self._values_for(destination)
        self.run_worker(
            self.send_view.form.load(destination, values), group="journey-settings", exclusive=True
        )

    @on(Select.Changed, "#js-destination")
    def _settings_destination(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        form = self.send_view.form
        if form.destination is None or form.destination.slug != event.value:
            self._show_settings(str(event.value))

    def on_settings_form_changed(self, message: SettingsForm.Changed) -> None:
        # Kept in the tester's store (by slug): the tester and journey mode share settings.
        message.stop()
        self.tester.settings_values[message.slug] = message.values
        self._update_send_status()

    def _send_settings(self, step: Focus | None = None) -> dict[str, dict[str, Any]]:
        assert self.preview is not None
        tester = self.tester
        return send_settings(
            self.preview,
            tester.settings_values,
            environ=tester.environ,
            file_values=tester._file_values,
            sandbox_url=tester.sandbox_url,
            step=step,
        )

    def send_target(self, *, whole: bool = False) -> Focus | None:
        """The step whose events ctrl+s sends (the focused one), or None: the whole journey
        (always, with ``whole``: f7)."""
        return None if whole else self.focus_step

    def send_blocker(self, *, whole: bool = False) -> str | None:
        """Why ctrl+s (f7 with ``whole``) cannot send now (one line naming what is missing),
        or None."""
        from sdk import InputError

        if self.previewing:
            return "previewing…"
        if self.preview is None:
            return "preview first (f5)"
        if self.stale:
            return "the preview is out of date: f5 previews again"
        if self.sending:
            return "sending…"
        if not self.preview.messages:
            return "this preview sends no events (no send-to-destinations step was reached)"
        step = self.send_target(whole=whole)
        if step is not None and not self.preview.messages_of(step):
            return (
                f"the focused step ({self._step_name(step)}) sends no events in this preview: "
                "f7 sends the whole journey"
            )
        try:
            settings = self._send_settings(step)
        except InputError as exc:
            return exc.message
        for name, values in settings.items():
            destination = self._destination(name)
            if (
                destination is not None
                and destination.slug == "sandbox"
                and not values.get("endpoint")
                and not self.tester._sandbox_settled.is_set()
            ):
                return "starting the sandbox…"
        return send_problem(self.preview, settings, step)

    def send_plan(self, *, whole: bool = False) -> str:
        """What ctrl+s (f7 with ``whole``) sends, in words: ``the focused step's 5 events
        (Opened Email) to Webhook, Sandbox``."""
        assert self.preview is not None
        step = self.send_target(whole=whole)
        count = len(self.preview.messages_of(step))
        events = f"{count} event{'s' if count != 1 else ''}"
        names = ", ".join(self.preview.destinations_of(step))
        if step is None:
            return f"the whole journey's {events} to {names}"
        return f"the focused step's {events} ({self._step_name(step)}) to {names}"

    def _update_send_status(self) -> None:
        if not self.is_mounted:
            return
        self.refresh_bindings()  # the footer says whether ctrl+s sends the step or the journey
        view = self.send_view
        if self.sending:
            view.set_status("sending…")
            return
        if self.preview is None and not self.previewing:
            view.set_status("Preview first (f5): the destinations come from the preview.")
            return
        blocker = self.send_blocker()
        whole = ""
        if self.focus_step is not None and self.preview is not None and not self.previewing:
            total = len(self.preview.messages)
            whole = f"; f7 sends the whole journey ({total} event{'s' if total != 1 else ''})"
        if blocker is not None:
            view.set_status(blocker + (whole if "f7" not in blocker else ""), "error")
            return
        view.set_status(
            f"ctrl+s sends {self.send_plan()}: each delivers its own and filters out the "
            f"others'{whole}",
            "ok",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ctrl+s is "Send step" with a step focused and "Send all" (the whole journey)
        without; f7 ("Send all") is there only while a step is focused (else ctrl+s does the
        same)."""
        if action == "send" and parameters:
            return (parameters[0] == "step") == (self.focus_step is not None)
        if action == "send_journey":
            return self.focus_step is not None
        return True

    def action_send(self, what: str = "step") -> None:
        """Send the focused step's events (``step``) or every event of the preview
        (``journey``), each to every destination they name."""
        whole = what == "journey" or self.focus_step is None
        blocker = self.send_blocker(whole=whole)
        if blocker is not None:
            self.send_view.set_status(blocker, "error")
            self.notify(f"Send refused: {blocker}", severity="error", markup=False)
            if blocker.startswith("missing "):  # where to fill them in: the settings tab
                self._show_pane("send")
                self.send_view.show_tab("settings")
            return
        assert self.preview is not None
        step = self.send_target(whole=whole)
        settings = self._send_settings(step)
        plan = self.send_plan(whole=whole)
        self.sending = True
        self._update_send_status()
        self.send_view.set_status(f"sending {plan}…")
        self._show_pane("send")
        self.send_view.send(self.preview, settings, step, self.tester.retry)

    def action_send_journey(self) -> None:
        """Send every event of the preview, even with a step focused."""
        self.action_send("journey")

    def action_check_credentials(self) -> None:
        """Check the credentials of the destination whose settings are shown."""
        from sdk import InputError

        form = self.send_view.form
        if form.destination is None:
            self.notify("preview first: the destinations come from the preview", severity="warning")
            return
        if self.sending:
            return
        try:
            settings = form.settings()
        except InputError as exc:
            self.send_view.set_status(f"{form.destination.name}.{exc.message}", "error")
            return
        self.sending = True
        self._show_pane("send")
        self.send_view.check(form.destination, settings, self.tester.retry)

    @on(Button.Pressed, "#check-credentials")
    def _check_pressed(self, event: Button.Pressed) -> None:
        event.stop()  # the tester's own handler would check the tester's destination
        self.action_check_credentials()

    @on(JourneySend.Finished)
    def _send_finished(self, message: JourneySend.Finished) -> None:
        message.stop()
        self.sending = False
        if not self.is_mounted:
            return
        view = self.send_view
        if message.error is not None:
            self._update_send_status()
            view.set_status(message.error, "error")
            self.notify(message.error, title="Send", severity="error")
            return
        self.tester.history.extend(message.lifecycles)  # ctrl+o in the tester reopens them
        failed = [
            lc for lc in message.lifecycles if lc.outcome.value not in ("delivered", "filtered")
        ]
        if message.kind == "auth":
            ok = bool(message.lifecycles) and message.lifecycles[0].delivered
            text = "credentials accepted" if ok else "credentials refused (see the lifecycle)"
            view.set_status(text, "ok" if ok else "error")
            return
        parts = []
        for destination, per in delivery_counts(message.lifecycles).items():
            parts.append(f"{destination} " + ", ".join(f"{n} {o}" for o, n in per.items()))
        summary = "; ".join(parts)
        if failed:
            view.set_status(f"{len(failed)} failed · {summary}", "error")
            self.notify(summary, title="Some deliveries failed", severity="error")
        else:
            view.set_status(f"sent · {summary}", "ok")
            self.notify(summary, title="Sent")
