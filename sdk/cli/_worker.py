"""``destkit worker``: deliver from a Redis queue; run any number, on any machines, beside the
``destkit serve`` ingest nodes. SIGTERM lets batches in flight finish (within the config's
``shutdown_grace``), leaves the rest queued and exits 0."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

__all__ = ["WORKER_DESCRIPTION", "run_worker", "worker_arguments"]

WORKER_DESCRIPTION = (
    "Claim jobs from the Redis queue (one consumer group per destination), deliver them with "
    "the connectors and acknowledge them once the destination answered. Prints 'worker "
    "started' first; SIGTERM stops it (exit 0)."
)


def worker_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``destkit worker``."""
    parser.add_argument("--config", required=True, help="YAML file of sources and destinations")
    parser.add_argument(
        "--queue", required=True, metavar="URL", help="redis://HOST:PORT/DB (the ingest's queue)"
    )


def _fail(message: str) -> int:
    print(f"destkit worker: error: {message}", file=sys.stderr)
    return 2


def run_worker(args: argparse.Namespace) -> int:
    """Load the config, open the queue, deliver until a signal; one-line errors, exit 2."""
    from sdk._errors import InputError
    from sdk.queue import QueueError, is_redis, open_queue
    from sdk.service import ServiceLog, load_config, settle_collector

    if not is_redis(args.queue):
        return _fail("--queue: must be redis://HOST:PORT/DB (SQLite is served by destkit serve)")
    try:
        config = load_config(args.config)
    except InputError as exc:
        return _fail(exc.message)
    for index, destination in enumerate(config.destinations):
        if destination.needs_sandbox:
            return _fail(
                f"destinations[{index}].settings.endpoint: a sandbox destination needs an "
                "endpoint with destkit worker (each worker would start its own sandbox)"
            )
    log = ServiceLog()
    try:
        queue = open_queue(args.queue, ".")
    except QueueError as exc:
        return _fail(str(exc))
    settle_collector()
    asyncio.run(_work(config, queue, log))
    return 0


async def _work(config: Any, queue: Any, log: Any) -> None:
    from sdk.service import DestinationWorker, ServiceMetrics

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    metrics = ServiceMetrics()
    workers = [
        DestinationWorker(destination, queue, config.delivery, metrics, log)
        for destination in config.destinations
    ]
    for worker in workers:
        worker.start()
    log.event("worker_started", destinations=",".join(w.name for w in workers))
    print("worker started", flush=True)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        grace = config.delivery.shutdown_grace
        await asyncio.gather(*(worker.stop(grace) for worker in workers))
        await queue.close()
        log.event("worker_stopped")
