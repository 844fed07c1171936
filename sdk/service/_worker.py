"""Workers: per destination, ``LANES`` lanes each claim a batch, deliver it with the engine,
and settle it in the queue; one batch of a lane is delivered at a time (so a user's messages
keep their order). A store that allows it (``Queue.settles_in_background``) commits a settle
while the lane claims and delivers its next batch: its claims leave out the settling jobs and
the jobs of users whose retry that settle holds.

Within a claimed batch, a user's messages could still go out in different requests at once
(different actions, or batch keys) and overtake each other. Unless every message of the
destination goes through one batching action with one batch key, so that a user's messages in
a batch share one request, the batch is delivered in rounds: round k holds each user's k-th
message of the batch, and a round starts once the one before it has been answered. A user
whose message failed retryably has their later messages of the batch held (not sent): they are
settled as retries due with it, so they never overtake it.

Retries: exponential backoff with jitter (the SDK's :class:`RetryPolicy`), or the destination's
``Retry-After`` when longer, for as long as the delivery is within ``retry_window`` of its
acceptance; after that, or on a permanent error, the job is dead-lettered with its last error
and attempt count. A job is settled only after the destination answered: a crash before that
leaves it queued, and it is delivered again (at least once; ``messageId`` travels for dedup).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from sdk.connector._destination import Action
from sdk.delivery._runtime import AsyncDelivery
from sdk.queue._interface import LANES, Job, Queue, QueueError, Settlement
from sdk.service._config import DeliveryOptions, DestinationConfig
from sdk.service._deliver import Verdict, deliver_batch
from sdk.service._log import ServiceLog
from sdk.service._metrics import ServiceMetrics
from sdk.transport._retry import RetryPolicy

__all__ = [
    "SERVICE_RETRY",
    "DestinationWorker",
    "claim_size",
    "one_request_per_user",
    "rounds_of",
]

#: The waits between attempts: 1 s doubling to 10 minutes, plus up to 1 s of jitter.
SERVICE_RETRY = RetryPolicy(initial_backoff=1.0, max_backoff=600.0, multiplier=2.0, jitter=1.0)
#: A job not sent because an earlier job of its user in the same batch is retrying.
_HELD = Verdict("held", "not sent: waits behind an earlier message of this user that is retrying")
#: How often an idle lane looks for due retries when no new message woke it.
_IDLE_POLL = 0.25
#: After a partial batch, a lane waits this long for more jobs before claiming again: a stream
#: of small requests would otherwise be delivered a few jobs at a time (a request and two
#: commits for each few events), far below what full batches carry.
_LINGER = 0.05


def one_request_per_user(config: DestinationConfig) -> bool:
    """Whether a user's messages in one claimed batch always share one request: the
    destination has a single batching action, taking every message it subscribes to without a
    condition, that does not split batches by key."""
    actions = config.connector.actions
    if len(actions) != 1:
        return False
    action = actions[0]
    try:
        limits = action.batch_limits(config.settings)
    except Exception:  # a connector bug: the engine reports it per event; stay safe here
        return False
    overrides_key = type(action).batch_key is not Action.batch_key
    return limits is not None and action.condition is None and not overrides_key


def rounds_of(jobs: list[Job]) -> list[list[Job]]:
    """The batch as rounds: round k holds each user's k-th job, in claim order."""
    rounds: list[list[Job]] = []
    seen: dict[str, int] = {}
    for job in jobs:
        k = seen.get(job.user_key, 0)
        seen[job.user_key] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(job)
    return rounds


def claim_size(config: DestinationConfig, limit: int) -> int:
    """Jobs a lane claims at once: no more than one request of the destination's smallest
    batch (1 when an action sends one event per request), so the engine never sends one lane's
    jobs in concurrent requests that could overtake each other."""
    size = limit
    for action in config.connector.actions:
        try:
            limits = action.batch_limits(config.settings)
        except Exception:  # a connector bug: the engine reports it per event; stay safe here
            limits = None
        size = min(size, limits.max_events if limits is not None else 1)
    return max(size, 1)


