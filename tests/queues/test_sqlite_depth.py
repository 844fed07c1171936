"""The SQLite queue's shared depth counter: every process's ``pending()`` counts the jobs of
every process on the file; the server recounts it when it opens the directory."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sdk.queue import Accepted, Settlement, SqliteQueue
from sdk.queue._sqlite_shared import FRESH


def _messages(n: int, tag: str) -> list[Accepted]:
    return [Accepted(f"{tag}{i}", b"{}", f"user-{i}", ("A", "B")) for i in range(n)]


async def test_pending_counts_what_another_process_enqueued_and_settled(tmp_path: Path):
    server = SqliteQueue(tmp_path, in_loop=True)
    other = SqliteQueue(tmp_path, owner=False, in_loop=True)  # as an ingest process opens it
    try:
        await server.enqueue(_messages(3, "s"))
        assert server.pending() == 6  # 3 messages, 2 destinations
        await other.enqueue(_messages(2, "o"))
        assert other.pending() == 10  # its own commit read the shared counter back
        assert server.pending() == 6  # until its view is FRESH seconds old
        time.sleep(FRESH)
        assert server.pending() == 10
        jobs = await server.claim("A", 0, 100, time.time())
        jobs += [j for lane in range(1, 8) for j in await server.claim("A", lane, 100, 0)]
        assert len(jobs) == 5
        await server.settle("A", Settlement(delivered=jobs[:4], retry=[(jobs[4], 0.0, "x")]))
        assert server.pending() == 6  # the retry is still pending
        time.sleep(FRESH)
        assert other.pending() == 6
    finally:
        await other.close()
        await server.close()


async def test_the_server_recounts_the_counter_when_it_opens_the_directory(tmp_path: Path):
    queue = SqliteQueue(tmp_path, in_loop=True)
    await queue.enqueue(_messages(4, "m"))
    await queue.close()
    with sqlite3.connect(tmp_path / "queue.sqlite3") as conn:  # a counter gone wrong (or none)
        conn.execute("DELETE FROM depth")
    admin = SqliteQueue(tmp_path, owner=False)  # no counter: it counts the rows
    assert admin.pending() == 8
    assert await admin.replay(None) == 0
    await admin.close()
    with sqlite3.connect(tmp_path / "queue.sqlite3") as conn:
        conn.execute("INSERT INTO depth (id, n) VALUES (0, 12345)")
    queue = SqliteQueue(tmp_path, in_loop=True)
    try:
        assert queue.pending() == 8
    finally:
        await queue.close()


async def test_replay_moves_the_counter(tmp_path: Path):
    queue = SqliteQueue(tmp_path)
    try:
        await queue.enqueue(_messages(1, "d"))
        (job,) = await queue.claim("A", _lane_of_user0(), 10, time.time())
        await queue.settle("A", Settlement(dead=[(job, "gone")]))
        assert queue.pending() == 1
        assert await queue.replay("A") == 1
        assert queue.pending() == 2
    finally:
        await queue.close()


def _lane_of_user0() -> int:
    from sdk.queue import lane_of

    return lane_of("user-0")


async def test_a_write_waiting_for_another_process_s_lock_leaves_the_loop_running(
    tmp_path: Path,
) -> None:
    """While another process holds ``DIR/write.lock``, an ingest process's event loop goes on
    (its requests are read and validated meanwhile) and what it submits joins the waiting
    transaction: one commit once the lock is free."""
    import asyncio

    from sdk.queue._sqlite_shared import WriteLock

    server = SqliteQueue(tmp_path, in_loop=True)
    ingest = SqliteQueue(tmp_path, owner=False, in_loop=True)
    ingest.serialise_writes()
    other = WriteLock(tmp_path)  # another process's hold: its own open file, so it excludes
    try:
        other.acquire()
        commits = ingest.commits
        first = asyncio.ensure_future(ingest.enqueue(_messages(2, "a")))
        ticks = 0
        for _ in range(5):  # the loop turns while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        second = asyncio.ensure_future(ingest.enqueue(_messages(3, "b")))
        await asyncio.sleep(0.01)
        assert ticks == 5 and not first.done() and not second.done()
        other.release()
        await asyncio.wait_for(asyncio.gather(first, second), 5)
        assert ingest.commits == commits + 1  # both in one transaction
        assert ingest.pending() == 10
    finally:
        other.close()
        await ingest.close()
        await server.close()
