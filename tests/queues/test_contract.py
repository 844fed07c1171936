"""The queue contract, the same tests on both backends: SQLite (a temp dir) and Redis (the
session's real redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sdk.queue import (
    LANES,
    Accepted,
    Job,
    Queue,
    QueueError,
    Settlement,
    SqliteQueue,
    lane_of,
    open_queue,
)


def _message(i: int, user: str = "u1", dests: tuple[str, ...] = ("A",)) -> Accepted:
    body = f'{{"type":"track","messageId":"m{i}","userId":"{user}"}}'.encode()
    return Accepted(f"m{i}", body, user, dests, [("B", "integrations.B is false")])


@pytest.fixture(params=["sqlite", "sqlite-loop", "redis"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Queue]:
    if request.param == "sqlite":
        made: Queue = SqliteQueue(tmp_path / "data")
    elif request.param == "sqlite-loop":  # destkit serve's: writes on the event loop's thread
        made = SqliteQueue.for_server(tmp_path / "data")
    else:
        url = request.getfixturevalue("redis_url")
        made = open_queue(url + "?visibility=0.5", tmp_path)
    yield made
    await made.close()


async def _drain(queue: Queue, dest: str, user: str, now: float | None = None) -> list[Job]:
    return await queue.claim(dest, lane_of(user), 100, now or time.time())


async def test_enqueue_claim_deliver_and_count(queue: Queue) -> None:
    await queue.enqueue([_message(i) for i in range(5)])
    assert queue.pending() == 5
    jobs = await _drain(queue, "A", "u1")
    assert [j.body for j in jobs] == [_message(i).body for i in range(5)]
    assert all(j.attempts == 0 and j.user_key == "u1" for j in jobs)
    await queue.settle("A", Settlement(delivered=jobs))
    assert queue.pending() == 0
    assert await _drain(queue, "A", "u1") == []
    (status,) = [s for s in await queue.status(time.time()) if s.destination == "A"]
    assert (status.queued, status.retrying, status.delivered, status.dead) == (0, 0, 5, 0)
    (filtered,) = [s for s in await queue.status(time.time()) if s.destination == "B"]
    assert filtered.filtered == {"integrations.B is false": 5}


async def test_a_retrying_user_holds_their_later_jobs_in_order(queue: Queue) -> None:
    await queue.enqueue([_message(0), _message(1, user="u2")])
    first = await _drain(queue, "A", "u1")
    assert [j.body for j in first] == [_message(0).body]
    due = time.time() + 0.4
    await queue.settle("A", Settlement(retry=[(first[0], due, "HTTP 503")]))
    await queue.enqueue([_message(2)])
    assert await _drain(queue, "A", "u1") == []  # m2 waits behind the retry of m0
    other = await _drain(queue, "A", "u2")
    assert [j.body for j in other] == [_message(1, user="u2").body]
    await queue.settle("A", Settlement(delivered=other))
    (status,) = [s for s in await queue.status(time.time()) if s.destination == "A"]
    assert status.queued + status.retrying == 2 and status.oldest_pending_age_s is not None
    later: list[Job] = []
    for _ in range(3):  # the retry first; the user's later job with it or right after it
        batch = await _drain(queue, "A", "u1", due + 0.01)
        await queue.settle("A", Settlement(delivered=batch))
        later += batch
    assert [j.body for j in later] == [_message(0).body, _message(2).body]
    assert later[0].attempts == 1
    assert queue.pending() == 0


async def test_dead_letters_list_show_replay_purge(queue: Queue) -> None:
    await queue.enqueue([_message(0), _message(1)])
    jobs = await _drain(queue, "A", "u1")
    await queue.settle("A", Settlement(dead=[(jobs[0], "HTTP 400: bad"), (jobs[1], "HTTP 400")]))
    letters = await queue.dead_letters("A", 10)
    assert [(d.message_id, d.attempts, d.error) for d in letters] == [
        ("m0", 1, "HTTP 400: bad"),
        ("m1", 1, "HTTP 400"),
    ]
    shown = await queue.dead_letter(letters[0].id)
    assert shown is not None and shown.body == _message(0).body
    assert await queue.dead_letters("Other", 10) == []
    assert await queue.replay("A", letters[0].id) == 1
    again = await _drain(queue, "A", "u1")
    assert [(j.body, j.attempts) for j in again] == [(_message(0).body, 0)]
    await queue.settle("A", Settlement(delivered=again))
    assert await queue.purge(None) == 1
    assert await queue.dead_letters(None, 10) == []


async def test_redis_reclaims_the_jobs_of_a_dead_worker(redis_url: str, tmp_path: Path) -> None:
    dead = open_queue(redis_url + "?visibility=0.3", tmp_path)
    alive = open_queue(redis_url + "?visibility=0.3", tmp_path)
    try:
        await dead.enqueue([_message(i) for i in range(3)])
        held = await _drain(dead, "A", "u1")  # then this worker "dies" (never settles)
        assert len(held) == 3
        assert await _drain(alive, "A", "u1") == []  # the lane is leased to the first worker
        await asyncio.sleep(0.4)
        taken = await _drain(alive, "A", "u1")
        assert [j.body for j in taken] == [j.body for j in held]
        await alive.settle("A", Settlement(delivered=taken))
        assert await _drain(alive, "A", "u1") == []
    finally:
        await dead.close()
        await alive.close()


async def test_redis_that_forgot_its_scripts_still_ingests_and_settles(
    redis_url: str, tmp_path: Path
) -> None:
    """A restarted Redis has no scripts cached: the first ingest and the first settle (its
    lease release runs inside the MULTI) load them again; nothing is counted twice."""
    first = open_queue(redis_url + "?visibility=30", tmp_path)
    other = open_queue(redis_url + "?visibility=30", tmp_path)
    try:
        await first.enqueue([_message(0)])
        jobs = await _drain(first, "A", "u1")
        await first._redis.script_flush()  # type: ignore[attr-defined]
        await first.enqueue([_message(1)])
        assert first.pending() == 2
        await first.settle("A", Settlement(delivered=jobs))
        assert first.pending() == 1
        # the lease was released: another worker takes the lane at once, not in 30 s
        (job,) = await _drain(other, "A", "u1")
        assert job.body == _message(1).body
        await other.settle("A", Settlement(delivered=[job]))
        (status,) = [s for s in await other.status(time.time()) if s.destination == "A"]
        assert (status.queued, status.delivered) == (0, 2)
    finally:
        await first.close()
        await other.close()


async def test_redis_down_is_a_queue_error(tmp_path: Path) -> None:
    pytest.importorskip("redis")
    queue = open_queue("redis://127.0.0.1:1/0", tmp_path)
    with pytest.raises(QueueError, match="redis"):
        await queue.enqueue([_message(0)])
    await queue.close()


def test_bad_queue_url_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(QueueError, match="--queue"):
        open_queue("http://x", tmp_path)
    pytest.importorskip("redis")
    with pytest.raises(QueueError, match="visibility"):
        open_queue("redis://127.0.0.1:1/0?visibility=x", tmp_path)


def _one_user_per_lane() -> list[str]:
    """A user in each of a destination's Redis lanes (lane n at index n)."""
    from sdk.queue._redis_keys import REDIS_LANES, lane_of_user

    users: dict[int, str] = {}
    n = 0
    while len(users) < REDIS_LANES:
        users.setdefault(lane_of_user(f"user-{n}"), f"user-{n}")
        n += 1
    return [users[lane] for lane in range(REDIS_LANES)]


