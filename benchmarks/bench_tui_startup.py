"""Event tester speed, side by side with a bare Textual app in the same run.

Each run is a fresh interpreter (so imports are paid every time, as for a user), running the app
headless with ``App.run_test()`` and Pilot; the child reports wall-clock times, the parent
measured the launch. Reported: the median of several runs for

- ``import``: ``python -c 'import tester_tui.app'`` vs ``python -c 'import textual.app'``;
- ``first frame``: launch until the first screen refresh (``call_after_refresh`` from
  ``on_mount``), the event tester vs a bare ``App`` showing one ``Static``;
- ``journey screen``: ``destkit tester --journey-file examples/journeys/first_purchase.yaml``
  from launch until journey mode's first frame (the file's outline, read without ``sdk``), vs
  the bare app's first frame; ``journey file loaded``: until the frame after ``sdk`` has read
  and checked the file (the full step tree, the user, the journey menu);
- ``ready``: launch until the tester has loaded ``sdk``, its connectors and the sandbox;
- ``send``: ctrl+s handled until the first frame showing ``200 OK`` is drawn (the frame after
  the lifecycle update that says delivered), with the built-in sandbox (loopback HTTP), median
  of ``--sends`` sends per run; the peer is a bare Textual app whose ctrl+s POSTs the same
  event with plain httpx to the same kind of sandbox the tester starts (its own process since
  issue 11; it was in the app's process before) and shows the status line.

Run: ``python benchmarks/bench_tui_startup.py [--runs 5] [--sends 15]``. Prints a Markdown
table. The machine may be shared: read the ratios, and note ``uptime`` with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "journeys" / "first_purchase.yaml"

_CHILD = r"""
import asyncio, json, statistics, sys, time
kind, journey, sends = sys.argv[1], sys.argv[2], int(sys.argv[3])
marks = {}
send_times = []
if kind == "tester":
    from tester_tui.app import DestkitTester as Base
else:
    from textual.app import App as Base
    from textual.widgets import Static


def painted(name):
    # After the next refresh: the frame that shows it has been drawn.
    return lambda: marks.setdefault(name, time.time())


if kind == "tester":
    from tester_tui.screens.journey import JourneyScreen

    class TimedJourney(JourneyScreen):
        def on_mount(self):  # Textual also runs JourneyScreen's own on_mount
            self.call_after_refresh(painted("journey"))
            self.run_worker(self._loaded())

        async def _loaded(self):
            # The file read and checked by sdk (after the outline), and drawn.
            settled = getattr(self, "file_settled", None)  # before issue 11: loaded at mount
            if settled is not None:
                await settled.wait()
            self.call_after_refresh(painted("journey_loaded"))

    # The tester's own open_journey (it imports the screen class when it runs) opens this one.
    import tester_tui.screens.journey

    tester_tui.screens.journey.JourneyScreen = TimedJourney

    class Timed(Base):
        def on_mount(self):  # Textual also runs the base class's on_mount
            self.call_after_refresh(painted("first_frame"))

        def action_send(self):
            marks["key"] = time.perf_counter()
            super().action_send()

        def on_lifecycle_updated(self, message):
            # No super() call: Textual runs every class's handler (the base's right after this
            # one, which draws the lifecycle), so calling it here too would draw it twice.
            if message.lifecycle.delivered and "key" in marks:
                start = marks.pop("key")  # the first update that says 200 OK, once per send
                self.call_after_refresh(lambda: send_times.append(time.perf_counter() - start))

else:
    import httpx

    class Timed(Base):
        BINDINGS = [("ctrl+s", "send", "Send")]

        def compose(self):
            yield Static("hello", id="status")

        def on_mount(self):
            self.call_after_refresh(painted("first_frame"))

        async def action_send(self):
            start = time.perf_counter()
            response = await self.client.post(self.url, json=self.event)
            line = f"{response.status_code} {response.reason_phrase}"
            self.query_one("#status", Static).update(line)
            self.call_after_refresh(lambda: send_times.append(time.perf_counter() - start))


