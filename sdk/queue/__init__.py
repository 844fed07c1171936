"""Durable delivery queues: one interface (:class:`Queue`), the SQLite backend by default,
Redis Streams for more than one machine (``open_queue("redis://...")``, the ``redis`` extra).

Everything above the interface (ingest, fan-out, workers, retries, dead letters, ``status``,
``dlq``, metrics) lives in :mod:`sdk.service` and is shared by every backend.
"""

from sdk.queue._interface import (
    LANES,
    Accepted,
    DeadLetter,
    DestinationStatus,
    Job,
    Queue,
    QueueError,
    Settlement,
    lane_of,
)
from sdk.queue._open import is_redis, open_queue
from sdk.queue._sqlite import SqliteQueue

__all__ = [
    "LANES",
    "Accepted",
    "DeadLetter",
    "DestinationStatus",
    "Job",
    "Queue",
    "QueueError",
    "Settlement",
    "SqliteQueue",
    "is_redis",
    "lane_of",
    "open_queue",
]
