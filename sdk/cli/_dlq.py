"""``destkit dlq list|show ID|replay|purge``: the dead letters of the delivery service."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["dlq_arguments", "run_dlq"]

T = TypeVar("T")


def _job_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError("must be a dead letter's id (a whole number)")
    return int(text)


def dlq_arguments(parser: argparse.ArgumentParser) -> None:
    """The four commands of ``destkit dlq`` and their arguments."""
    actions = parser.add_subparsers(dest="dlq_command", required=True, parser_class=type(parser))
    listing = actions.add_parser("list", help="dead letters, oldest first")
    listing.add_argument("--destination", help="only this destination")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    show = actions.add_parser("show", help="one dead letter: error, attempts and message")
    show.add_argument("id", type=_job_id)
    replay = actions.add_parser(
        "replay", help="put dead letters back in the queue unchanged (one ID, a destination, --all)"
    )
    replay.add_argument("id", nargs="?", type=_job_id, help="one dead letter")
    replay.add_argument("--destination", help="every dead letter of this destination")
    replay.add_argument("--all", action="store_true", help="every dead letter")
    purge = actions.add_parser("purge", help="forget dead letters (all, or one destination)")
    purge.add_argument("--destination", help="only this destination")
    for parser in (listing, show, replay, purge):
        parser.add_argument("--data", default="./.destkit", help="queue directory (./.destkit)")
        parser.add_argument("--queue", metavar="URL", help="redis://HOST:PORT/DB instead of --data")


def _with_queue(args: argparse.Namespace, call: Callable[[Any], Awaitable[T]]) -> T:
    from sdk.queue import open_queue

    async def run() -> T:
        queue = open_queue(args.queue, args.data, owner=False)
        try:
            return await call(queue)
        finally:
            await queue.close()

    return asyncio.run(run())


def _fail(message: str) -> int:
    print(f"destkit dlq: error: {message}", file=sys.stderr)
    return 2


def run_dlq(args: argparse.Namespace) -> int:
    """Run one dlq command; errors are one line, exit 2."""
    from sdk.queue import QueueError

    if args.queue is None and not (Path(args.data) / "queue.sqlite3").is_file():
        return _fail(f"data: no queue in {args.data}")
    try:
        return _run(args)
    except QueueError as exc:
        return _fail(str(exc))


def _run(args: argparse.Namespace) -> int:
    command = args.dlq_command
    if command == "list":
        if args.limit < 1:
            return _fail("--limit: must be at least 1")
        letters = _with_queue(args, lambda q: q.dead_letters(args.destination, args.limit))
        for letter in letters:
            error = json.dumps(letter.error)[1:-1]  # escaped: it may quote a vendor's answer
            print(
                f"{letter.id}  {letter.destination}  attempts={letter.attempts}  "
                f"message_id={json.dumps(letter.message_id)}  {error}"
            )
        if not letters:
            print("no dead letters")
        return 0
    if command == "show":
        letter = _with_queue(args, lambda q: q.dead_letter(args.id))
        if letter is None:
            return _fail(f"id: no dead letter {args.id}")
        try:
            message = json.loads(letter.body)
        except ValueError:
            message = letter.body.decode("utf-8", "replace")
        print(
            json.dumps(
                {
                    "id": letter.id,
                    "destination": letter.destination,
                    "message_id": letter.message_id,
                    "attempts": letter.attempts,
                    "error": letter.error,
                    "message": message,
                },
                indent=2,
            )
        )
        return 0
    if command == "replay":
        chosen = sum(x is not None and x is not False for x in (args.id, args.destination)) + (
            1 if args.all else 0
        )
        if chosen != 1:
            return _fail("replay: give exactly one of ID, --destination NAME or --all")
        count = _with_queue(args, lambda q: q.replay(args.destination, args.id))
        print(f"replayed {count} dead letter{'s' if count != 1 else ''}")
        return 0
    count = _with_queue(args, lambda q: q.purge(args.destination))
    print(f"purged {count} dead letter{'s' if count != 1 else ''}")
    return 0