class DestinationWorker:
    """Delivers one configured destination's jobs."""

    def __init__(
        self,
        config: DestinationConfig,
        queue: Queue,
        options: DeliveryOptions,
        metrics: ServiceMetrics,
        log: ServiceLog,
        lanes: Sequence[int] = range(LANES),
    ) -> None:
        self.name = config.name
        #: The lanes this worker delivers (all of them, unless worker processes share them).
        self.lanes = list(lanes)
        self.queue = queue
        self.options = options
        self.metrics = metrics
        self.log = log
        # The engine routes by the destination's name: the configured one, as ingest did.
        connector = dataclasses.replace(config.connector, name=config.name)
        # A limit shared by every worker on the queue (Redis), else the engine's own; worker
        # processes sharing the lanes (SQLite) each take their lanes' share of it, so that
        # together they never exceed it.
        rate = connector.rate_limit
        limiter = queue.rate_limiter(config.name, rate) if rate else None
        if rate and limiter is None and len(self.lanes) < LANES:
            connector = dataclasses.replace(connector, rate_limit=rate * len(self.lanes) / LANES)
        self.delivery: AsyncDelivery[Any] = AsyncDelivery(
            connector,
            config.settings,
            retry=RetryPolicy(max_attempts=1),
            concurrency=LANES,
            # The lean HTTP/1.1 carrier (httpx's when the environment names a proxy): its
            # lifecycles become verdicts, not records.
            http="direct",
            rate_limiter=limiter,
        )
        self.claim_size = claim_size(config, options.batch_size)
        self.in_rounds = not one_request_per_user(config)
        self.wake = asyncio.Event()
        self.failing = False
        self._stopping = False
        self._busy = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._settles: dict[int, asyncio.Task[None]] = {}

    def start(self) -> None:
        """Start the lanes."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._lane(lane)) for lane in self.lanes]

    async def stop(self, grace: float) -> None:
        """Claim nothing more; let batches in flight finish for up to ``grace`` seconds, then
        cancel them (their jobs stay queued and are delivered after a restart)."""
        self._stopping = True
        self.wake.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for lane in list(self._settles):  # a lane cancelled while its settle committed
            await self._last_settle(lane)
        await self.delivery.aclose()

    async def _lane(self, lane: int) -> None:
        claimed = 0
        backoff = 0.5  # after a queue error: doubling to 30 s (a Redis that is down)
        while not self._stopping:
            if 0 < claimed < self.claim_size:
                await asyncio.sleep(_LINGER)
            try:
                claimed = await self._one_batch(lane)
            except QueueError as exc:  # the store will come back: the jobs are still in it
                self.log.event("queue_error", destination=self.name, error=str(exc))
                backoff = min(backoff * 2, 30.0)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.5
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), _IDLE_POLL)
                self.wake.clear()
        await self._last_settle(lane)

    async def _last_settle(self, lane: int) -> None:
        try:
            await self._settled(lane)
        except QueueError as exc:  # its jobs stay queued: delivered again after a restart
            self.log.event("queue_error", destination=self.name, error=str(exc))

    async def _one_batch(self, lane: int) -> int:
        """Claim, deliver and settle one batch; returns how many jobs it held."""
        jobs = await self.queue.claim(self.name, lane, self.claim_size, time.time())
        if not jobs:
            return 0
        if not self.in_rounds:
            verdicts = await deliver_batch(self.delivery, [job.body for job in jobs])
            await self._settle(lane, self._settlement(jobs, verdicts))
            return len(jobs)
        verdict_of: dict[int, Verdict] = {}
        retrying: set[str] = set()
        for round_ in rounds_of(jobs):
            sent = [job for job in round_ if job.user_key not in retrying]
            for job in round_:
                if job.user_key in retrying:
                    verdict_of[job.id] = _HELD
            for job, verdict in zip(
                sent, await deliver_batch(self.delivery, [job.body for job in sent]), strict=True
            ):
                verdict_of[job.id] = verdict
                if verdict.kind == "retry":
                    retrying.add(job.user_key)
        verdicts = [verdict_of[job.id] for job in jobs]
        await self._settle(lane, self._settlement(jobs, verdicts))
        return len(jobs)

    async def _settle(self, lane: int, settlement: Settlement) -> None:
        """Settle a batch: awaited, or (a store that allows it) committing while the lane
        delivers its next batch; one settle in flight per lane, its error raised here next."""
        if not self.queue.settles_in_background:
            await self.queue.settle(self.name, settlement)
            return
        error: QueueError | None = None
        try:
            await self._settled(lane)
        except QueueError as exc:  # its jobs are still queued: delivered again later
            error = exc
        self._settles[lane] = asyncio.get_running_loop().create_task(
            self.queue.settle(self.name, settlement)
        )
        await asyncio.sleep(0)  # its first step: the store leaves its jobs out of claims
        if error is not None:
            raise error

    async def _settled(self, lane: int) -> None:
        """Wait for the lane's settle in flight, if any."""
        task = self._settles.get(lane)
        if task is not None:
            try:
                # Shielded: a lane cancelled at the end of the grace period leaves it
                # committing (``stop`` waits for it).
                await asyncio.shield(task)
            finally:
                if task.done():
                    del self._settles[lane]

    def _settlement(self, jobs: list[Job], verdicts: list[Verdict]) -> Settlement:
        now = time.time()
        delivered: list[Job] = []
        filtered: list[tuple[Job, str]] = []
        dead: list[tuple[Job, str]] = []
        retry: list[tuple[Job, float, str]] = []
        held: list[Job] = []
        due_of_user: dict[str, float] = {}
        for job, verdict in zip(jobs, verdicts, strict=True):
            if verdict.kind == "delivered":
                delivered.append(job)
            elif verdict.kind == "filtered":
                filtered.append((job, verdict.detail))
            elif verdict.kind == "held":
                held.append(job)
            elif verdict.kind == "retry":
                wait = SERVICE_RETRY.backoff(job.attempts + 1)
                if verdict.retry_after is not None:
                    wait = max(wait, verdict.retry_after)
                due = now + wait
                if due - job.enqueued_at > self.options.retry_window:
                    window = f"{self.options.retry_window:g}s"
                    dead.append((job, f"retry window of {window} passed; last: {verdict.detail}"))
                else:
                    # One due time per user: their retried jobs come back together, in order.
                    due_of_user[job.user_key] = max(due, due_of_user.get(job.user_key, 0.0))
                    retry.append((job, due, verdict.detail))
            else:
                dead.append((job, verdict.detail))
        retry = [(job, due_of_user[job.user_key], error) for job, _, error in retry]
        # Not sent: due with the user's retry (at once when that one was dead-lettered).
        retry += [(job, due_of_user.get(job.user_key, now), _HELD.detail) for job in held]
        self._account(now, delivered, filtered, retry, dead)
        return Settlement(delivered, retry, dead, filtered)

    def _account(
        self,
        now: float,
        delivered: list[Job],
        filtered: list[tuple[Job, str]],
        retry: list[tuple[Job, float, str]],
        dead: list[tuple[Job, str]],
    ) -> None:
        reasons: dict[str, int] = {}
        for _, reason in filtered:
            reasons[reason] = reasons.get(reason, 0) + 1
        latencies = [max(0.0, now - job.enqueued_at) for job in delivered]
        self.metrics.settled(self.name, len(delivered), len(retry), len(dead), reasons, latencies)
        if dead:
            for job, error in dead[:3]:  # a burst is summarised, not a line per job
                self.log.event(
                    "dead_letter",
                    destination=self.name,
                    job=job.id,
                    attempts=job.attempts + 1,
                    error=error,
                )
            if len(dead) > 3:
                self.log.event("dead_letter", destination=self.name, more=len(dead) - 3)
        failed = retry or dead
        if failed and not delivered and not self.failing:
            self.failing = True
            error = retry[0][2] if retry else dead[0][1]
            self.log.event("destination_failing", destination=self.name, error=error)
        elif delivered and self.failing:
            self.failing = False
            self.log.event("destination_recovered", destination=self.name)
