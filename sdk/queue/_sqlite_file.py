"""The SQLite queue's file: its schema, its connections, its lock, and its writers: the server's
one thread that commits every write waiting at that moment in one transaction (group commit),
or, in a worker process, a writer on the event loop's own thread that does the same per turn of
the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sdk.queue._interface import QueueError
from sdk.queue._sqlite_shared import DEPTH_SCHEMA, LOG_LIMIT, WriteLock

__all__ = ["SCHEMA", "LoopWriter", "Writer", "connect", "lock_directory", "lock_lanes"]

Op = Callable[[sqlite3.Connection], Any]
_Result = tuple[concurrent.futures.Future[Any], Any, BaseException | None]
_LoopResult = tuple[asyncio.Future[Any], Any, BaseException | None]
#: A waiting operation's future: a thread's or the event loop's.
_F = TypeVar("_F", concurrent.futures.Future[Any], asyncio.Future[Any])

SCHEMA = (
    """
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
    + DEPTH_SCHEMA
)


def connect(path: Path, *, synchronous: str, busy_ms: int = 10000) -> sqlite3.Connection:
    """A connection with the queue's settings (WAL, the durability's ``synchronous``), waiting
    up to ``busy_ms`` for a lock another connection holds."""
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_ms / 1000
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={busy_ms}")
    # Never a checkpoint inside a commit: the server's Checkpointer thread runs them.
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(f"PRAGMA journal_size_limit={LOG_LIMIT}")
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
        #: With several ingest processes on the file: taken around each transaction.
        self.lock: WriteLock | None = None

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
            lock = self.lock
            if lock is not None:
                lock.acquire()  # on this thread: the event loop goes on
            try:
                results = self._alone(batch[0]) if len(batch) == 1 else self._together(batch)
            finally:
                if lock is not None:
                    lock.release()
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
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            return _failed(self.conn, batch, exc)
        results, committed = _commit(self.conn, batch)
        self.commits += committed
        return results


#: How long the loop writer keeps trying to take the write lock before its writes fail.
_LOCK_PATIENCE = 10.0
#: Its wait between two tries (the other process's transactions take about a millisecond).
_LOCK_RETRY = 0.001


class LoopWriter:
    """Writes on the event loop's own thread, for a worker process beside the server: every
    operation submitted during one turn of the loop runs in one transaction (each in a
    savepoint), committed once. No thread: a second thread calling into SQLite would trade the
    GIL with the loop at every step of every statement. The write lock, which the server's
    writer also takes, is tried without waiting (``busy_timeout`` 0): while the server holds it,
    the loop goes on and tries again a millisecond later, so it never sleeps in SQLite."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.conn = connect(path, synchronous=synchronous, busy_ms=0)
        self.conn.executescript(SCHEMA)  # created by the server first: a read, not a write
        self.commits = 0
        self._ops: list[tuple[Op, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._closed = False
        self._since = 0.0  # when the current batch first found the lock taken
        #: With several ingest processes on the file: waited for before each transaction.
        self.lock: WriteLock | None = None

    def submit(self, op: Op) -> asyncio.Future[Any]:
        if self._closed:
            raise QueueError("the queue is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._ops.append((op, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush, loop)
        return future

    def close(self) -> None:
        self._closed = True
        for _, future in self._ops:  # never left waiting (close comes after the workers)
            if not future.done():
                future.set_exception(QueueError("the queue is closed"))
        self._ops = []
        self.conn.close()

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [(op, f) for op, f in self._ops if not f.done()]  # a cancelled caller: not run
        if not batch or self._closed:
            self._ops, self._scheduled = [], False
            return
        lock = self.lock
        if lock is None:
            self._run(loop, self.conn, batch)
        elif lock.try_acquire():
            self._locked(loop, lock)
        else:
            # Another ingest process is writing. Its release is waited for on a thread, so
            # this loop goes on reading and validating requests meanwhile: what they submit
            # joins this transaction (``_scheduled`` stays set), and no core idles while a
            # request waits for the lock (blocking the loop on it was a tenth of each
            # process's time, measured under load).
            waiting = loop.run_in_executor(None, lock.acquire)
            waiting.add_done_callback(lambda _: self._locked(loop, lock))

    def _locked(self, loop: asyncio.AbstractEventLoop, lock: WriteLock) -> None:
        """Holding the write lock: run what is waiting now, then let the next process in."""
        try:
            batch = [(op, f) for op, f in self._ops if not f.done()]
            if not batch or self._closed:
                self._ops, self._scheduled = [], False
                return
            self._run(loop, self.conn, batch)
        finally:
            lock.release()

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        conn: sqlite3.Connection,
        batch: list[tuple[Op, asyncio.Future[Any]]],
    ) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            now = loop.time()
            self._since = self._since or now
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY and now - self._since < _LOCK_PATIENCE:
                loop.call_later(_LOCK_RETRY, self._flush, loop)  # the ops stay queued
                return
            self._fail(batch, exc)
            return
        except sqlite3.Error as exc:
            self._fail(batch, exc)
            return
        results, committed = _commit(conn, batch)
        self.commits += committed
        self._answer(results)

    def _fail(self, batch: list[tuple[Op, asyncio.Future[Any]]], exc: sqlite3.Error) -> None:
        failure = QueueError(f"the queue could not commit: {exc}")
        self._answer([(future, None, failure) for _, future in batch])

    def _answer(self, results: list[_LoopResult]) -> None:
        # Synchronous from the batch's start to here: nothing was submitted in between.
        self._ops, self._scheduled, self._since = [], False, 0.0
        for future, value, problem in results:
            if future.done():
                continue
            if problem is not None:
                future.set_exception(
                    problem if isinstance(problem, QueueError) else QueueError(str(problem))
                )
            else:
                future.set_result(value)


def lock_lanes(directory: Path, lanes: Sequence[int]) -> int:
    """Take the locks of ``lanes`` (one byte each of ``DIR/workers.lock``), waiting for them:
    one process delivers a lane of a data directory at a time (a worker process left by a
    server that was killed exits as soon as it sees its server gone; its successor waits for
    that here). Released when the returned descriptor is closed or the process ends."""
    fd = os.open(directory / "workers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for lane in sorted(lanes):  # one order for every process: no deadlock
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, lane)
    except OSError:
        os.close(fd)
        raise
    return fd


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


def _commit(
    conn: sqlite3.Connection, batch: Sequence[tuple[Op, _F]]
) -> tuple[list[tuple[_F, Any, BaseException | None]], bool]:
    """Run every operation of ``batch`` in the transaction just begun, each in a savepoint
    (one that raises is rolled back alone and answered with its error), then commit. Returns
    each future's answer and whether it committed: if the store fails, everything is rolled
    back and every operation answered with the same ``QueueError``."""
    results: list[tuple[_F, Any, BaseException | None]] = []
    try:
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
    except sqlite3.Error as exc:
        return _failed(conn, batch, exc), False
    return results, True


def _failed(
    conn: sqlite3.Connection, batch: Sequence[tuple[Op, _F]], exc: sqlite3.Error
) -> list[tuple[_F, Any, BaseException | None]]:
    """Roll back; every operation of ``batch`` fails with one ``QueueError``."""
    with contextlib.suppress(sqlite3.Error):
        conn.execute("ROLLBACK")
    failure = QueueError(f"the queue could not commit: {exc}")
    return [(future, None, failure) for _, future in batch]
