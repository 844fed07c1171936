"""``destkit status``: per destination, what is queued, retrying, delivered, filtered and
dead-lettered, and the age of the oldest pending delivery."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["run_status", "status_arguments"]


def status_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``destkit status``."""
    parser.add_argument("--data", default="./.destkit", help="queue directory (./.destkit)")
    parser.add_argument("--queue", metavar="URL", help="redis://HOST:PORT/DB instead of --data")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def run_status(args: argparse.Namespace) -> int:
    """Print the status table (or JSON); a missing queue is one line, exit 2."""
    from sdk._terminal import terminal_safe
    from sdk.queue import QueueError, open_queue

    if args.queue is None and not (Path(args.data) / "queue.sqlite3").is_file():
        print(f"destkit status: error: data: no queue in {args.data}", file=sys.stderr)
        return 2

    async def read() -> list[Any]:
        queue = open_queue(args.queue, args.data, owner=False)
        try:
            return await queue.status(time.time())
        finally:
            await queue.close()

    try:
        rows = asyncio.run(read())
    except QueueError as exc:
        print(f"destkit status: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = [
            {
                "destination": r.destination,
                "queued": r.queued,
                "retrying": r.retrying,
                "delivered": r.delivered,
                "filtered": r.filtered_total,
                "filtered_by_reason": r.filtered,
                "dead_lettered": r.dead,
                "oldest_pending_age_s": r.oldest_pending_age_s,
            }
            for r in rows
        ]
        print(json.dumps(out, indent=2))
        return 0
    header = ("destination", "queued", "retrying", "delivered", "filtered", "dead", "oldest")
    table = [header] + [
        (
            r.destination,
            str(r.queued),
            str(r.retrying),
            str(r.delivered),
            str(r.filtered_total),
            str(r.dead),
            _age(r.oldest_pending_age_s),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for r in rows:
        for reason, n in sorted(r.filtered.items()):
            print(terminal_safe(f"  {r.destination}: {n} filtered: {reason}"))
    return 0
