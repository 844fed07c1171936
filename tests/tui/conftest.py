"""Helpers for driving the event tester with ``App.run_test()`` and Pilot."""

from __future__ import annotations

import asyncio
import html
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from sdk import RetryPolicy
from sdk.testing import Sandbox
from tester_tui.app import DestkitTester

#: Retries in milliseconds, so fault tests stay fast.
FAST_RETRY = RetryPolicy(initial_backoff=0.01, max_backoff=0.02, jitter=0)
#: Fixed fields for deterministic payloads (snapshots).
STAMP = {"messageId": "destkit-snapshot-0001", "timestamp": "2026-01-01T00:00:00.000Z"}
USER = "test-user-0000snap"

_TEXT = re.compile(
    r'<text[^>]*?\bx="([\d.]+)"[^>]*?clip-path="url\(#[^)]*?-line-(\d+)\)"[^>]*>([^<]*)</text>'
)


def screen_text(app: DestkitTester) -> str:
    """Everything visible on the current screen, as lines of text (from the SVG export)."""
    svg = app.export_screenshot()
    rows: dict[int, dict[int, str]] = defaultdict(dict)
    for x, line, content in _TEXT.findall(svg):
        rows[int(line)][round(float(x) / 12.2)] = html.unescape(content).replace("\xa0", " ")
    lines = []
    for number in sorted(rows):
        text = ""
        for column in sorted(rows[number]):
            text = text.ljust(column) + rows[number][column]
        lines.append(text.rstrip())
    return "\n".join(lines)


def notifications(app: DestkitTester) -> list[str]:
    """The messages of the notifications (toasts) the app has shown and not yet expired."""
    return [notification.message for notification in app._notifications]


class FixedSandbox:
    """A stand-in sandbox at a fixed URL (snapshots must not show a random port)."""

    url = "http://127.0.0.1:8787"

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def make_app(**kwargs: Any) -> DestkitTester:
    """The app with fast retries and a fixed user, on the real sandbox in the test's process
    unless given (``sdk.testing.Sandbox``: no child process to start per test, and its records
    keep credentials unmasked for the tests that check what was sent). The tester's own default,
    the sandbox in a child process, has its tests in ``test_sandbox_process.py``."""
    kwargs.setdefault("sandbox", Sandbox)
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("user_id", USER)
    kwargs.setdefault("environ", {})
    return DestkitTester(**kwargs)


async def ready(app: DestkitTester, pilot: Pilot[Any]) -> None:
    """Wait until sdk is loaded, the sandbox runs and the payload has settled."""
    await asyncio.wait_for(app.ready.wait(), 10)
    # Settled: sendable, or refused by the payload or by the settings (a destination whose
    # required settings are empty, such as the webhook's url, until the test fills them in).
    await until(
        pilot,
        lambda: (
            app.send_blocker() is None
            or app.editor.error is not None
            or app.settings_error is not None
        ),
    )


async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 10) -> None:
    """Let the app run until ``condition()`` is true (fails the test after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await pilot.pause()


async def send_and_wait(app: DestkitTester, pilot: Pilot[Any]) -> None:
    """Press ctrl+s and wait for the lifecycle to finish."""
    before = len(app.history)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: len(app.history) > before)


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return FAST_RETRY
