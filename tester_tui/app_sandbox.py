"""The event tester's built-in sandbox: a child process (:mod:`tester_tui.sandbox_process`)
started right after the first frame, its URL put in the sandbox destination's endpoint,
stopped on exit.

A part of :class:`tester_tui.app.DestkitTester` (its base class).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Protocol

from textual import work
from textual.app import App

from tester_tui.messages import SandboxStarted

if TYPE_CHECKING:
    pass


__all__ = ["SandboxServer", "TesterSandbox", "default_sandbox"]


class SandboxServer(Protocol):
    """What the tester needs of a sandbox (``SandboxProcess``, or ``sdk.testing.Sandbox``)."""

    url: str

    def start(self) -> Any: ...

    def stop(self) -> Any: ...


def default_sandbox() -> SandboxServer:
    """The real loopback sandbox, in its own process (it never shares the UI's GIL)."""
    from tester_tui.sandbox_process import SandboxProcess

    return SandboxProcess()


class TesterSandbox(App[int]):
    """The sandbox's life (a base class of ``DestkitTester``)."""

    @work(thread=True, exclusive=True, group="sandbox", exit_on_error=False)
    def _start_sandbox(self) -> None:
        assert self._sandbox_factory is not None
        try:
            server = self._sandbox_factory()
            server.start()
        except Exception as exc:  # ImportError while it is being written, a port in use...
            self.post_message(SandboxStarted(None, f"{type(exc).__name__}: {exc}"))
            return
        self.sandbox = server
        if not self.is_running:
            self.stop_sandbox()
            return
        self.post_message(SandboxStarted(server.url))

    def stop_sandbox(self) -> None:
        """Stop the sandbox (idempotent)."""
        server, self.sandbox = self.sandbox, None
        if server is not None:
            with contextlib.suppress(Exception):  # stopping must never crash the exit
                server.stop()

    def on_sandbox_started(self, message: SandboxStarted) -> None:
        if message.url is None:
            self.sandbox_error = message.error
            self.notify(
                f"the sandbox did not start ({message.error}); set its endpoint by hand",
                title="Sandbox",
                severity="error",
                timeout=10,
            )
        else:
            self.sandbox_url = message.url
            self._apply_sandbox_endpoint()
        self._sandbox_settled.set()
        self._update_send_state()
        journey = self._journey_screen
        if journey is not None and journey.is_mounted:  # its send line waits for it too
            journey._update_send_status()

    def _apply_sandbox_endpoint(self) -> None:
        """Point the sandbox destination at the running sandbox, unless an endpoint is set."""
        if not self.is_running or not self._loaded:  # no form (yet, or any more)
            return
        url = self.sandbox_url
        if url is None:
            return
        form = self.settings_form
        if form.destination is not None and form.destination.slug == "sandbox":
            form.set_value("endpoint", url, only_if_empty=True)
        elif "sandbox" in self.settings_values:
            self.settings_values["sandbox"].setdefault("endpoint", url)
