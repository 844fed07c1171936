"""SVG snapshots of the main screens (pytest-textual-snapshot).

Deterministic: a stand-in sandbox at a fixed URL, a fixed test user, a fixed messageId and
timestamp, and for the delivered screen a lifecycle record built here with fixed timings.
Update with ``pytest tests/tui --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from sdk import (
    Attempt,
    Exchange,
    Lifecycle,
    Outcome,
    RecordedRequest,
    RecordedResponse,
    RetryDecision,
    Timings,
)
from tester_tui.screens.journey import JourneyScreen
from tests.tui.conftest import STAMP, USER, FixedSandbox, make_app, ready, until

ROOT = Path(__file__).resolve().parents[2]


def _app() -> Any:
    return make_app(sandbox=FixedSandbox, stamp=STAMP)


def delivered_lifecycle() -> Lifecycle:
    """A delivered send after one retry, with fixed ids and timings."""
    event = {
        "messageId": STAMP["messageId"],
        "timestamp": STAMP["timestamp"],
        "userId": USER,
        "type": "track",
        "event": "Audience Entered",
        "integrations": {"All": False, "Sandbox": True},
        "properties": {"j_o_first_purchase__opened_email_6ieugx": True},
    }
    request = RecordedRequest(
        method="POST",
        url="http://127.0.0.1:8787/v1/event",
        headers={"authorization": "Bearer [REDACTED]", "content-type": "application/json"},
        body=event,
        body_kind="json",
    )

    def response(status: int, reason: str, body: Any) -> RecordedResponse:
        return RecordedResponse(
            status=status,
            reason=reason,
            http_version="HTTP/1.1",
            headers={"content-type": "application/json"},
            body=body,
            body_kind="json",
        )

    first = Attempt(number=1, started_at="2026-01-01T00:00:00.010Z")
    first.exchanges.append(
        Exchange(
            request,
            response(503, "Service Unavailable", {"error": "try again"}),
            Timings(connect_ms=0.4, first_byte_ms=2.1, total_ms=2.5),
        )
    )
    first.retry = RetryDecision("retry", "RetryableError is retryable; waiting (backoff)", 0.5)
    second = Attempt(number=2, wait_before_s=0.5, started_at="2026-01-01T00:00:00.520Z")
    second.exchanges.append(
        Exchange(
            request,
            response(200, "OK", {"ok": True, "received": 1}),
            Timings(connect_ms=0.3, first_byte_ms=1.8, total_ms=2.2),
        )
    )
    second.retry = RetryDecision("done", "delivered")
    lifecycle = Lifecycle(
        destination="Sandbox",
        slug="sandbox",
        event=event,
        action="send_event",
        id="lc_snapshot_1",
        started_at="2026-01-01T00:00:00.000Z",
        routing={
            "decision": "delivered",
            "delivered": True,
            "reason": 'integrations["Sandbox"] is true',
        },
        payload=event,
        attempts=[first, second],
    )
    lifecycle.finish(Outcome.DELIVERED)
    lifecycle.finished_at = "2026-01-01T00:00:00.530Z"
    lifecycle.duration_ms = 530.0
    return lifecycle


async def _settle(pilot: Pilot[Any]) -> None:
    await ready(pilot.app, pilot)  # type: ignore[arg-type]


def test_initial_screen_narrow(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_settle)


def test_initial_screen_wide(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=(160, 48), run_before=_settle)


def test_delivered_lifecycle(snap_compare: Any) -> None:
    async def show(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        app = pilot.app
        lifecycle = delivered_lifecycle()
        app.history.append(lifecycle)  # type: ignore[attr-defined]
        app.reopen(0)  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(160, 48), run_before=show)


def test_help_screen(snap_compare: Any) -> None:
    async def show(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(120, 40), run_before=show)


def test_journey_screen_narrow(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journey mode at 80x24 after a preview of the example's eligible user: the Path pane."""
    monkeypatch.chdir(ROOT)  # the file's path is shown relative to the working directory

    async def show(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, JourneyScreen))
        screen = app.screen
        assert isinstance(screen, JourneyScreen)
        await pilot.press("f5")
        await until(pilot, lambda: screen.document is not None)
        await pilot.pause()

    app = make_app(
        sandbox=FixedSandbox, stamp=STAMP, journey_file="examples/journeys/first_purchase.yaml"
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=show)
