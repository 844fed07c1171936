"""What ingest stores: every accepted message once per destination, a user's messages in order,
whatever the size of the request (the SQLite queue inserts them in multi-row statements)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sdk.queue import Accepted, SqliteQueue, lane_of


@pytest.mark.parametrize("sizes", [[1], [2, 3], [127], [128], [129], [100, 100, 100], [300, 7]])
async def test_every_row_is_stored_once_in_order_per_user(tmp_path: Path, sizes: list[int]):
    queue = SqliteQueue(tmp_path / "data")
    sent: list[Accepted] = []
    n = 0
    for size in sizes:
        batch = [
            Accepted(
                f"m{n + i}",
                b'{"n": %d}' % (n + i),
                f"user-{(n + i) % 7}",
                ["A", "B"] if (n + i) % 3 else ["B"],
                [] if (n + i) % 3 else [("A", "integrations.A is false")],
            )
            for i in range(size)
        ]
        n += size
        sent += batch
        await queue.enqueue(batch)
    expected_rows = sum(len(m.destinations) for m in sent)
    assert queue.pending() == expected_rows
    await queue.close()

    conn = sqlite3.connect(tmp_path / "data" / "queue.sqlite3")
    rows = conn.execute(
        "SELECT id, dest, lane, user_key, message_id, state, attempts, body FROM jobs ORDER BY id"
    ).fetchall()
    filtered = conn.execute(
        "SELECT dest, reason, n FROM counters WHERE kind = 'filtered'"
    ).fetchall()
    conn.close()
    assert len(rows) == expected_rows
    by_id = {m.message_id: m for m in sent}
    assert sorted((r[1], r[4]) for r in rows) == sorted(
        (d, m.message_id) for m in sent for d in m.destinations
    )
    for _, dest, lane, user, message_id, state, attempts, body in rows:
        message = by_id[message_id]
        assert (user, body, state, attempts) == (message.user_key, message.body, 0, 0)
        assert lane == lane_of(user) and dest in message.destinations
    # Per destination and user, ids follow the order the messages were accepted in.
    for dest in ("A", "B"):
        for user in {m.user_key for m in sent}:
            stored = [r[4] for r in rows if r[1] == dest and r[3] == user]
            wanted = [m.message_id for m in sent if m.user_key == user and dest in m.destinations]
            assert stored == wanted
    assert filtered == [("A", "integrations.A is false", sum(1 for m in sent if m.filtered))]