async def _claim_slots(queue: Queue) -> dict[int, list[Job]]:
    """A claim on each of a worker's slots; the jobs by the Redis lane they came from."""
    from sdk.queue._redis_keys import lane_of_user

    got: dict[int, list[Job]] = {}
    for slot in range(LANES):
        jobs = await queue.claim("A", slot, 100, time.time())
        if jobs:
            lanes = {lane_of_user(job.user_key) for job in jobs}
            assert len(lanes) == 1 and lanes.pop() % LANES == slot  # one lane, of this slot
            got[lane_of_user(jobs[0].user_key)] = jobs
    return got


async def test_redis_more_workers_have_more_batches_in_flight(
    redis_url: str, tmp_path: Path
) -> None:
    """Each worker has a batch in flight in each of its slots, on lanes no other holds: two
    workers, twice the batches in flight of one (the lanes outnumber one worker's slots)."""
    first = open_queue(redis_url, tmp_path)
    second = open_queue(redis_url, tmp_path)
    users = _one_user_per_lane()
    try:
        await first.enqueue([_message(i, user) for i, user in enumerate(users * 2)])
        held_first = await _claim_slots(first)
        held_second = await _claim_slots(second)
        assert len(held_first) == len(held_second) == LANES
        assert not set(held_first) & set(held_second)
        assert all(len(jobs) == 2 for jobs in [*held_first.values(), *held_second.values()])
        # a slot takes its lanes in turn: after settling one, the next of its lanes
        lane = next(iter(held_first))
        await first.settle("A", Settlement(delivered=held_first[lane]))
        again = await first.claim("A", lane % LANES, 100, time.time())
        assert again and _lane(again) != lane and _lane(again) % LANES == lane % LANES
    finally:
        await first.close()
        await second.close()


