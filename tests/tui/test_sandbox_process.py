"""The tester's default sandbox runs in a child process (issue 11: in the UI's process it shared
the GIL with the drawing). Real child processes, real loopback HTTP, faults through the control
endpoints."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest

from sdk.testing import Faults
from tester_tui.app import DestkitTester
from tester_tui.sandbox_process import SandboxProcess
from tests.tui.conftest import FAST_RETRY, USER, send_and_wait, until

SIZE = (120, 40)


def test_the_child_serves_records_injects_faults_and_stops() -> None:
    sandbox = SandboxProcess().start()
    try:
        assert sandbox.running and sandbox.url.startswith("http://127.0.0.1:")
        answer = httpx.post(
            f"{sandbox.url}/v1/event",
            json={"type": "track"},
            headers={"Authorization": "Bearer k-123"},
        )
        assert answer.status_code == 200
        [recorded] = sandbox.requests
        assert recorded.method == "POST" and recorded.path == "/v1/event"
        assert recorded.json == {"type": "track"} and recorded.status == 200
        assert "k-123" not in json.dumps(recorded.to_dict())  # the control endpoint masks it

        sandbox.set_faults(Faults(sequence=[503, 200]))
        assert list(sandbox.faults.sequence) == [503, 200]
        assert httpx.post(f"{sandbox.url}/v1/event", json={}).status_code == 503
        assert httpx.post(f"{sandbox.url}/v1/event", json={}).status_code == 200
        sandbox.set_faults(None)
        sandbox.clear()
        assert sandbox.requests == []
    finally:
        process = sandbox._process
        sandbox.stop()
    assert process is not None and process.poll() is not None  # the child is gone
    assert not sandbox.running
    sandbox.stop()  # idempotent


def test_a_bad_fault_plan_is_refused_with_the_sandbox_s_reason() -> None:
    sandbox = SandboxProcess().start()
    try:
        try:
            sandbox._control("PUT", "faults", {"status": "soon"})
        except ValueError as exc:
            assert "400" in str(exc) and "status" in str(exc)
        else:
            raise AssertionError("a bad plan was accepted")
    finally:
        sandbox.stop()


def test_a_child_that_cannot_start_is_an_error_with_its_last_words() -> None:
    sandbox = SandboxProcess()
    sandbox.command = [
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('Traceback...\\nModuleNotFoundError: no x\\n'); sys.exit(1)",
    ]
    with pytest.raises(RuntimeError, match=r"^ModuleNotFoundError: no x$"):
        sandbox.start()
    assert not sandbox.running


async def test_the_tester_starts_it_sends_to_it_with_faults_and_stops_it() -> None:
    app = DestkitTester(retry=FAST_RETRY, user_id=USER, environ={})  # the default sandbox
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(app.ready.wait(), 60)
        await until(pilot, lambda: app.send_blocker() is None)
        sandbox = app.sandbox
        assert isinstance(sandbox, SandboxProcess) and sandbox.running
        assert app.sandbox_url == sandbox.url

        await send_and_wait(app, pilot)
        assert app.lifecycle is not None and app.lifecycle.delivered
        assert app.lifecycle.last_response is not None
        assert app.lifecycle.last_response.status_line == "200 OK"

        # Fault injection from the test, through the child's control endpoint.
        sandbox.set_faults(Faults(sequence=[503, 503, 200]))
        await until(pilot, lambda: app.send_blocker() is None)
        await send_and_wait(app, pilot)
        assert app.lifecycle is not None and app.lifecycle.delivered
        statuses = [a.last_response.status for a in app.lifecycle.attempts if a.last_response]
        assert statuses == [503, 503, 200]
        assert [r.status for r in sandbox.requests] == [200, 503, 503, 200]
        process = sandbox._process
    assert app.sandbox is None  # stopped on exit
    assert process is not None and process.poll() is not None
