"""The SQLite queue's file: its schema, its connections, its lock, and the one thread that
writes it, committing every write waiting at that moment in one transaction (group commit)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdk.queue._interface import QueueError

__all__ = ["SCHEMA", "Writer", "connect", "lock_directory"]

Op = Callable[[sqlite3.Connection], Any]
_Result = tuple[concurrent.futures.Future[Any], Any, BaseException | None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    dest TEXT NOT NULL,
    lane INTEGER NOT NULL,
    user_key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    due REAL NOT NULL DEFAULT 0,
    enq REAL NOT NULL,
    error TEXT,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_lane ON jobs (dest, lane, state, id);
CREATE TABLE IF NOT EXISTS counters (
    dest TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    n INTEGER NOT NULL,
    PRIMARY KEY (dest, kind, reason)
);
"""


def connect(path: Path, *, synchronous: str) -> sqlite3.Connection:
    """A connection with the queue's settings (WAL, the durability's ``synchronous``)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class Writer(threading.Thread):
    """The one thread that touches the database: runs every operation waiting at once inside
    one transaction (each in a savepoint, so one failing operation fails alone), commits once,
    then answers them all."""

    def __init__(self, path: Path, synchronous: str) -> None:
        super().__init__(name="destkit-sqlite-writer", daemon=True)
        self._cond = threading.Condition()
        self._ops: list[tuple[Op, concurrent.futures.Future[Any]]] = []
        self._closing = False
        self.conn = connect(path, synchronous=synchronous)
        self.conn.executescript(SCHEMA)
        self.commits = 0

    def submit(self, op: Op) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            if self._closing:
                raise QueueError("the queue is closed")
            self._ops.append((op, future))
            self._cond.notify()
        return future

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self.join()
        self.conn.close()

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._ops and not self._closing:
                    self._cond.wait()
                batch, self._ops = self._ops, []
            if not batch:
                return
            # An operation whose caller gave up before it ran (cancelled) is not run.
            batch = [(op, f) for op, f in batch if f.set_running_or_notify_cancel()]
            if not batch:
                continue
            results = self._alone(batch[0]) if len(batch) == 1 else self._together(batch)
            for future, value, problem in results:
                if problem is not None:
                    future.set_exception(
                        problem if isinstance(problem, QueueError) else QueueError(str(problem))
                    )
                else:
                    future.set_result(value)

    def _alone(self, entry: tuple[Op, concurrent.futures.Future[Any]]) -> list[_Result]:
        """One operation in its own transaction (no savepoint: the fewest calls into SQLite,
        each of which hands the GIL to the event loop and must win it back)."""
        conn = self.conn
        op, future = entry
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                value = op(conn)
            except Exception as exc:
                conn.execute("ROLLBACK")
                return [(future, None, exc)]
            conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return [(future, None, QueueError(f"the queue could not commit: {exc}"))]
        return [(future, value, None)]

    def _together(self, batch: list[tuple[Op, concurrent.futures.Future[Any]]]) -> list[_Result]:
        """Every waiting operation in one transaction, each in a savepoint."""
        conn = self.conn
        results: list[_Result] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op, future in batch:
                conn.execute("SAVEPOINT op")
                try:
                    value = op(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO op")
                    results.append((future, None, exc))
                else:
                    results.append((future, value, None))
                conn.execute("RELEASE op")
            conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            failure = QueueError(f"the queue could not commit: {exc}")
            results = [(future, None, failure) for _, future in batch]
        return results


def lock_directory(directory: Path) -> int:
    """Take ``DIR/lock`` exclusively, or say which directory is in use."""
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise QueueError(
            f"data: {directory} is in use by another destkit serve (one server per directory)"
        ) from None
    return fd
