"""What the processes sharing one SQLite queue file share besides its rows: the count of
pending jobs, and (with several ingest processes) a lock that takes their write transactions
in turn.

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
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

__all__ = ["DEPTH_SCHEMA", "FRESH", "WriteLock", "move_depth", "read_depth", "recount"]

#: Seconds a process's last view of the depth counter is used before it reads it again.
FRESH = 0.1

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
