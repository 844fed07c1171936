"""The Redis Streams queue: for more than one machine (``--queue redis://HOST:PORT/DB``).

Each destination's jobs are spread over ``REDIS_LANES`` streams by the user's hash (32: more
than one worker's ``LANES`` slots, so that more workers put more batches in flight; see
:mod:`sdk.queue._redis_keys`), and each destination reads them through its own consumer group
(named after it). Ingest ``XADD``\\ s a request's jobs in one script (one round trip) and
answers 200 only after Redis replied: with AOF on (``appendonly yes``) the write is in Redis's
append-only file before that reply, so it survives Redis being killed; ``appendfsync always``
also fsyncs it first (power loss safe), ``everysec`` may lose the last second on a power loss.

Workers (in ``destkit worker`` or ``destkit serve``) claim a lane under a lease (one consumer
per lane at a time, so a user's messages keep their order), ``XREADGROUP`` its jobs, and
``XACK`` + ``XDEL`` them only after the destination answered (in the script of the slot's next
claim: one round trip a batch). Jobs held by a worker that died are claimed again with
``XAUTOCLAIM`` once its lease (the visibility timeout) ran out. Retries wait in a per-lane
sorted set scored by due time and return to the stream when due; a user's later jobs wait with
them. Dead letters go to their own stream; counters live in one hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from sdk.queue import _redis_keys as layout
from sdk.queue._interface import (
    LANES,
    Accepted,
    DeadLetter,
    DestinationStatus,
    Job,
    Queue,
    QueueError,
    Settlement,
)
from sdk.queue._redis_limit import RedisRateLimiter
from sdk.queue._redis_scripts import CLAIM, ENQUEUE, RELEASE, SETTLE
from sdk.queue._redis_settle import Claimed, Pending, resolve, settlement_docs

__all__ = ["DEFAULT_VISIBILITY", "RedisQueue"]

T = TypeVar("T")

#: Seconds a worker holds a lane (and its claimed jobs) before another may take them over.
DEFAULT_VISIBILITY = 30.0
#: Seconds a consumer that stopped claiming still counts for the fair share of lanes (a live
#: worker's idle lanes look every quarter second).
_LIVE = 5


def parse_url(url: str) -> tuple[str, float]:
    """Split ``redis://HOST:PORT/DB?visibility=S`` into Redis's URL and the visibility timeout;
    one-line errors name the rule."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise QueueError(f"--queue: {parts.scheme or url!r} is not redis://HOST:PORT/DB")
    query = parse_qsl(parts.query)
    visibility = DEFAULT_VISIBILITY
    kept = []
    for key, value in query:
        if key == "visibility":
            try:
                visibility = float(value)
            except ValueError:
                visibility = -1.0
            if not 0 < visibility <= 86400:
                raise QueueError("--queue: visibility must be seconds between 0 and 86400")
        else:
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), visibility


