"""``destkit serve``: run the delivery service until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

__all__ = ["SERVE_DESCRIPTION", "default_ingest_processes", "run_serve", "serve_arguments"]

DEFAULT_DATA = "./.destkit"


SERVE_DESCRIPTION = (
    "Accept Segment messages over HTTP (POST /v1/track, /v1/batch...), commit them to a queue "
    "in --data, and deliver them to the configured destinations (on SQLite, from a worker "
    "process it starts beside itself, restarted if it dies); ingest is served by several "
    "processes on the port (--ingest-processes). Prints "
    "'listening on http://HOST:PORT' first; SIGTERM stops it (exit 0)."
)


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``destkit serve``."""
    from sdk.cli._parser import port

    parser.add_argument("--config", required=True, help="YAML file of sources and destinations")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=port, default=8088, help="0 to 65535 (0: any free port)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="queue directory (./.destkit)")
    parser.add_argument(
        "--queue",
        metavar="URL",
        help="redis://HOST:PORT/DB: a Redis Streams queue shared by many nodes (not --data)",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="with --queue redis://: ingest only; destkit worker processes deliver",
    )
    parser.add_argument(
        "--worker-processes",
        type=_processes,
        default=None,
        metavar="N",
        help="SQLite: worker processes delivering beside the server, sharing the lanes (default: "
        f"one a CPU, at most {_MAX_DEFAULT}; 0: deliver from the server's own process)",
    )
    parser.add_argument(
        "--ingest-processes",
        type=_ingest_processes,
        default=None,
        metavar="N",
        help="processes serving ingest on the port, committing to the same queue (default: "
        f"one a CPU, at most {_MAX_INGEST}, on Linux: one Python process is bound to one core at "
        "about 9 us of CPU a message, more use the other cores when they are free; 1: ingest "
        "in the server's process only)",
    )


#: Worker processes by default: one a CPU, no more than this (each is a Python process).
_MAX_DEFAULT = 4
#: Ingest processes by default: one a CPU, no more than this; and at most.
_MAX_INGEST = 4
_MOST_INGEST = 64


def _ingest_processes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _MOST_INGEST:
        raise argparse.ArgumentTypeError(f"must be a whole number 1 to {_MOST_INGEST}")
    return value


def _processes(text: str) -> int:
    from sdk.queue import LANES

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= LANES:
        raise argparse.ArgumentTypeError(f"must be a whole number 0 to {LANES}")
    return value


def default_ingest_processes() -> int:
    """``--ingest-processes`` when not given: one a CPU, at most :data:`_MAX_INGEST`, on Linux
    (whose ``SO_REUSEPORT`` spreads connections over the processes; elsewhere 1)."""
    if not sys.platform.startswith("linux"):
        return 1
    return min(os.cpu_count() or 1, _MAX_INGEST)


def run_serve(args: argparse.Namespace) -> int:
    """Load the config, open the queue, serve until a signal; one-line errors, exit 2."""
    from sdk._errors import InputError
    from sdk.queue import QueueError, is_redis, open_queue
    from sdk.service import Service, ServiceLog, load_config, settle_collector

    if args.no_worker and not is_redis(args.queue):
        print("destkit serve: error: --no-worker: only with --queue redis://", file=sys.stderr)
        return 2
    processes = args.worker_processes
    if processes and is_redis(args.queue):
        print(
            "destkit serve: error: --worker-processes: only with SQLite "
            "(with --queue redis://, run destkit worker processes)",
            file=sys.stderr,
        )
        return 2
    if processes is None:
        processes = 0 if is_redis(args.queue) else min(os.cpu_count() or 1, _MAX_DEFAULT)
    ingest = args.ingest_processes
    if ingest is None:
        ingest = default_ingest_processes()
    log = ServiceLog()
    try:
        config = load_config(args.config)
    except InputError as exc:
        print(f"destkit serve: error: {exc.message}", file=sys.stderr)
        return 2
    log.event(
        "config_loaded",
        file=args.config,
        sources=len(config.sources),
        destinations=len(config.destinations),
    )
    try:
        queue = open_queue(args.queue, args.data, durability=config.delivery.durability)
        service = Service(
            config,
            args.data,
            queue=queue,
            log=log,
            workers=not args.no_worker,
            worker_processes=processes,
            ingest_processes=ingest,
            queue_url=args.queue if is_redis(args.queue) else None,
        )
    except QueueError as exc:
        print(f"destkit serve: error: {exc}", file=sys.stderr)
        return 2

    def listening(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        print(f"listening on http://{shown}:{port}", flush=True)

    try:
        settle_collector()
        asyncio.run(service.serve(args.host, args.port, listening))
    except OSError as exc:
        print(f"destkit serve: error: cannot listen: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
