"""A settled batch as the Redis scripts take it: one JSON document per lane (the ``_SETTLE``
part of ``CLAIM`` and ``SETTLE`` in :mod:`sdk.queue._redis_scripts`), built from what the claim
kept of each job (its stream id, order and message id)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson

from sdk.queue import _redis_keys as layout
from sdk.queue._interface import Job, Settlement

__all__ = ["Claimed", "Pending", "resolve", "settlement_docs"]

#: What a claim keeps of a job until it is settled: its lane, stream id, order, message id,
#: by (destination, lane, job id) (a stream id is unique within its lane's stream only).
Claimed = tuple[int, str, str, str]


@dataclass(slots=True)
class Pending:
    """A lane's settlement on its way to Redis: carried by the lane's next claim, or run alone;
    ``done`` is resolved by whichever sends it (a :class:`QueueError` if that failed)."""

    doc: bytes
    lane: int
    done: asyncio.Future[None]


def resolve(future: asyncio.Future[None], error: BaseException | None = None) -> None:
    """Resolve ``future`` unless it is already (its waiter was cancelled)."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def settlement_docs(
    destination: str, settlement: Settlement, claimed: dict[tuple[str, int, int], Claimed]
) -> dict[int, bytes]:
    """The settlement's JSON document for each lane it touches (one: a claimed batch is one
    lane's), taking its jobs out of ``claimed``."""
    lanes: dict[int, tuple[list[str], dict[str, int], list[list[str]], list[list[str]]]] = {}
    lasts: dict[int, int] = {}  # the largest job id of each lane's

    def part(
        job: Job,
    ) -> tuple[tuple[list[str], dict[str, int], list[list[str]], list[list[str]]], Claimed]:
        lane = layout.lane_of_user(job.user_key)
        kept = claimed.pop((destination, lane, job.id), None)
        if kept is None:  # not claimed here (a test, a second settle): what the job says
            kept = (lane, layout.id_text(job.id), "0" * 20, "")
        entry = lanes.get(kept[0])
        if entry is None:
            entry = lanes[kept[0]] = ([], {}, [], [])
            lasts[kept[0]] = job.id
        elif job.id > lasts[kept[0]]:
            lasts[kept[0]] = job.id
        entry[0].append(kept[1])
        return entry, kept

    def count(counts: dict[str, int], kind: str, reason: str = "") -> None:
        key = layout.counter(destination, kind, reason)
        counts[key] = counts.get(key, 0) + 1

    for job in settlement.delivered:
        entry, _ = part(job)
        count(entry[1], "delivered")
    for job, reason in settlement.filtered:
        entry, _ = part(job)
        count(entry[1], "filtered", reason)
    for job, due, _error in settlement.retry:
        entry, (_, _, order, message_id) = part(job)
        count(entry[1], "retried")
        packed = layout.pack_job(
            order,
            job.user_key,
            message_id,
            job.attempts + 1,
            job.enqueued_at,
            job.body,
        )
        member = [layout.JOB_FIELD, packed.decode("utf-8")]
        entry[2].append([orjson.dumps(member).decode(), repr(due), job.user_key])
    for job, error in settlement.dead:
        entry, (_, _, order, message_id) = part(job)
        count(entry[1], "dead")
        entry[3].append(
            ["d", destination, *_fields(job, order, message_id, job.attempts + 1, error)]
        )
    docs = {}
    for lane, (ids, counts, retries, dead) in lanes.items():
        gone = len(ids) - len(retries)
        after = layout.id_text(lasts[lane] + 1)
        docs[lane] = orjson.dumps([ids, list(counts.items()), retries, dead, gone, after])
    return docs


def _fields(job: Job, order: str, message_id: str, attempts: int, error: str) -> list[str]:
    """A dead letter's fields in the dead-letter stream (``o u m a e err b``)."""
    fields = ["o", order, "u", job.user_key, "m", message_id]
    fields += ["a", str(attempts), "e", repr(job.enqueued_at), "err", error]
    return [*fields, "b", job.body.decode("utf-8")]
