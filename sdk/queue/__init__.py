"""Durable delivery queues: one interface (:class:`Queue`), the SQLite backend by default.

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
    "lane_of",
]
