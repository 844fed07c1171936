"""The queue file's checkpoints run on the server's own thread, never inside a commit: a commit
that checkpointed held the write lock of every process while it waited on the disk."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sdk.queue import Accepted, SqliteQueue


def _messages(n: int, tag: str, size: int = 2000) -> list[Accepted]:
    body = b'{"pad":"' + b"x" * size + b'"}'
    return [Accepted(f"{tag}{i}", body, f"user-{i}", ("A",)) for i in range(n)]


def _log_frames(path: Path) -> tuple[int, int]:
    """(frames in the log, frames of it already copied into the database)."""
    with sqlite3.connect(path) as conn:
        _, log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return log, copied


async def test_commits_never_checkpoint_and_the_server_s_thread_does(tmp_path: Path) -> None:
    server = SqliteQueue(tmp_path, in_loop=True)
    ingest = SqliteQueue(tmp_path, owner=False, in_loop=True)
    try:
        for conn in (server._writer.conn, ingest._writer.conn):
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert ingest._checkpointer is None  # one checkpointer a file: the server's
        checkpointer = server._checkpointer
        assert checkpointer is not None and checkpointer.is_alive()
        before = checkpointer.pages
        for k in range(6):  # about 12 MB of log: past SQLite's own 1,000-page checkpoint
            await ingest.enqueue(_messages(1000, f"m{k}-"))
        deadline = time.monotonic() + 10
        while checkpointer.pages - before < 2500 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.pages - before >= 2500  # the thread copied them
        assert (tmp_path / "queue.sqlite3").stat().st_size > 10_000_000
    finally:
        await ingest.close()
        await server.close()
    assert not checkpointer.is_alive()


async def test_without_the_thread_nothing_is_copied_until_the_last_close(tmp_path: Path) -> None:
    """What the thread is for: a non-owner process alone (``destkit dlq replay``) leaves its
    commits in the log, and closing the last connection copies them."""
    server = SqliteQueue(tmp_path, in_loop=True)
    assert server._checkpointer is not None
    server._checkpointer.close()  # as if the server had none
    server._checkpointer = None
    try:
        await server.enqueue(_messages(200, "a"))
        log, copied = _log_frames(tmp_path / "queue.sqlite3")
        assert log > 0
    finally:
        await server.close()
    log, copied = _log_frames(tmp_path / "queue.sqlite3")
    assert log == copied  # the last close checkpointed