class RedisQueue(Queue):
    """The queue in the Redis at ``url`` (``redis://HOST:PORT/DB``, optionally ``?visibility=S``,
    the seconds before a dead worker's jobs are claimed again).

    A lane's settle rides on the lane's next claim (``settles_in_background``): the CLAIM
    script settles the last batch first, then claims, so a batch costs one round trip; a
    settle that no claim follows at once is sent alone, and the lane's next claim waits for it.
    """

    settles_in_background = True

    def __init__(self, url: str) -> None:
        target, self.visibility = parse_url(url)
        try:
            self._redis: Any = aioredis.Redis.from_url(
                target, socket_connect_timeout=2.0, socket_timeout=10.0, max_connections=64
            )
        except (ValueError, RedisError) as exc:
            raise QueueError(f"--queue: {exc}") from None
        self._claim = self._redis.register_script(CLAIM)
        self._settle = self._redis.register_script(SETTLE)
        self._release = self._redis.register_script(RELEASE)
        self._enqueue = self._redis.register_script(ENQUEUE)
        self.consumer = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._pending = 0
        self._claimed: dict[tuple[str, int, int], Claimed] = {}  # see Claimed
        self._held: set[tuple[str, int]] = set()  # lanes claimed and not yet settled
        # by (destination, slot): settles for its next claim, settles sent alone, next lane
        self._waiting: dict[tuple[str, int], Pending] = {}
        self._running: dict[tuple[str, int], asyncio.Future[None]] = {}
        self._turn: dict[tuple[str, int], int] = {}
        self._working: set[str] = set()  # destinations this consumer claims from

    def rate_limiter(self, destination: str, rate: float) -> RedisRateLimiter:
        """The destination's rate limit, kept in this Redis: it holds across every worker."""
        return RedisRateLimiter(self._redis, layout.rate(destination), rate)

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RedisError as exc:
            raise QueueError(f"redis: {exc}") from None

    async def close(self) -> None:
        with contextlib.suppress(RedisError):
            for dest, lane in self._held:  # a clean stop frees its lanes at once
                await self._release(keys=[layout.lane_keys(dest, lane)[3]], args=[self.consumer])
            for dest in self._working:  # and leaves the others their fair share at once
                await self._redis.zrem(layout.consumers(dest), self.consumer)
            await self._redis.aclose()

    # -- ingest and workers -----------------------------------------------------------------

    async def enqueue(self, messages: Sequence[Accepted]) -> None:
        now = time.time()
        order = time.time_ns()
        streams: dict[str, int] = {layout.COUNTERS: 1, layout.DESTS: 2, layout.PENDING: 3}
        # A lane's key index, as the script's argument, by (destination, lane): a request's
        # messages share a destination's few lanes, so each key is written once a request.
        indexes: dict[tuple[str, int], bytes] = {}
        dests: set[str] = set()
        args: list[bytes | str | int] = [b"", b""]  # the counts and destinations, set below
        filtered: dict[tuple[str, str], int] = {}
        lane_of_user, pack_job, stream = layout.lane_of_user, layout.pack_job, layout.stream
        for n, message in enumerate(messages):
            if message.destinations:
                user_key = message.user_key
                lane = lane_of_user(user_key)
                packed = pack_job(
                    f"{order + n:020d}", user_key, message.message_id, 0, now, message.body
                )
                for dest in message.destinations:
                    index = indexes.get((dest, lane))
                    if index is None:
                        streams[stream(dest, lane)] = position = len(streams) + 1
                        index = indexes[(dest, lane)] = b"%d" % position
                        dests.add(dest)
                    args += (index, packed)
            for dest, reason in message.filtered:
                filtered[(dest, reason)] = filtered.get((dest, reason), 0) + 1
        dests.update(dest for dest, _ in filtered)
        counts = [[layout.counter(d, "filtered", r), n] for (d, r), n in filtered.items()]
        args[0], args[1] = orjson.dumps(counts), orjson.dumps(sorted(dests))
        self._pending = int(await self._call(self._enqueue(keys=list(streams), args=args)))

    async def claim(self, destination: str, lane: int, limit: int, now: float) -> list[Job]:
        """Up to ``limit`` jobs of one of the lanes of the worker's slot ``lane`` (see
        :mod:`sdk.queue._redis_keys`): the first, in turn, that has jobs and is free."""
        slot = (destination, lane)
        # The slot's last settle rides on this claim (one round trip a batch); one already
        # sent alone is waited for first (a claim never sees the jobs of a settle in flight).
        carried = self._waiting.pop(slot, None)
        if carried is None and slot in self._running:
            await asyncio.wait([self._running[slot]])
        args: list[str | int | bytes] = [
            destination,
            self.consumer,
            limit,
            repr(now),
            int(self.visibility * 1000),
            _LIVE,
            b"" if carried is None else carried.doc,
            0 if carried is None else carried.lane // LANES,
            layout.SLOT_LANES,
            self._turn.get(slot, 0),
        ]
        self._working.add(destination)
        keys = layout.claim_keys(destination, lane)
        try:
            reply = await self._call(self._claim(keys=keys, args=args))
        except BaseException as exc:
            if carried is not None:
                resolve(carried.done, QueueError(str(exc) or "redis: cancelled before its reply"))
            raise
        if carried is not None:
            resolve(carried.done)
        if isinstance(reply[0], int):
            self._pending = reply[0]
        if reply[1] < 0:
            return []
        self._turn[slot] = reply[1] + 1
        taken = lane + LANES * reply[1]
        self._held.add((destination, taken))
        claimed = self._claimed
        jobs: list[Job] = []
        unpack = layout.unpack_job
        for i in range(2, len(reply), 2):
            text = reply[i].decode()
            order, user_key, message_id, attempts, enqueued, body = unpack(reply[i + 1])
            ms, seq = text.split("-")
            job_id = int(ms) * layout.SEQ + int(seq)
            claimed[(destination, taken, job_id)] = (taken, text, order, message_id)
            jobs.append(Job(job_id, destination, user_key, body, attempts, enqueued))
        return jobs

    async def settle(self, destination: str, settlement: Settlement) -> None:
        """Settle a batch: its document waits one turn of the event loop for the slot's next
        claim to carry it (the worker claims again at once after a full batch), else it is
        sent alone; returns once Redis has it either way."""
        loop = asyncio.get_running_loop()
        for lane, doc in settlement_docs(destination, settlement, self._claimed).items():
            self._held.discard((destination, lane))
            slot = (destination, lane % LANES)
            older = self._waiting.pop(slot, None)
            if older is not None:  # a settle of the slot nobody claimed after: it goes first
                await self._alone(slot, older)
            mine = Pending(doc, lane, loop.create_future())
            self._waiting[slot] = mine
            await asyncio.sleep(0)  # the slot's claim, if it comes now, carries it
            if self._waiting.get(slot) is mine:
                del self._waiting[slot]
                await self._alone(slot, mine)
            await mine.done

    async def _alone(self, slot: tuple[str, int], pending: Pending) -> None:
        """Send a settlement by itself (SETTLE); resolves ``pending.done``, never raises."""
        self._running[slot] = pending.done
        keys = layout.settle_keys(slot[0], pending.lane)
        try:
            reply = await self._call(
                self._settle(keys=keys, args=[slot[0], self.consumer, pending.doc])
            )
        except QueueError as exc:
            resolve(pending.done, QueueError(str(exc)))
        except BaseException:
            pending.done.cancel()
            raise
        else:
            self._pending = int(reply)
            resolve(pending.done)
        finally:
            if self._running.get(slot) is pending.done:
                del self._running[slot]

    def pending(self) -> int:
        return self._pending

    # -- operating it ---------------------------------------------------------------------

    async def status(self, now: float) -> list[DestinationStatus]:
        names = sorted(d.decode() for d in await self._call(self._redis.smembers(layout.DESTS)))
        counters = await self._call(self._redis.hgetall(layout.COUNTERS))
        pipe = self._redis.pipeline(transaction=False)
        for dest in names:
            for lane in range(layout.REDIS_LANES):
                keys = layout.lane_keys(dest, lane)
                pipe.xlen(keys[0])
                pipe.zcard(keys[1])
                pipe.xrange(keys[0], count=1)
                pipe.zrange(keys[1], 0, 0)
        replies = await self._call(pipe.execute())
        found = {name: DestinationStatus(name) for name in names}
        for i, dest in enumerate(names):
            entry = found[dest]
            oldest: float | None = None
            for lane in range(layout.REDIS_LANES):
                at = (i * layout.REDIS_LANES + lane) * 4
                queued, retrying, first, parked = replies[at : at + 4]
                entry.queued += int(queued)
                entry.retrying += int(retrying)
                stamps = [layout.job_fields(first[0][1])[4]] if first else []
                if parked:
                    flat = [part.encode() for part in orjson.loads(parked[0])]
                    fields = dict(zip(flat[::2], flat[1::2], strict=True))
                    stamps.append(layout.job_fields(fields)[4])
                for stamp in stamps:
                    oldest = stamp if oldest is None else min(oldest, stamp)
            entry.oldest_pending_age_s = None if oldest is None else max(0.0, now - oldest)
        for key, value in counters.items():
            dest, kind, reason = layout.split_counter(key)
            entry = found.setdefault(dest, DestinationStatus(dest))
            if kind == "delivered":
                entry.delivered = int(value)
            elif kind == "filtered":
                entry.filtered[reason] = int(value)
        for letter in await self._all_dead(None):
            found.setdefault(letter.destination, DestinationStatus(letter.destination)).dead += 1
        return [found[name] for name in sorted(found)]

    async def _all_dead(self, destination: str | None) -> list[DeadLetter]:
        entries = await self._call(self._redis.xrange(layout.DEAD))
        letters = []
        for raw_id, flat in entries:
            f = {k.decode(): v for k, v in flat.items()}
            dest = f["d"].decode()
            if destination is not None and dest != destination:
                continue
            letters.append(
                DeadLetter(
                    layout.id_int(raw_id),
                    dest,
                    f["m"].decode(),
                    int(f["a"]),
                    f["err"].decode("utf-8", "replace"),
                    float(f["e"]),
                    f["b"],
                )
            )
        return letters

    async def dead_letters(self, destination: str | None, limit: int) -> list[DeadLetter]:
        return (await self._all_dead(destination))[:limit]

    async def dead_letter(self, job_id: int) -> DeadLetter | None:
        for letter in await self._all_dead(None):
            if letter.id == job_id:
                return letter
        return None

    async def replay(self, destination: str | None, job_id: int | None = None) -> int:
        entries = await self._call(self._redis.xrange(layout.DEAD))
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        count = 0
        for raw_id, flat in entries:
            f = {k.decode(): v for k, v in flat.items()}
            dest = f["d"].decode()
            if destination is not None and dest != destination:
                continue
            if job_id is not None and layout.id_int(raw_id) != job_id:
                continue
            user = f["u"].decode("utf-8", "surrogatepass")
            lane = layout.lane_of_user(user)
            packed = layout.pack_job(f["o"].decode(), user, f["m"].decode(), 0, now, f["b"])
            pipe.xadd(layout.stream(dest, lane), {layout.JOB_FIELD: packed})
            pipe.xdel(layout.DEAD, raw_id)
            count += 1
        pipe.incrby(layout.PENDING, count)
        self._pending = int((await self._call(pipe.execute()))[-1])
        return count

    async def purge(self, destination: str | None) -> int:
        letters = await self._all_dead(destination)
        if not letters:
            return 0
        ids = [layout.id_text(letter.id) for letter in letters]
        pipe = self._redis.pipeline(transaction=True)
        pipe.xdel(layout.DEAD, *ids)
        await self._call(pipe.execute())
        return len(letters)
