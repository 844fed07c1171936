"""A new user's first hour without the test extras: run in a venv with only ``pip install -e .``.

Sends one event to the built-in sandbox with ``destkit send`` (exit 0), runs the contract suite on
it, and drives the event tester headless (Textual's own ``run_test``, no pytest) from launch to the
first ``200 OK`` on screen. A runtime dependency missing from ``pyproject.toml`` fails here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

#: the destkit of the venv running this script, not whatever is first on PATH
DESTKIT = str(Path(sys.executable).with_name("destkit"))


def _run(*args: str) -> None:
    print("+ destkit", " ".join(args), flush=True)
    done = subprocess.run([DESTKIT, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.stdout.write(done.stdout[-4000:])
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"destkit {' '.join(args)} exited {done.returncode}")


async def _tester_to_first_200() -> None:
    from tester_tui.app import DestkitTester

    app = DestkitTester(environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 30)
        deadline = time.monotonic() + 30
        while app.send_blocker() is not None:
            if time.monotonic() > deadline:
                raise SystemExit(f"tester never ready to send: {app.send_blocker()}")
            await pilot.pause(0.05)
        await pilot.press("ctrl+s")
        while not app.history:
            if time.monotonic() > deadline:
                raise SystemExit("tester: no lifecycle within 30 s")
            await pilot.pause(0.05)
        lifecycle = app.lifecycle
        response = lifecycle.last_response if lifecycle else None
        if response is None or response.status_line != "200 OK":
            raise SystemExit(f"tester: expected 200 OK, got {response and response.status_line}")
    print("tester: first send delivered, 200 OK", flush=True)


def _serve_delivers() -> None:
    """``destkit serve --config examples/serve.yaml``: a track answered 200, delivered to the
    built-in sandbox (``destkit status``), and SIGTERM exits 0."""
    import base64
    import json
    import signal
    import tempfile
    import urllib.request

    with tempfile.TemporaryDirectory() as data:
        print("+ destkit serve --config examples/serve.yaml --port 0", flush=True)
        server = subprocess.Popen(
            [DESTKIT, "serve", "--config", "examples/serve.yaml", "--port", "0", "--data", data],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            first = server.stdout.readline().strip()
            if not first.startswith("listening on http://"):
                raise SystemExit(f"serve: unexpected first line {first!r}")
            url = first.removeprefix("listening on ")
            body = json.dumps({"userId": "smoke-user", "event": "Smoke Tested"}).encode()
            request = urllib.request.Request(f"{url}/v1/track", data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            token = base64.b64encode(b"demo-write-key:").decode()
            request.add_header("Authorization", f"Basic {token}")
            with urllib.request.urlopen(request, timeout=30) as answer:
                if answer.status != 200:
                    raise SystemExit(f"serve: /v1/track answered {answer.status}")
            deadline = time.monotonic() + 30
            while True:
                done = subprocess.run(
                    [DESTKIT, "status", "--data", data, "--json"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                rows = json.loads(done.stdout) if done.returncode == 0 else []
                if any(row.get("delivered") == 1 for row in rows):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"serve: not delivered in 30 s: {done.stdout}{done.stderr}")
                time.sleep(0.2)
            server.send_signal(signal.SIGTERM)
            if server.wait(timeout=60) != 0:
                raise SystemExit(f"serve: SIGTERM exit code {server.returncode}")
        finally:
            if server.poll() is None:
                server.kill()
    print("serve: accepted, delivered to the sandbox, stopped cleanly", flush=True)


def main() -> int:
    for module in ("respx", "pytest", "hypothesis"):
        try:
            __import__(module)
        except ImportError:
            continue
        if module != "respx":
            raise SystemExit(f"this smoke test must run without the test extras ({module} found)")
    _run("send", "--destination", "sandbox", "--event-type", "track")
    _run("sandbox", "--help")
    _run("contract", "sandbox")
    _run("connectors")
    _run(
        "journey",
        "preview",
        "examples/journeys/first_purchase.yaml",
        "--user",
        "examples/journeys/users/eligible.json",
    )
    asyncio.run(_tester_to_first_200())
    _serve_delivers()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