async def main():
    if kind == "tester":
        app = Timed(environ={}, journey_file=journey or None)
    else:
        app = Timed()
    async with app.run_test(size=(120, 40)) as pilot:
        wanted = "journey" if journey else "first_frame"
        while wanted not in marks:
            await pilot.pause(0.001)
        if kind == "tester":
            await asyncio.wait_for(app.ready.wait(), 30)
            marks["ready"] = time.time()
            if journey:
                while "journey_loaded" not in marks:
                    await pilot.pause(0.001)
                return
        else:
            from sdk.engage import TestEventSpec, TestEventType
            from tester_tui.app_sandbox import default_sandbox
            from tester_tui.session import new_event_ids, payload_text

            sandbox = default_sandbox()  # the tester's own kind of sandbox
            sandbox.start()
            app.url = sandbox.url + "/v1/event"
            spec = TestEventSpec(
                event_type=TestEventType.AUDIENCE_ENTERED, user_id="u", destination="Sandbox",
                journey="First Purchase", step="Opened Email",
            )
            app.event = json.loads(payload_text(spec, route=True, ids=new_event_ids()))
            app.client = httpx.AsyncClient()
        try:
            for _ in range(sends):
                before = len(send_times)
                history = len(app.history) if kind == "tester" else 0
                await pilot.press("ctrl+s")
                while len(send_times) == before:
                    await pilot.pause(0.001)
                if kind == "tester":  # the delivery over, the payload rebuilt for the next
                    while len(app.history) == history or app.send_blocker() is not None:
                        await pilot.pause(0.001)
                await pilot.pause(0.05)
        finally:
            if kind != "tester":
                await app.client.aclose()
                sandbox.stop()

asyncio.run(main())
if send_times:
    marks["send"] = statistics.median(send_times)
print(json.dumps(marks))
"""


def _launch(args: list[str]) -> tuple[float, dict[str, float]]:
    start = time.time()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    end = time.time()
    if done.returncode != 0:
        raise SystemExit(f"a benchmark child failed:\n{done.stderr[-3000:]}")
    marks: dict[str, float] = {}
    lines = done.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        for key, value in json.loads(lines[-1]).items():
            marks[key] = value if key == "send" else value - start
    return end - start, marks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sends", type=int, default=15)
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    sends = str(max(1, args.sends))

    imports: dict[str, list[float]] = {"tester": [], "bare": []}
    frames: dict[str, list[float]] = {"tester": [], "bare": []}
    send: dict[str, list[float]] = {"tester": [], "bare": []}
    journey: list[float] = []
    journey_loaded: list[float] = []
    ready: list[float] = []
    for _ in range(runs):
        # Interleave the two so that machine noise hits both alike.
        imports["tester"].append(_launch(["-c", "import tester_tui.app"])[0])
        imports["bare"].append(_launch(["-c", "import textual.app"])[0])
        _, marks = _launch(["-c", _CHILD, "tester", "", sends])
        frames["tester"].append(marks["first_frame"])
        ready.append(marks["ready"])
        send["tester"].append(marks["send"])
        _, marks = _launch(["-c", _CHILD, "bare", "", sends])
        frames["bare"].append(marks["first_frame"])
        send["bare"].append(marks["send"])
        _, marks = _launch(["-c", _CHILD, "tester", str(EXAMPLE), "0"])
        journey.append(marks["journey"])
        journey_loaded.append(marks["journey_loaded"])

    def row(label: str, ours: list[float], peer: list[float] | None, unit: str = "s") -> str:
        scale, fmt = (1000.0, "{:.1f} ms") if unit == "ms" else (1.0, "{:.3f} s")
        mine = statistics.median(ours)
        if peer is None:
            return f"| {label} | {fmt.format(mine * scale)} | - | - |"
        theirs = statistics.median(peer)
        return (
            f"| {label} | {fmt.format(mine * scale)} | {fmt.format(theirs * scale)} "
            f"| {mine / theirs:.2f}x |"
        )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Event tester speed, median of {runs} runs ({sends} sends each), "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f}\n"
    )
    print("| measure | destkit tester | bare Textual app | ratio |")
    print("|---|---|---|---|")
    print(row("import (python -c 'import ...')", imports["tester"], imports["bare"]))
    print(row("launch to first frame", frames["tester"], frames["bare"]))
    print(row("launch to journey screen (first_purchase.yaml)", journey, frames["bare"]))
    print(row("launch to journey file loaded by sdk, drawn", journey_loaded, frames["bare"]))
    print(row("launch to ready (sdk, connectors, sandbox)", ready, None))
    print(row("ctrl+s to 200 OK drawn (built-in sandbox)", send["tester"], send["bare"], "ms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