def _lane(jobs: list[Job]) -> int:
    from sdk.queue._redis_keys import lane_of_user

    return lane_of_user(jobs[0].user_key)


async def test_redis_workers_share_the_lanes_fairly(redis_url: str, tmp_path: Path) -> None:
    """With more workers than the lanes give a full set of slots each, a worker holds at most
    its fair share (``ceil(lanes / live workers)``): the first, alone, holds a lane in every
    slot; once four more claim too, it gives up the lanes past its share as it settles them,
    and a clean stop gives its lanes to the others at once."""
    from sdk.queue._redis_keys import REDIS_LANES

    first = open_queue(redis_url, tmp_path)
    others = [open_queue(redis_url, tmp_path) for _ in range(4)]
    users = _one_user_per_lane()
    try:
        await first.enqueue([_message(i, user) for i, user in enumerate(users * 2)])
        held = await _claim_slots(first)
        assert len(held) == LANES  # alone: a lane in every slot
        for slot, other in enumerate(others):  # each takes a lane, and now counts
            assert await other.claim("A", slot, 100, time.time())
        for jobs in held.values():
            await first.settle("A", Settlement(delivered=jobs))
        share = -(-REDIS_LANES // 5)
        assert share < LANES
        again = await _claim_slots(first)
        assert len(again) == share
        (left,) = set(range(LANES)) - {lane % LANES for lane in again}
        assert await first.claim("A", left, 100, time.time()) == []  # at its share: no more
        await first.close()  # a clean stop: its lanes are free at once, and its share
        leases = [f"destkit:l:A:{lane}" for lane in again]
        assert await others[0]._redis.mget(leases) == [None] * share  # type: ignore[attr-defined]
        assert len(await _claim_slots(others[0])) == LANES  # its share: ceil(32 / 4)
    finally:
        await first.close()
        for other in others:
            await other.close()


async def test_redis_jobs_of_two_lanes_with_the_same_stream_id_settle_apart(
    redis_url: str, tmp_path: Path
) -> None:
    """Stream ids are unique within a lane's stream only: two jobs written in the same
    millisecond to two lanes share one (``ms-0``). Each is acknowledged in its own lane, and
    its dead letter keeps its own message id."""
    queue = open_queue(redis_url, tmp_path)
    users = _one_user_per_lane()[:2]
    try:
        await queue.enqueue([_message(i, user) for i, user in enumerate(users)])
        (a,) = await _drain(queue, "A", users[0])
        (b,) = await _drain(queue, "A", users[1])
        await queue.settle("A", Settlement(dead=[(a, "HTTP 400")]))
        await queue.settle("A", Settlement(delivered=[b]))
        assert [d.message_id for d in await queue.dead_letters("A", 10)] == ["m0"]
        assert queue.pending() == 0
        assert await _drain(queue, "A", users[0]) == await _drain(queue, "A", users[1]) == []
    finally:
        await queue.close()
