"""The embedded default queue: one SQLite file in WAL mode, whose writer commits every write
waiting at that moment in one transaction (group commit): the writes of one turn of the event
loop, on the loop's own thread (``destkit serve`` with ``durability: normal``, and its worker
processes), or every write queued while a writer thread was committing (``durability: full``,
where a commit waits for an fsync, and the admin commands).

Concurrent requests therefore share one commit (and with ``durability: full`` one fsync), and a
request is answered only after the commit that holds its messages returned. In WAL mode with
``synchronous=NORMAL`` (``durability: normal``) a committed transaction survives the process
being killed (``kill -9``): it is in the WAL file, which the operating system writes out; only a
power loss or kernel crash can lose the last commits. ``durability: full``
(``synchronous=FULL``) fsyncs the WAL at every commit, so a commit also survives power loss.

One ``destkit serve`` owns a data directory at a time (an exclusive ``flock`` on
``DIR/lock``); ``destkit status`` and ``destkit dlq`` open it beside a running server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from sdk.queue._interface import (
    Accepted,
    Job,
    Queue,
    QueueError,
    Settlement,
    lane_of,
)
from sdk.queue._sqlite_admin import Operating
from sdk.queue._sqlite_file import SCHEMA, LoopWriter, Writer, connect, lock_directory
from sdk.queue._sqlite_shared import (
    FRESH,
    Checkpointer,
    WriteLock,
    move_depth,
    read_depth,
    recount,
)

__all__ = ["SCHEMA", "SqliteQueue"]

T = TypeVar("T")

QUEUED, RETRYING, DEAD = 0, 1, 2

_INSERT = "INSERT INTO jobs (dest, lane, user_key, message_id, enq, body) VALUES "
#: Rows a multi-row INSERT holds at most (6 parameters a row: 768, under SQLite's oldest default
#: limit of 999); smaller statements are its halves, so at most 8 distinct statements are cached.
_CHUNK = 128
_WIDTH = 6
_COUNT = (
    "INSERT INTO counters (dest, kind, reason, n) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (dest, kind, reason) DO UPDATE SET n = n + excluded.n"
)
_COLUMNS = "id, dest, user_key, body, attempts, enq"
#: Tries of a claim's read that found the file busy.
_READ_TRIES = 20


class SqliteQueue(Operating, Queue):
    """The SQLite queue in ``directory`` (created if missing).

    A lane may claim its next batch while its last settle commits
    (``settles_in_background``): a claim leaves out the jobs of a settle in flight.

    ``owner=True`` (``destkit serve``) takes the directory's lock; the admin commands open it
    with ``owner=False`` beside a running server. ``in_loop=True`` (a worker process beside
    the server, and the server itself: :meth:`for_server`) writes on the event loop's thread
    (:class:`LoopWriter`), not on a writer thread; it needs a running loop for its writes.
    """

    settles_in_background = True

    def __init__(
        self,
        directory: str | Path,
        *,
        durability: str = "normal",
        owner: bool = True,
        in_loop: bool = False,
    ):
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueueError(f"data: cannot create {self.directory}: {exc.strerror}") from None
        self._lock_fd: int | None = None
        self._write_lock: WriteLock | None = None
        #: Per destination, the settles still committing: their job ids, and the users whose
        #: retry they hold (``claim`` leaves both out, so a lane may claim while it settles).
        self._settling: dict[str, list[tuple[set[int], set[str]]]] = {}
        if owner:
            self._lock_fd = lock_directory(self.directory)
        synchronous = "FULL" if durability == "full" else "NORMAL"
        path = self.directory / "queue.sqlite3"
        self._writer: Writer | LoopWriter
        try:
            if owner:
                # The loop writer never waits for a lock; the file is created (or recovered
                # after a kill -9) first on a connection that waits, as a worker process left
                # by a killed server may still be writing to it. The depth counter is
                # recounted here, once a start.
                with contextlib.closing(connect(path, synchronous=synchronous)) as first:
                    first.executescript(SCHEMA)
                    recount(first)
            self._writer = LoopWriter(path, synchronous) if in_loop else Writer(path, synchronous)
        except sqlite3.Error as exc:
            self._unlock()
            raise QueueError(f"data: cannot open the queue in {self.directory}: {exc}") from None
        try:
            # In a worker process, claims read on the writer's own connection: one thread,
            # and its page cache is not emptied by its own settles' commits (as a second
            # connection's is by every commit of another).
            self._reader = self._writer.conn if in_loop else connect(path, synchronous=synchronous)
            #: Jobs queued or retrying in the whole file (every process), as of ``_seen``.
            self._pending = read_depth(self._reader)
        except sqlite3.Error as exc:
            self._writer.conn.close()
            self._unlock()
            raise QueueError(f"data: cannot open the queue in {self.directory}: {exc}") from None
        self._seen = time.monotonic()
        #: The server's checkpoints, for every process on the file (``_sqlite_shared``).
        self._checkpointer: Checkpointer | None = None
        if owner:
            try:
                self._checkpointer = Checkpointer(lambda: connect(path, synchronous=synchronous))
            except sqlite3.Error as exc:
                self._writer.conn.close()
                if self._reader is not self._writer.conn:
                    self._reader.close()
                self._unlock()
                where = self.directory
                raise QueueError(f"data: cannot open the queue in {where}: {exc}") from None
            self._checkpointer.start()
        if isinstance(self._writer, Writer):
            self._writer.start()

    @classmethod
    def for_server(cls, directory: str | Path, *, durability: str = "normal") -> SqliteQueue:
        """The queue of ``destkit serve``: with ``durability: normal`` it writes on the event
        loop's thread (a writer thread trades the GIL with a busy loop at every call into
        SQLite: ingest 16.2 -> 14.5 us of CPU a message); with ``full`` on a writer thread,
        so that the loop goes on while a commit waits for its fsync."""
        return cls(directory, durability=durability, in_loop=durability != "full")

    # -- plumbing -------------------------------------------------------------------------

    async def _run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if isinstance(self._writer, LoopWriter):
            looped: T = await self._writer.submit(op)
            return looped
        result: T = await asyncio.wrap_future(self._writer.submit(op))
        return result

    @property
    def commits(self) -> int:
        """Transactions committed so far (group commit: fewer than the writes they hold)."""
        return self._writer.commits

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._write_lock is not None:
            self._write_lock.close()
            self._write_lock = None

    def serialise_writes(self) -> None:
        """Take ``DIR/write.lock`` around every write transaction from now on: what the
        processes of a server with several ingest processes do (see
        :mod:`sdk.queue._sqlite_shared`)."""
        if self._write_lock is None:
            self._write_lock = WriteLock(self.directory)
            self._writer.lock = self._write_lock

    async def close(self) -> None:
        if isinstance(self._writer, LoopWriter):
            self._writer.close()
        else:
            await asyncio.to_thread(self._writer.close)
            self._reader.close()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.close)
            self._checkpointer = None
        self._unlock()

    def settled_elsewhere(self, count: int) -> None:
        """``count`` pending jobs left the store by another process's settle (the server's
        worker process): :meth:`pending` reads the shared count again."""
        self._seen = 0.0

    def _saw(self, count: int | None, delta: int) -> None:
        """The depth counter as this process's commit left it (None: a file without one)."""
        if count is None:
            self._pending += delta
        else:
            self._pending, self._seen = count, time.monotonic()

    # -- ingest and workers -----------------------------------------------------------------

    async def enqueue(self, messages: Sequence[Accepted]) -> None:
        now = time.time()
        # A lane's rows side by side in the file: the worker claims and deletes a lane's jobs
        # together, and they then touch about a fifth of the pages they would interleaved
        # (measured: claim 2.0 -> 1.6 us a job, delete and commit 5.6 -> 3.6). Each lane's
        # rows keep the order of the messages, so a user's messages (one lane) keep theirs.
        # A row is its 6 values, laid flat as the multi-row INSERT takes them.
        lanes: dict[tuple[str, int], list[Any]] = {}
        counts: dict[tuple[str, str], int] = {}
        for message in messages:
            lane = lane_of(message.user_key)
            for dest in message.destinations:
                values = lanes.get((dest, lane))
                if values is None:
                    values = lanes[(dest, lane)] = []
                values += (dest, lane, message.user_key, message.message_id, now, message.body)
            for dest, reason in message.filtered:
                counts[(dest, reason)] = counts.get((dest, reason), 0) + 1
        flat = [value for key in sorted(lanes) for value in lanes[key]]
        rows = len(flat) // _WIDTH

        def op(conn: sqlite3.Connection) -> int | None:
            _insert(conn, flat)
            if counts:
                conn.executemany(_COUNT, [(d, "filtered", r, n) for (d, r), n in counts.items()])
            return move_depth(conn, rows) if rows else None

        self._saw(await self._run(op), rows)

    async def claim(self, destination: str, lane: int, limit: int, now: float) -> list[Job]:
        # A read of one lane's first rows by index: done here, on the reader connection, not
        # queued behind the writer's commits (and its hand-offs between threads). It sees
        # every commit that returned; the jobs of a settle still committing are left out, and
        # so are the jobs of a user whose retry it holds (they wait for it, in order).
        settling = self._settling.get(destination, ())
        ids: set[int] = set()
        users: set[str] = set()
        for batch_ids, batch_users in settling:
            ids |= batch_ids
            users |= batch_users
        for attempt in range(_READ_TRIES):
            try:
                jobs = self._claim(self._reader, destination, lane, limit + len(ids), now)
                break
            except sqlite3.OperationalError as exc:
                # A read in WAL mode is rarely busy (the server resetting the WAL): on the
                # worker process's connection, which never waits for a lock, try again.
                busy = exc.sqlite_errorcode == sqlite3.SQLITE_BUSY
                if not busy or attempt == _READ_TRIES - 1:
                    raise QueueError(f"the queue could not be read: {exc}") from None
                await asyncio.sleep(0.001)
            except sqlite3.Error as exc:
                raise QueueError(f"the queue could not be read: {exc}") from None
        if settling:
            jobs = [j for j in jobs if j.id not in ids and j.user_key not in users][:limit]
        return jobs

    @staticmethod
    def _claim(
        conn: sqlite3.Connection, destination: str, lane: int, limit: int, now: float
    ) -> list[Job]:
        conn.execute("BEGIN")  # one snapshot for both reads
        try:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE dest = ? AND lane = ? AND state = 1 "
                "AND due <= ? ORDER BY id LIMIT ?",
                (destination, lane, now, limit),
            ).fetchall()
            if len(rows) < limit:
                rows += conn.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE dest = ? AND lane = ? AND state = 0 "
                    "AND user_key NOT IN (SELECT user_key FROM jobs "
                    "WHERE dest = ? AND lane = ? AND state = 1) ORDER BY id LIMIT ?",
                    (destination, lane, destination, lane, limit - len(rows)),
                ).fetchall()
        finally:
            conn.execute("COMMIT")
        return list(itertools.starmap(Job, rows))  # the columns in Job's order

    async def settle(self, destination: str, settlement: Settlement) -> None:
        gone = [job.id for job in (*settlement.delivered, *(j for j, _ in settlement.filtered))]
        filtered: dict[str, int] = {}
        for _, reason in settlement.filtered:
            filtered[reason] = filtered.get(reason, 0) + 1

        left = len(gone) + len(settlement.dead)

        def op(conn: sqlite3.Connection) -> int | None:
            # Only the statements this batch needs: each call into SQLite is a hand-off of
            # the GIL that the writer must win back from the event loop.
            if gone:
                conn.execute(
                    "DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))",
                    (orjson.dumps(gone).decode(),),
                )
            if settlement.retry:
                conn.executemany(
                    "UPDATE jobs SET state = 1, attempts = attempts + 1, due = ?, error = ? "
                    "WHERE id = ?",
                    [(due, error, job.id) for job, due, error in settlement.retry],
                )
            if settlement.dead:
                conn.executemany(
                    "UPDATE jobs SET state = 2, attempts = attempts + 1, error = ? WHERE id = ?",
                    [(error, job.id) for job, error in settlement.dead],
                )
            counts = [
                (destination, "delivered", "", len(settlement.delivered)),
                (destination, "retried", "", len(settlement.retry)),
                (destination, "dead", "", len(settlement.dead)),
                *((destination, "filtered", r, n) for r, n in filtered.items()),
            ]
            conn.executemany(_COUNT, [c for c in counts if c[3]])
            return move_depth(conn, -left) if left else None

        everything = [*gone, *(j.id for j, _, _ in settlement.retry)]
        everything += [j.id for j, _ in settlement.dead]
        entry = (set(everything), {job.user_key for job, _, _ in settlement.retry})
        in_flight = self._settling.setdefault(destination, [])
        in_flight.append(entry)
        try:
            count = await self._run(op)
        finally:
            in_flight.remove(entry)
        if left:
            self._saw(count, -left)

    def pending(self) -> int:
        """Jobs queued or retrying in the file, by every process: as this process's last
        commit saw the shared counter, or read again when that is over :data:`FRESH` old."""
        now = time.monotonic()
        if now - self._seen >= FRESH:
            self._seen = now
            with contextlib.suppress(sqlite3.Error):  # busy, or closed: the last count
                self._pending = read_depth(self._reader)
        return self._pending


def _insert(conn: sqlite3.Connection, flat: list[Any]) -> None:
    """Insert the rows laid flat in ``flat`` (``_WIDTH`` values a row), in order, with
    multi-row statements (128 rows, then halves down to one): a handful of calls into SQLite
    for a request, not one a row (each call releases the GIL and must win it back). Measured,
    8 requests of 100 at once on the writer thread: 4.3 -> 3.7 us of CPU a row."""
    rows = len(flat) // _WIDTH
    start, size = 0, _CHUNK
    while start < rows:
        while rows - start < size:
            size //= 2
        conn.execute(_statement(size), flat[start * _WIDTH : (start + size) * _WIDTH])
        start += size


@functools.lru_cache(maxsize=8)
def _statement(rows: int) -> str:
    return _INSERT + ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)
