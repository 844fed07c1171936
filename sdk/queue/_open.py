"""Open the queue a ``--queue`` option names: SQLite in a directory (the default) or Redis."""

from __future__ import annotations

from pathlib import Path

from sdk.queue._interface import Queue, QueueError

__all__ = ["REDIS_EXTRA", "is_redis", "open_queue"]

#: The one-line error when ``--queue redis://`` is used without the ``redis`` package.
REDIS_EXTRA = "--queue: redis:// needs the redis extra: pip install 'destkit[redis]'"


def is_redis(spec: str | None) -> bool:
    """Whether ``spec`` names a Redis queue."""
    return spec is not None and spec.split(":", 1)[0] in ("redis", "rediss", "unix")


def open_queue(
    spec: str | None, data: str | Path, *, durability: str = "normal", owner: bool = True
) -> Queue:
    """The Redis queue at ``spec`` (``redis://HOST:PORT/DB``), else SQLite in ``data``."""
    if spec is None or not is_redis(spec):
        if spec is not None:
            raise QueueError(f"--queue: {spec!r} must be redis://HOST:PORT/DB")
        from sdk.queue._sqlite import SqliteQueue

        if owner:
            return SqliteQueue.for_server(data, durability=durability)
        return SqliteQueue(data, durability=durability, owner=False)
    try:
        from sdk.queue._redis import RedisQueue
    except ImportError:
        raise QueueError(REDIS_EXTRA) from None
    return RedisQueue(spec)
