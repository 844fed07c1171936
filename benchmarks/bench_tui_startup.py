"""Event tester startup: time from launch to the first frame, side by side with a bare Textual app.

Each run is a fresh interpreter (so imports are paid every time, as for a user), running the app
headless with ``App.run_test()``; the child reports wall-clock times, the parent measured the
launch. Reported: the median of several runs for

- ``import``: ``python -c 'import tester_tui.app'`` vs ``python -c 'import textual.app'``;
- ``first frame``: launch until the first screen refresh (``call_after_refresh`` from
  ``on_mount``), the event tester vs a bare ``App`` showing one ``Static``;
- ``ready``: launch until the tester has loaded ``sdk``, its connectors and the sandbox.

Run: ``python benchmarks/bench_tui_startup.py [--runs 7]``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

_FIRST_FRAME = r"""
import asyncio, json, sys, time
kind = sys.argv[1]
marks = {}
if kind == "tester":
    from tester_tui.app import DestkitTester as Base
else:
    from textual.app import App as Base
    from textual.widgets import Static

class Timed(Base):
    if kind == "bare":
        def compose(self):
            yield Static("hello")

    def on_mount(self):  # Textual also runs the base class's on_mount
        self.call_after_refresh(lambda: marks.setdefault("first_frame", time.time()))

async def main():
    app = Timed() if kind == "bare" else Timed(environ={})
    async with app.run_test(size=(120, 40)) as pilot:
        while "first_frame" not in marks:
            await pilot.pause(0.001)
        if kind == "tester":
            await asyncio.wait_for(app.ready.wait(), 30)
            marks["ready"] = time.time()

asyncio.run(main())
print(json.dumps(marks))
"""


def _launch(args: list[str]) -> tuple[float, dict[str, float]]:
    start = time.time()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, timeout=120
    )
    end = time.time()
    marks: dict[str, float] = {}
    lines = done.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        marks = {key: value - start for key, value in json.loads(lines[-1]).items()}
    return end - start, marks


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    runs = max(1, args.runs)

    imports: dict[str, list[float]] = {"tester": [], "bare": []}
    frames: dict[str, list[float]] = {"tester": [], "bare": []}
    ready: list[float] = []
    for _ in range(runs):
        # Interleave the two so that machine noise hits both alike.
        imports["tester"].append(_launch(["-c", "import tester_tui.app"])[0])
        imports["bare"].append(_launch(["-c", "import textual.app"])[0])
        _, marks = _launch(["-c", _FIRST_FRAME, "tester"])
        frames["tester"].append(marks["first_frame"])
        ready.append(marks["ready"])
        _, marks = _launch(["-c", _FIRST_FRAME, "bare"])
        frames["bare"].append(marks["first_frame"])

    def row(label: str, ours: list[float], peer: list[float] | None) -> str:
        mine = _median(ours)
        if peer is None:
            return f"| {label} | {mine:.3f} s | - | - |"
        theirs = _median(peer)
        return f"| {label} | {mine:.3f} s | {theirs:.3f} s | {mine / theirs:.2f}x |"

    print(f"Event tester startup, median of {runs} runs (Python {sys.version.split()[0]})\n")
    print("| measure | destkit tester | bare Textual app | ratio |")
    print("|---|---|---|---|")
    print(row("import (python -c 'import ...')", imports["tester"], imports["bare"]))
    print(row("launch to first frame", frames["tester"], frames["bare"]))
    print(row("launch to ready (sdk, connectors, sandbox)", ready, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
