"""The Redis queue's stream layout: a job is one packed field; a settled lane is trimmed, never
past a job still out; entries of the older six-field layout are still claimed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from sdk.queue import Accepted, Job, Settlement, lane_of, open_queue
from sdk.queue import _redis_keys as layout


def _message(i: int, user: str = "u1") -> Accepted:
    body = f'{{"type":"track","messageId":"m{i}","userId":"{user}"}}'.encode()
    return Accepted(f"m{i}", body, user, ("A",))


async def _claim(queue: object, user: str = "u1", now: float | None = None) -> list[Job]:
    return await queue.claim("A", lane_of(user), 100, now or time.time())  # type: ignore[attr-defined]


def _stream(user: str = "u1") -> str:
    return layout.stream("A", layout.lane_of_user(user))


def test_a_job_packs_and_unpacks_whatever_its_user_and_body_hold() -> None:
    user = 'a "quoted"\nuser\u2028 ✓'
    body = '{"userId":"a \\"quoted\\"\\nuser","emoji":"✓"}'.encode()
    packed = layout.pack_job("00000000000000000042", user, "m\n1", 3, 1765000000.123456, body)
    assert packed.count(b"\n") == 1  # the header's newlines are escaped: the first one ends it
    assert layout.unpack_job(packed) == (
        "00000000000000000042",
        user,
        "m\n1",
        3,
        1765000000.123456,
        body,
    )


async def test_a_settled_lane_is_trimmed_but_never_past_a_job_still_out(
    redis_url: str, tmp_path: Path
) -> None:
    queue = open_queue(redis_url + "?visibility=0.3", tmp_path)
    other = open_queue(redis_url + "?visibility=0.3", tmp_path)
    redis = queue._redis  # type: ignore[attr-defined]
    try:
        await queue.enqueue([_message(i) for i in range(3)])
        first, middle, last = await _claim(queue)
        # only the middle job answered: the first is still out, so nothing before the middle
        # one's id may go (a trim to it would lose the first); the middle one is deleted alone
        await queue.settle("A", Settlement(delivered=[middle]))
        assert await redis.xlen(_stream()) == 2
        await asyncio.sleep(0.4)  # the worker "died": its lease and its jobs are taken again
        again = await _claim(other)
        assert [j.body for j in again] == [first.body, last.body]
        await other.settle("A", Settlement(delivered=again))
        assert await redis.xlen(_stream()) == 0
        # a whole batch settled: the lane is trimmed to nothing, later jobs untouched
        await queue.enqueue([_message(i) for i in range(3, 6)])
        batch = await _claim(other)
        await queue.enqueue([_message(6)])
        await other.settle("A", Settlement(delivered=batch))
        assert await redis.xlen(_stream()) == 1
        (late,) = await _claim(other)
        assert late.body == _message(6).body
        await other.settle("A", Settlement(delivered=[late]))
        assert other.pending() == 0
    finally:
        await queue.close()
        await other.close()


async def test_entries_of_the_older_layout_are_claimed_retried_and_reported(
    redis_url: str, tmp_path: Path
) -> None:
    """A queue written before jobs were packed (fields ``o u m a e b``) still delivers."""
    queue = open_queue(redis_url, tmp_path)
    redis = queue._redis  # type: ignore[attr-defined]
    body = b'{"type":"track","messageId":"old-1","userId":"u1"}'
    enqueued = time.time() - 60
    fields = {"o": "0" * 19 + "7", "u": "u1", "m": "old-1", "a": "2", "e": repr(enqueued)}
    try:
        await redis.xadd(_stream(), {**fields, "b": body})
        await redis.incrby(layout.PENDING, 1)
        await redis.sadd(layout.DESTS, "A")
        (status,) = await queue.status(time.time())
        assert status.queued == 1 and status.oldest_pending_age_s == pytest.approx(60, abs=5)
        (job,) = await _claim(queue)
        assert (job.user_key, job.body, job.attempts) == ("u1", body, 2)
        assert job.enqueued_at == pytest.approx(enqueued, abs=0.01)
        due = time.time() + 0.2
        await queue.settle("A", Settlement(retry=[(job, due, "HTTP 503")]))
        (parked,) = await redis.zrange(layout.lane_keys("A", layout.lane_of_user("u1"))[1], 0, 0)
        assert orjson.loads(parked)[0] == layout.JOB_FIELD  # the retry is in the new layout
        (again,) = await _claim(queue, now=due + 0.01)
        assert (again.body, again.attempts) == (body, 3)
        await queue.settle("A", Settlement(dead=[(again, "HTTP 400")]))
        (letter,) = await queue.dead_letters("A", 10)
        assert (letter.message_id, letter.attempts, letter.body) == ("old-1", 4, body)
        assert queue.pending() == 0
    finally:
        await queue.close()
