"""The event tester's sending: ctrl+s and ctrl+t run a delivery in a worker, its lifecycle is
drawn as it changes (in-between states only when it is slow), and the outcome is said once.

A part of :class:`tester_tui.app.DestkitTester` (its base class), kept apart so each module
stays one concern; the state it reads (forms, editor, lifecycle view) is the app's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App
from textual.widgets import Button

from tester_tui.lifecycle_render import error_line
from tester_tui.messages import DeliveryFinished, LifecycleUpdated
from tester_tui.session import (
    new_event_ids,
)

if TYPE_CHECKING:
    from sdk import Destination, DestinationSettings, Lifecycle


__all__ = ["TesterDelivery"]

#: A delivery's in-between states wait this long (seconds) before they are drawn.
_PROGRESS_DELAY = 0.1


class TesterDelivery(App[int]):
    """Sending and checking credentials (a base class of ``DestkitTester``)."""

    # -- sending -----------------------------------------------------------------------------

    def action_send(self) -> None:
        """Send the payload, unless something refuses it (then say what)."""
        blocker = self.send_blocker()
        if blocker is not None:
            self.notify(f"Send refused: {blocker}", severity="error")
            return
        assert self.destination is not None and self.editor.event is not None
        settings = self.settings_form.settings()
        self._deliver(self.destination, settings, self.editor.event, "send")

    def action_check_credentials(self) -> None:
        """Run the destination's ``test_authentication`` call."""
        if self.destination is None or self.sending:
            return
        if self.settings_error:
            self.notify(f"settings: {self.settings_error}", severity="error")
            return
        self._deliver(self.destination, self.settings_form.settings(), None, "auth")

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#check-credentials")
    def _check_pressed(self) -> None:
        self.action_check_credentials()

    @work(exclusive=True, group="delivery", exit_on_error=False)
    async def _deliver(
        self,
        destination: Destination[Any],
        settings: DestinationSettings,
        event: dict[str, Any] | None,
        kind: str,
    ) -> None:
        from sdk import AsyncDelivery, Redactor, secret_values

        # No redraw before the request goes: a second ctrl+s is refused by send_blocker, and
        # a send slower than _PROGRESS_DELAY shows its progress (and disables Send) then.
        self.sending = True
        self._switch_pane("lifecycle")

        def on_update(lifecycle: Lifecycle) -> None:
            self.post_message(LifecycleUpdated(lifecycle))

        try:
            async with AsyncDelivery(
                destination,
                settings,
                retry=self.retry,
                on_update=on_update,
                transport=self.transport.get(),
            ) as delivery:
                if kind == "auth":
                    lifecycle = await delivery.test_authentication()
                else:
                    assert event is not None
                    lifecycle = await delivery.send(event)
        except Exception as exc:  # a connector or runtime bug must not take the UI down
            text = Redactor(secret_values(settings)).text(f"{type(exc).__name__}: {exc}")
            self.notify(text, title="Send crashed", severity="error", timeout=10)
            return
        finally:
            self.sending = False
            self._update_send_state()
        self.post_message(DeliveryFinished(lifecycle, kind))

    def on_lifecycle_updated(self, message: LifecycleUpdated) -> None:
        """A step of the running delivery. A loopback send is over in a few milliseconds: its
        in-between states are drawn only if it takes longer than ``_PROGRESS_DELAY`` (then at
        most that often), so the final state is the first frame drawn, not the fourth."""
        if not self.is_running:  # a message after the widgets are gone
            return
        self.lifecycle = message.lifecycle
        if message.lifecycle.outcome.value != "pending":
            self.lifecycle_view.show(message.lifecycle)
        elif self._progress_timer is None:
            self._progress_timer = self.set_timer(_PROGRESS_DELAY, self._draw_progress)

    def _draw_progress(self) -> None:
        self._progress_timer = None
        if self.is_running and self.lifecycle is not None:
            self._update_send_state()
            self.lifecycle_view.show(self.lifecycle)

    def on_delivery_finished(self, message: DeliveryFinished) -> None:
        lifecycle = message.lifecycle
        self.history.append(lifecycle)
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        self.lifecycle = lifecycle
        self.lifecycle_view.show(lifecycle)
        if message.kind == "send" and not self.editor.dirty:
            self._event_ids = new_event_ids()  # the next send is a new message
            # After the outcome's frame: the payload is rebuilt (and checked) right behind it.
            self.call_after_refresh(self._rebuild_payload)
        if message.kind == "auth":
            self._credentials_checked(lifecycle)
        elif lifecycle.delivered:
            pass  # the lifecycle pane says so (a toast per success costs a frame, and hides)
        elif lifecycle.outcome.value == "filtered":
            self.notify("filtered at destination", title="Not sent", severity="warning")
        else:
            detail = error_line(lifecycle)
            self.notify(detail, title=lifecycle.outcome.value, severity="error", markup=False)

    def _credentials_checked(self, lifecycle: Lifecycle) -> None:
        """Say how the check went, in a toast and beside the settings (it stays there)."""
        from datetime import datetime

        destination = self.destinations.get(lifecycle.slug)
        name = destination.name if destination is not None else lifecycle.destination
        when = datetime.now().strftime("%H:%M:%S")
        if lifecycle.delivered:
            text, ok = "credentials accepted", True
        else:
            text, ok = f"credentials refused: {error_line(lifecycle)}", False
        self.settings_form.set_check(lifecycle.slug, f"{name}: {text} · checked {when}", ok)
        severity = "information" if ok else "error"
        self.notify(text, title="Check credentials", severity=severity, markup=False)
