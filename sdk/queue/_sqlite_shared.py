"""What the processes sharing one SQLite queue file share besides its rows: the count of
pending jobs, (with several ingest processes) a lock that takes their write transactions in
turn, and the checkpoints, which one thread of the server runs for all of them.

**The depth counter.** One row (``depth``) holds the jobs queued or retrying: every write that
changes that number moves it in the same transaction (``n = n + delta``, the new value read
back), so every process sees the count of every process, exact as of its own last commit. The
server recounts it when it opens the directory (``recount``): a file written before the counter
existed, or by an older version, is right from then on. A process that has not written for a
while reads it again (:data:`FRESH` seconds at most).

**The write lock.** SQLite lets one writer in at a time; one that finds the file locked either
sleeps in SQLite's busy handler (1, 2, 5, 10 ms... whatever the holder takes) or, on the event
loop, tries again a millisecond later. Ingest processes sharing a file instead wait for an
exclusive ``flock`` on ``DIR/write.lock`` before ``BEGIN IMMEDIATE``: the kernel wakes the next
one the moment the holder releases it, so a commit follows the last one without a gap.

**The checkpoints.** In WAL mode a commit appends to ``queue.sqlite3-wal``; a checkpoint copies
those pages into the database file, and with ``synchronous=NORMAL`` it fsyncs both. SQLite runs
one inside whichever commit passes 1,000 pages of log, while that commit holds the write lock:
every writer of every process then waits on the disk (measured with two ingest processes: a
sixth of both processes' time idle, the machine's cores with nothing to run). So no connection
of the queue checkpoints on commit (``wal_autocheckpoint=0``); the server's
:class:`Checkpointer` thread runs a passive checkpoint every :data:`CHECKPOINT_EVERY` seconds on
its own connection instead, which copies what is committed without waiting for, or blocking,
any writer or reader (SQLite works without the GIL meanwhile). The log is then reused from its
start by the next commit, as with SQLite's own checkpoints, and truncated to
:data:`LOG_LIMIT` bytes if it grew past that. Durability is unchanged: a commit is durable as its
``synchronous`` setting says whether or not its pages were copied yet. A process that opens the
file without a server (``destkit status``, ``dlq``) writes little, and the last connection to
close checkpoints the rest.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "CHECKPOINT_EVERY",
    "DEPTH_SCHEMA",
    "FRESH",
    "LOG_LIMIT",
    "Checkpointer",
    "WriteLock",
    "move_depth",
    "read_depth",
    "recount",
]

#: Seconds a process's last view of the depth counter is used before it reads it again.
FRESH = 0.1
#: Seconds between two checkpoints of the server's :class:`Checkpointer` (at 250,000 rows a
#: second, about 25 MB of log between two; measured against 0.05 s, two ingest processes
#: on 2 cores: 1.07 against 0.96 of the raw limit, fewer copies of the pages every commit
#: touches, such as the index's).
CHECKPOINT_EVERY = 0.25
#: Bytes the log file is cut back to when it is reused (``journal_size_limit``).
LOG_LIMIT = 64 * 1024 * 1024

DEPTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS depth (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    n INTEGER NOT NULL
);
"""
_PENDING = "SELECT COUNT(*) FROM jobs WHERE state IN (0, 1)"
_MOVE = "UPDATE depth SET n = n + ? WHERE id = 0 RETURNING n"


def recount(conn: sqlite3.Connection) -> int:
    """Set the counter to the jobs queued or retrying now, in one write transaction (a
    process of a killed server still writing moves it from there on); returns it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"INSERT OR REPLACE INTO depth (id, n) SELECT 0, ({_PENDING})")
        (n,) = conn.execute("SELECT n FROM depth WHERE id = 0").fetchone()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(n)


def move_depth(conn: sqlite3.Connection, delta: int) -> int | None:
    """Move the counter by ``delta`` inside the caller's transaction; the new count, or None
    when the file has no counter yet (the server has not opened it since it was made)."""
    rows = conn.execute(_MOVE, (delta,)).fetchall()
    return int(rows[0][0]) if rows else None


def read_depth(conn: sqlite3.Connection) -> int:
    """The counter (or, in a file that has none yet, a count of the rows)."""
    row = conn.execute("SELECT n FROM depth WHERE id = 0").fetchone()
    if row is None:
        row = conn.execute(_PENDING).fetchone()
    return int(row[0])


class WriteLock:
    """The exclusive ``flock`` on ``DIR/write.lock`` that ingest processes sharing a queue file
    hold around each write transaction (blocking: the holder's release wakes the next)."""

    def __init__(self, directory: Path) -> None:
        self.fd = os.open(directory / "write.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self.closed = False

    def acquire(self) -> None:
        """Wait for the lock (the other processes' transactions take about a millisecond)."""
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; False (at once) if one does."""
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        """Let the next process in (nothing once closed: closing released it)."""
        if not self.closed:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release it for good."""
        if not self.closed:
            self.closed = True
            os.close(self.fd)


class Checkpointer(threading.Thread):
    """The server's thread that checkpoints the queue file (see the module's doc): a passive
    checkpoint every ``every`` seconds on its own connection, until :meth:`close`."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], every: float = CHECKPOINT_EVERY
    ) -> None:
        super().__init__(name="destkit-sqlite-checkpoint", daemon=True)
        self._conn = connect()
        self._every = every
        self._stopping = threading.Event()
        #: Checkpoints that copied pages, and pages copied (for tests and curiosity).
        self.checkpoints = 0
        self.pages = 0

    def run(self) -> None:
        while not self._stopping.wait(self._every):
            self.checkpoint()

    def checkpoint(self) -> None:
        """One passive checkpoint (an error is left for the next one: the log only grows)."""
        try:
            _busy, _log, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return
        if copied > 0:
            self.checkpoints += 1
            self.pages += copied

    def close(self) -> None:
        """Stop, after a last checkpoint."""
        self._stopping.set()
        if self.is_alive():
            self.join()
        self.checkpoint()
        self._conn.close()
