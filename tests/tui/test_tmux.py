"""The real thing in a real terminal: ``destkit tester`` in a detached tmux session of 120x40,
ctrl+s, and ``200 OK`` on the screen; journey mode at 80x24, f5, and the preview on the screen.
Skipped where tmux is not installed."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


# pytest (and CI) may export COLUMNS/LINES, which Textual prefers to the real terminal size.
_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}


def _tmux(socket: str, *args: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=20, env=_ENV
    )
    return done.stdout


def _wait_for(socket: str, session: str, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux(socket, "capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear; the screen was:\n{screen}")


def _start(socket: str, session: str, cwd: Path, size: tuple[int, int], *args: str) -> None:
    command = " ".join(shlex.quote(part) for part in (sys.executable, "-m", "sdk.cli", *args))
    subprocess.run(
        [
            "tmux",
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            "-c",
            str(cwd),
            "-e",
            "TERM=xterm-256color",
            command,
        ],
        check=True,
        timeout=20,
        env=_ENV,
    )


def test_tester_in_tmux_sends_an_event_and_shows_200_ok(tmp_path: Path) -> None:
    socket = f"destkit-test-{uuid.uuid4().hex[:8]}"  # a private tmux server, never the user's
    session = "tester"
    try:
        _start(socket, session, tmp_path, (120, 40), "tester")
        _wait_for(socket, session, "to Sandbox", timeout=30)  # loaded, sandbox running
        _tmux(socket, "send-keys", "-t", session, "C-s")
        screen = _wait_for(socket, session, "200 OK", timeout=30)
        assert "delivered" in screen
        _tmux(socket, "send-keys", "-t", session, "C-q")
    finally:
        _tmux(socket, "kill-server")


def test_journey_mode_in_tmux_at_80x24_previews_the_example() -> None:
    root = Path(__file__).resolve().parents[2]
    socket = f"destkit-test-{uuid.uuid4().hex[:8]}"
    session = "journeys"
    try:
        _start(
            socket,
            session,
            root,
            (80, 24),
            "tester",
            "--journey-file",
            "examples/journeys/first_purchase.yaml",
        )
        _wait_for(socket, session, "2 journeys", timeout=30)  # the file loaded
        _tmux(socket, "send-keys", "-t", session, "F5")
        screen = _wait_for(socket, session, "Enters Loyalty Welcome", timeout=30)
        assert "First Purchase" in screen
        _tmux(socket, "send-keys", "-t", session, "C-s")  # Webhook and Segment need settings
        _tmux(socket, "send-keys", "-t", session, "F6")
        _wait_for(socket, session, "missing Webhook.url", timeout=30)
        _tmux(socket, "send-keys", "-t", session, "C-q")
    finally:
        _tmux(socket, "kill-server")
