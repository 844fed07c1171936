"""Journey events per second: build, validate and serialize, side by side with pydantic and orjson.

Rows, all in the same run, in one thread (``--cpu N`` also pins the process to one CPU):

- ``sdk build+validate+serialize``: ``JourneyStep.event("track", user_id=...)`` (builds the
  ``Audience Entered`` event with ``context.personas`` and the integrations object; the ``Track``
  model validates it on construction) then ``message_to_json`` (the wire bytes, 32 KB check
  included). This is the row the target applies to.
- ``sdk parse+serialize``: the ingest path: ``parse_message`` of the wire dict, then
  ``message_to_json``.
- ``pydantic validate+dump``: a minimal equivalent pydantic model (the same fields, no
  discriminated union, no defaults to fill): ``model_validate`` of the same wire dict, then
  ``model_dump_json``. Also each half alone.
- ``orjson.dumps``: the same wire dict to JSON bytes, no validation (skipped when orjson is not
  installed: ``pip install -e '.[bench]'``).

The reference rows start from ready-made dicts (one per event, built before timing); the sdk build
row starts from a user id. Each row: a warm-up, then the best of ``--repeats`` timed passes over
``--events`` events with ``time.perf_counter``; the passes of all rows are interleaved so that a
change in machine load hits every row alike.

Run: ``python benchmarks/bench_events.py [--events 50000] [--repeats 5] [--json] [--profile]
[--cpu N]``.
Prints a Markdown table with each row's ratio to the pydantic and orjson references.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict

from sdk import JourneyStep, Space, message_to_json, parse_message

try:
    import orjson
except ImportError:  # the ``bench`` extra is not installed
    orjson = None

#: The goal for the sdk build row (issue #2), events per second on one core.
TARGET_EVENTS_PER_SECOND = 200_000
SDK_ROW = "sdk build+validate+serialize"
PYDANTIC_ROW = "pydantic validate+dump"
ORJSON_ROW = "orjson.dumps"


class ReferenceTrack(BaseModel):
    """The same document as the sdk's ``Track``, as plain a pydantic model as it gets."""

    model_config = ConfigDict(extra="allow")

    type: Literal["track"]
    event: str
    # Wire names as field names: no alias machinery in the reference.
    userId: str
    messageId: str
    timestamp: datetime
    context: dict[str, Any]
    integrations: dict[str, bool]
    properties: dict[str, Any]


def journey_step() -> JourneyStep:
    """One "Send to destinations" step with two connected destinations."""
    space = Space("spa_bench")
    return space.step(
        "First Purchase",
        "Opened Email",
        step_id="stp_bench",
        audience_id="aud_bench",
        destinations=["Braze", "Amplitude"],
    )


def warm_up(work: Callable[[int], object], events: int) -> None:
    """Run a path a little before timing it (caches, lazy imports, schema builds)."""
    for index in range(min(events, 2_000)):
        work(index)


def time_pass(work: Callable[[int], object], events: int) -> float:
    """Seconds for one pass of ``events`` calls."""
    gc.collect()
    start = time.perf_counter()
    for index in range(events):
        work(index)
    return time.perf_counter() - start


def measure(
    rows: dict[str, Callable[[int], object]], events: int, repeats: int
) -> dict[str, float]:
    """Best events/s of each row. Passes are interleaved (row A, row B, ..., then again), so a
    change in machine load during the run hits every row alike and the ratios stay fair."""
    for work in rows.values():
        warm_up(work, events)
    best = dict.fromkeys(rows, float("inf"))
    for _ in range(repeats):
        for name, work in rows.items():
            best[name] = min(best[name], time_pass(work, events))
    return {name: events / seconds for name, seconds in best.items()}


