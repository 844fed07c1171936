"""The SQLite queue's operations for operating it (``destkit status`` and ``destkit dlq``):
per-destination counts, dead letters, replay and purge; a mixin of :class:`SqliteQueue`."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sdk.queue._interface import DeadLetter, DestinationStatus
from sdk.queue._sqlite_shared import move_depth

__all__ = ["Operating"]

T = TypeVar("T")

QUEUED, RETRYING, DEAD = 0, 1, 2


class Operating:
    """Status, dead letters, replay and purge, on the queue's ``_run`` (its writer)."""

    async def _run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def _saw(self, count: int | None, delta: int) -> None:
        raise NotImplementedError

    async def status(self, now: float) -> list[DestinationStatus]:
        def op(conn: sqlite3.Connection) -> list[DestinationStatus]:
            found: dict[str, DestinationStatus] = {}

            def of(dest: str) -> DestinationStatus:
                return found.setdefault(dest, DestinationStatus(dest))

            for dest, state, n, oldest in conn.execute(
                "SELECT dest, state, COUNT(*), MIN(enq) FROM jobs GROUP BY dest, state"
            ):
                entry = of(dest)
                if state == QUEUED:
                    entry.queued = n
                elif state == RETRYING:
                    entry.retrying = n
                else:
                    entry.dead = n
                if state != DEAD:
                    age = max(0.0, now - oldest)
                    current = entry.oldest_pending_age_s
                    entry.oldest_pending_age_s = age if current is None else max(current, age)
            for dest, kind, reason, n in conn.execute("SELECT dest, kind, reason, n FROM counters"):
                entry = of(dest)
                if kind == "delivered":
                    entry.delivered = n
                elif kind == "filtered":
                    entry.filtered[reason] = n
            return [found[name] for name in sorted(found)]

        return await self._run(op)

    async def dead_letters(self, destination: str | None, limit: int) -> list[DeadLetter]:
        where, args = _dest_filter(destination)

        def op(conn: sqlite3.Connection) -> list[DeadLetter]:
            rows = conn.execute(
                "SELECT id, dest, message_id, attempts, error, enq, body FROM jobs "
                f"WHERE state = 2{where} ORDER BY id LIMIT ?",
                (*args, limit),
            ).fetchall()
            return [DeadLetter(*row) for row in rows]

        return await self._run(op)

    async def dead_letter(self, job_id: int) -> DeadLetter | None:
        def op(conn: sqlite3.Connection) -> DeadLetter | None:
            row = conn.execute(
                "SELECT id, dest, message_id, attempts, error, enq, body FROM jobs "
                "WHERE state = 2 AND id = ?",
                (job_id,),
            ).fetchone()
            return None if row is None else DeadLetter(*row)

        return await self._run(op)

    async def replay(self, destination: str | None, job_id: int | None = None) -> int:
        where, args = _dest_filter(destination)
        if job_id is not None:
            where, args = where + " AND id = ?", (*args, job_id)
        now = time.time()

        def op(conn: sqlite3.Connection) -> tuple[int, int | None]:
            cursor = conn.execute(
                f"UPDATE jobs SET state = 0, attempts = 0, due = 0, enq = ?, error = NULL "
                f"WHERE state = 2{where}",
                (now, *args),
            )
            count = int(cursor.rowcount)
            return count, move_depth(conn, count) if count else None

        count, depth = await self._run(op)
        if count:
            self._saw(depth, count)
        return count

    async def purge(self, destination: str | None) -> int:
        where, args = _dest_filter(destination)

        def op(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(f"DELETE FROM jobs WHERE state = 2{where}", args)
            return int(cursor.rowcount)

        return await self._run(op)


def _dest_filter(destination: str | None) -> tuple[str, tuple[Any, ...]]:
    return ("", ()) if destination is None else (" AND dest = ?", (destination,))
