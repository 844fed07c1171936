"""Profile a destkit row of ``bench_peers.py`` in one process, against a loopback sink
started here: where the per-event microseconds go. ``--row batched`` (the default: ``stream`` +
``segment`` on the default carrier; ``batched-aiohttp``: the same on aiohttp directly) or
``--row webhook`` (``stream`` + ``webhook``, one event per request, concurrency 8); ``--row
aiohttp`` runs the per-event peer the same way, for comparison.

Run: ``python benchmarks/profile_batched.py [--row batched|batched-aiohttp|webhook] [--events N]
[--top 30] [--sort tottime] [--out FILE.prof]`` (``--no-profile`` times the row without the
profiler: events/s and CPU µs/event). ``--general`` turns the stream's fused path off (every
event prepared by the general path, as before it), ``--both`` times the two alternately in one
process (``--no-profile``): the fused path's gain, measured under the same load.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


#: ``--row`` choices: the ``bench_peers`` row each profiles.
_ROWS = {
    "batched": "row_destkit_batched",
    "batched-aiohttp": "row_destkit_batched_aiohttp",  # the same on the direct aiohttp carrier
    "webhook": "row_destkit_webhook",
    "aiohttp": "row_aiohttp_event",  # the per-event peer, for a same-run comparison
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", choices=sorted(_ROWS), default="batched")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--out", help="also write the raw profile here (for snakeviz, pstats)")
    parser.add_argument("--no-profile", action="store_true", help="time only")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs (best kept)")
    parser.add_argument("--general", action="store_true", help="without the fused path")
    parser.add_argument("--both", action="store_true", help="fused and general, alternately")
    args = parser.parse_args(argv)

    import bench_peers

    row = getattr(bench_peers, _ROWS[args.row])

    for module in bench_peers._IMPORTS["destkit"]:
        __import__(module)
    sink = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "benchmarks", "_sink.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        url = sink.stdout.readline().split()[-1]
        if args.no_profile:
            # CPU seconds of this process are steadier than wall time on a shared machine.
            modes = ["fused", "general"] if args.both else ["general" if args.general else "fused"]
            best = dict.fromkeys(modes, 0.0)
            best_cpu = dict.fromkeys(modes, float("inf"))
            for _ in range(args.repeats):
                for mode in modes:
                    _fused_path(mode == "fused")
                    start, cpu = time.perf_counter(), time.process_time()
                    done = row(url, args.events)
                    rate = done / (time.perf_counter() - start)
                    cpu_us = (time.process_time() - cpu) / done * 1e6
                    best[mode], best_cpu[mode] = max(best[mode], rate), min(best_cpu[mode], cpu_us)
                    label = f"{mode}: " if args.both else ""
                    print(f"{label}{done} delivered, {rate:,.0f} ev/s, {cpu_us:.1f} CPU µs/event")
            for mode in modes:
                label = f" {mode}:" if args.both else ""
                print(f"best{label} {best[mode]:,.0f} ev/s, {best_cpu[mode]:.1f} CPU µs/event")
            return 0
        _fused_path(not args.general)
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        done = row(url, args.events)
        profile.disable()
        seconds = time.perf_counter() - start
        print(f"{done} delivered in {seconds:.2f} s under the profiler")
        if args.out:
            profile.dump_stats(args.out)
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    finally:
        sink.kill()
    return 0


def _fused_path(on: bool) -> None:
    """Let streams take the fused path (the default), or not (``sdk.delivery._fused``)."""
    from sdk.delivery import _fused, _stream

    _stream.lanes_of = _fused.lanes_of if on else (lambda engine: None)  # type: ignore[assignment]


if __name__ == "__main__":
    raise SystemExit(main())