def build_rows(events: int) -> dict[str, Callable[[int], object]]:
    """The timed paths, each a function of the event's index."""
    step = journey_step()
    user_ids = [f"user-{index}" for index in range(events)]
    documents = [step.event("track", user_id=user_id).to_wire() for user_id in user_ids]
    ReferenceTrack.model_validate(documents[0])  # the reference accepts the sdk's wire form
    models = [ReferenceTrack.model_validate(document) for document in documents]

    def sdk_build(index: int) -> bytes:
        return message_to_json(step.event("track", user_id=user_ids[index]))

    def sdk_parse(index: int) -> bytes:
        return message_to_json(parse_message(documents[index]))

    def pydantic_both(index: int) -> str:
        return ReferenceTrack.model_validate(documents[index]).model_dump_json()

    def pydantic_validate(index: int) -> object:
        return ReferenceTrack.model_validate(documents[index])

    def pydantic_dump(index: int) -> str:
        return models[index].model_dump_json()

    rows: dict[str, Callable[[int], object]] = {
        SDK_ROW: sdk_build,
        "sdk parse+serialize": sdk_parse,
        PYDANTIC_ROW: pydantic_both,
        "pydantic model_validate alone": pydantic_validate,
        "pydantic model_dump_json alone": pydantic_dump,
    }
    if orjson is not None:
        dumps = orjson.dumps

        def orjson_dumps(index: int) -> bytes:
            return dumps(documents[index])

        rows[ORJSON_ROW] = orjson_dumps
    return rows


def pin_to_cpu(cpu: int | None) -> str:
    """Pin the process to one CPU when asked (the paths are single-threaded either way)."""
    if cpu is None:
        return "one thread, not pinned"
    if not hasattr(os, "sched_setaffinity"):
        return "one thread, not pinned (no sched_setaffinity here)"
    os.sched_setaffinity(0, {cpu})
    return f"one thread, pinned to CPU {cpu}"


def run(events: int, repeats: int, cpu: int | None = None) -> dict[str, Any]:
    """Time every row; the result is what ``--json`` prints."""
    pinned = pin_to_cpu(cpu)
    figures = measure(build_rows(events), events, repeats)
    return {
        "benchmark": "journey events: build, validate, serialize",
        "events": events,
        "repeats": repeats,
        "cpu": pinned,
        "python": platform.python_version(),
        "pydantic": pydantic.VERSION,
        "orjson": getattr(orjson, "__version__", None),
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "meets_target": figures[SDK_ROW] >= TARGET_EVENTS_PER_SECOND,
        "rows": [
            {
                "name": name,
                "events_per_second": round(rate),
                "microseconds_per_event": round(1e6 / rate, 3),
                "vs_pydantic": round(rate / figures[PYDANTIC_ROW], 3),
                "vs_orjson": (
                    round(rate / figures[ORJSON_ROW], 3) if ORJSON_ROW in figures else None
                ),
            }
            for name, rate in figures.items()
        ],
        "skipped": [] if orjson is not None else [f"{ORJSON_ROW} (orjson not installed)"],
    }


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table, with the target line under it."""
    lines = [
        f"Journey events, {result['events']:,} events, best of {result['repeats']} "
        f"(Python {result['python']}, pydantic {result['pydantic']}, "
        f"orjson {result['orjson'] or 'absent'}; {result['cpu']})",
        "",
        "| path | events/s | µs/event | × pydantic validate+dump | × orjson.dumps |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        vs_orjson = "n/a" if row["vs_orjson"] is None else f"{row['vs_orjson']:.2f}"
        lines.append(
            f"| {row['name']} | {row['events_per_second']:,} | "
            f"{row['microseconds_per_event']:.2f} | {row['vs_pydantic']:.2f} | {vs_orjson} |"
        )
    for skipped in result["skipped"]:
        lines.append(f"| {skipped} | skipped | | | |")
    sdk_rate = next(r["events_per_second"] for r in result["rows"] if r["name"] == SDK_ROW)
    verdict = "meets" if result["meets_target"] else "BELOW"
    lines += [
        "",
        f"Target: {TARGET_EVENTS_PER_SECOND:,} events/s for '{SDK_ROW}': "
        f"{sdk_rate:,} events/s ({verdict} target).",
    ]
    return "\n".join(lines)


def profile(events: int, top: int = 15) -> str:
    """cProfile of the sdk build row, sorted by own time."""
    work = build_rows(events)[SDK_ROW]
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(events):
        work(index)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per timed pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU (Linux)")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of the sdk build row"
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeats < 1:
        parser.error("--events and --repeats must be at least 1")
    result = run(args.events, args.repeats, args.cpu)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    if args.profile:
        print(profile(args.events), file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
