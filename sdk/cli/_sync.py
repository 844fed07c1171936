"""``destkit sync --destination D --audience NAME --users FILE``: a list sync from a file of
users, streamed.

``FILE`` is JSON Lines (``-`` for standard input), one user per line: ``user_id`` (or
``userId``), optionally ``anonymous_id``, and the user's traits (``email``, ``phone``...). Each
user becomes the ``Audience Entered`` identify event the audience sends (``--exit``: ``Audience
Exited``), delivered in bulk (:class:`sdk.delivery._bulk.ListSyncRun`: what all users share is
decided once, each user is only read, identified, hashed and added to a chunk): users are read
as they are sent, so memory stays flat however long the file; a line longer than
``--max-line-bytes`` or not a JSON object stops the sync with one line naming it (exit 2).
Identifiers left out of the upload are counted per field and rule in the summary (``notes``).

Progress goes to standard error: a bar with rate and ETA on a terminal, a plain line every few
seconds otherwise; the summary goes to standard output (``--json``: one JSON object). Exit 0
when every user was delivered or filtered, 1 when one failed (the first failures are listed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import re
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import orjson

__all__ = ["run_sync", "sync_arguments", "user_rows"]

#: Longest line of the users file read by default (bytes).
MAX_LINE_BYTES = 64 * 1024
#: Failures listed in the summary.
_SHOWN_FAILURES = 5


def sync_arguments(parser: argparse.ArgumentParser) -> None:
    """``destkit sync``'s arguments."""
    parser.add_argument("--destination", required=True, help="slug or name (a list destination)")
    parser.add_argument("--audience", required=True, help="audience name (its key is the list)")
    parser.add_argument("--users", required=True, help="JSON Lines file of users, or - for stdin")
    parser.add_argument("--space", default="spa_destkit_cli", help="space id (spa_...)")
    parser.add_argument("--exit", action="store_true", help="remove the users (Audience Exited)")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="KEY=VALUE", help="a setting"
    )
    parser.add_argument("--settings-file", help="JSON or YAML file of settings")
    parser.add_argument(
        "--max-line-bytes", type=int, default=MAX_LINE_BYTES, help="longest line accepted"
    )
    parser.add_argument(
        "--http",
        choices=["auto", "direct", "aiohttp", "httpx"],
        default="auto",
        help="HTTP carrier (auto: the lean HTTP/1.1 carrier, httpx behind a proxy)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


#: A run of digits long enough to be an integer orjson reads as a float (past 64 bits).
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def user_rows(lines: IO[bytes], *, max_line: int) -> Iterator[tuple[Any, Any, dict[str, Any], int]]:
    """``(user_id, anonymous_id, traits, line_bytes)`` for each line of ``lines``, read as
    ``destkit sync`` has always read them (the same errors, the same ids taken out of the traits).
    Lines are parsed by orjson; one it refuses, or one with a run of 19 digits (an integer
    orjson would read as a float), is parsed by ``json`` as before, and its ``line_bytes`` is
    -1 (the bulk sync then validates that user in full)."""
    from sdk._errors import InvalidEvent

    number = 0
    while True:
        line = lines.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            raise InvalidEvent(f"users line {number}", f"is longer than {max_line} bytes")
        if not line.strip():
            continue
        size = len(line)
        try:
            if _LONG_DIGITS.search(line) is not None:
                raise orjson.JSONDecodeError("long integer", "", 0)
            user = orjson.loads(line)
        except orjson.JSONDecodeError:
            size = -1
            try:
                user = json.loads(line)
            except (ValueError, RecursionError):
                raise InvalidEvent(f"users line {number}", "is not valid JSON") from None
        if not isinstance(user, dict):
            raise InvalidEvent(f"users line {number}", "must be a JSON object (one user)")
        user_id = user.pop("user_id", None) or user.pop("userId", None)
        anonymous_id = user.pop("anonymous_id", None) or user.pop("anonymousId", None)
        if user_id is None and anonymous_id is None:
            raise InvalidEvent(f"users line {number}", "needs a user_id or an anonymous_id")
        yield user_id, anonymous_id, user, size


class _Progress:
    """A rich progress bar on a terminal; a plain line every ``every`` seconds otherwise."""

    def __init__(self, total: int | None, out: IO[str], every: float = 5.0) -> None:
        self._total = total
        self._out = out
        self._every = every
        self._started = time.monotonic()
        self._last = self._started
        self.done = 0
        self._bar: Any = None
        if out.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("sync"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.speed:,.0f} users/s" if total else ""),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=out),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("sync", total=total)

    def advance(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            print(self.line(now), file=self._out, flush=True)

    def line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        text = f"sync: {self.done:,} users"
        if self._total:
            left = (self._total - self.done) / rate if rate else 0.0
            text += f" of {self._total:,} ({self.done / self._total:.0%}), ETA {left:,.0f}s"
        return text + f", {rate:,.0f}/s"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Fewer cyclic garbage collections while users stream through: the objects a sync makes
    per user (dicts, strings, members) hold no cycles and are freed by reference counting,
    while each collection of the oldest generation walks every chunk in flight (a tenth of the
    run's time, measured). What is alive when the sync starts is frozen out of the walks; the
    collector's settings are restored after."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), thresholds[1], max(thresholds[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _count_lines(path: str) -> int | None:
    try:
        with open(path, "rb") as file:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    except OSError:
        return None


async def _deliver(
    destination: Any,
    settings: dict[str, Any],
    template: dict[str, Any],
    key: str,
    rows: Iterator[tuple[Any, Any, dict[str, Any], int]],
    args: Any,
    progress: _Progress,
) -> dict[str, Any]:
    from sdk.delivery._async import AsyncDelivery
    from sdk.delivery._bulk import ListSyncRun
    from sdk.transport._lifecycle import Outcome

    by_outcome = dict.fromkeys(Outcome, 0)
    failures: list[str] = []
    async with AsyncDelivery(destination, settings, http=args.http) as delivery:
        run = ListSyncRun(delivery, template, key, rows, record="none")
        try:
            while results := await run.next_results():
                for result in results:
                    by_outcome[result.outcome] += 1
                    if result.error is not None and len(failures) < _SHOWN_FAILURES:
                        failures.append(f"{result.message_id}: {result.error.message}")
                progress.advance(len(results))
        finally:
            await run.aclose()
    counts = {outcome.value: count for outcome, count in by_outcome.items()}
    return {"counts": counts, "failures": failures, "notes": dict(run.notes.most_common())}


def run_sync(args: argparse.Namespace) -> int:
    """Run ``destkit sync``; input errors propagate as ``InputError`` (one line, exit 2)."""
    from sdk._errors import InvalidSettings
    from sdk.cli._send import settings_values
    from sdk.connector._registry import get_destination
    from sdk.connector._settings import load_settings
    from sdk.engage._spaces import Space

    if args.max_line_bytes < 2:
        raise InvalidSettings("max-line-bytes", "must be at least 2")
    from sdk.cli._parser import key_value

    args.setting = [key_value(text) for text in args.setting]
    destination = get_destination(args.destination)
    values = settings_values(args)
    settings = load_settings(destination.settings, values, slug=destination.slug)
    audience = Space(args.space).audience(args.audience, destinations=[destination.name])
    template = audience.event("identify", user_id="placeholder", entered=not args.exit).to_wire()
    started = time.monotonic()
    total = None if args.users == "-" else _count_lines(args.users)
    progress = _Progress(total, sys.stderr)
    try:
        source: IO[bytes] = sys.stdin.buffer if args.users == "-" else open(args.users, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InvalidSettings("users", f"cannot read {args.users}: {exc.strerror}") from None
    try:
        rows = user_rows(source, max_line=args.max_line_bytes)
        with _few_collections():
            summary = asyncio.run(
                _deliver(destination, settings, template, audience.key, rows, args, progress)
            )
    finally:
        progress.close()
        if source is not sys.stdin.buffer:
            source.close()
    seconds = time.monotonic() - started
    counts = summary["counts"]
    users = sum(counts.values())
    failed = counts["failed: permanent"] + counts["failed: retryable exhausted"]
    if args.json:
        print(json.dumps({"users": users, "seconds": round(seconds, 3), **summary}))
    else:
        print(
            f"synced {users:,} users in {seconds:,.1f}s ({users / max(seconds, 1e-9):,.0f}/s): "
            f"{counts['delivered']:,} delivered, {counts['filtered']:,} filtered, "
            f"{failed:,} failed"
        )
        for line in summary["failures"]:
            print(f"  failed: {line}")
        for note, users in summary["notes"].items():
            print(f"  note: {note} ({users:,} users)")
    return 1 if failed else 0
