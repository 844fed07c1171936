"""The list map path: what ``facebook_custom_audiences`` does per event before any request.

Maps N ``Audience Entered`` events (email, phone, first name, userId) with the connector's
``ListAction.map`` and, side by side in the same run, its parts and a peer:

- ``map``: the whole map (membership, list choice, identifiers read, normalised and hashed once);
- ``user_identifiers``: reading the identifiers (``sdk.engage``);
- ``membership_of``: reading the membership (``sdk.engage``);
- ``identifiers``: the connector's normalise + hash of the identifiers already read;
- peer ``hashlib``: the irreducible work, ``strip().lower()`` and SHA-256 of the same three
  values and the row dict, in plain Python.

Reports microseconds per event and each row's ratio to the peer (the ratios are what to compare
between runs; absolute figures move with the machine's load). ``--profile`` adds a cProfile of
the whole map, sorted by internal time.

    python benchmarks/bench_list_map.py --events 100000
    python benchmarks/bench_list_map.py --events 100000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import time
from collections.abc import Callable
from typing import Any

import sdk
from connectors.facebook_custom_audiences import destination
from sdk.connector import ListUser, Skipped, load_settings
from sdk.engage import membership_of, user_identifiers


def _events(count: int) -> list[Any]:
    audience = sdk.Space("spa_bench").audience("Big Spenders", destinations=[destination.name])
    return [
        audience.event(
            "track",
            user_id=f"u{i}",
            extra={
                "email": f"User{i}@Example.com",
                "phone": "+1 415 555 0100",
                "first_name": "Ada",
            },
        )
        for i in range(count)
    ]


def _peer(rows: list[tuple[str, str, str, str]]) -> None:
    for email, phone, name, user in rows:
        {
            "EMAIL": hashlib.sha256(email.strip().lower().encode()).hexdigest(),
            "PHONE": hashlib.sha256(phone.encode()).hexdigest(),
            "FN": hashlib.sha256(name.strip().lower().encode()).hexdigest(),
            "EXTERN_ID": user,
        }


def _best(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    events = _events(args.events)
    settings = load_settings(
        destination.settings, {"access_token": "bench-token-0001", "audience_id": "123"}
    )
    action: Any = destination.actions[0]
    users = [ListUser.of(event) for event in events]
    rows = [(f"User{i}@Example.com", "14155550100", "Ada", f"u{i}") for i in range(args.events)]
    table = {
        "map (whole)": lambda: [action.map(e, settings) for e in events],
        "user_identifiers (sdk.engage)": lambda: [user_identifiers(e) for e in events],
        "membership_of (sdk.engage)": lambda: [membership_of(e) for e in events],
        "identifiers: normalise + hash": lambda: [
            action.identifiers(u, settings, Skipped()) for u in users
        ],
        "peer: hashlib of the same values": lambda: _peer(rows),
    }
    timings = {name: _best(fn, args.repeats) / args.events * 1e6 for name, fn in table.items()}
    peer = timings["peer: hashlib of the same values"]
    print(f"| path ({args.events:,} events, best of {args.repeats}) | us/event | x peer |")
    print("|---|---:|---:|")
    for name, micros in timings.items():
        print(f"| {name} | {micros:.1f} | {micros / peer:.1f} |")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for event in events:
            action.map(event, settings)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
