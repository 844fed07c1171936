"""Workers: per destination, ``LANES`` lanes each claim a batch, deliver it with the engine,
and settle it in the queue before claiming the next (so a user's messages keep their order).

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
from typing import Any

from sdk.delivery._runtime import AsyncDelivery
from sdk.queue._interface import LANES, Job, Queue, QueueError, Settlement
from sdk.service._config import DeliveryOptions, DestinationConfig
from sdk.service._deliver import Verdict, deliver_batch
from sdk.service._log import ServiceLog
from sdk.service._metrics import ServiceMetrics
from sdk.transport._retry import RetryPolicy

__all__ = ["SERVICE_RETRY", "DestinationWorker", "claim_size"]

#: The waits between attempts: 1 s doubling to 10 minutes, plus up to 1 s of jitter.
SERVICE_RETRY = RetryPolicy(initial_backoff=1.0, max_backoff=600.0, multiplier=2.0, jitter=1.0)
#: How often an idle lane looks for due retries when no new message woke it.
_IDLE_POLL = 0.25
#: After a partial batch, a lane waits this long for more jobs before claiming again: a stream
#: of small requests would otherwise be delivered a few jobs at a time (a request and two
#: commits for each few events), far below what full batches carry.
_LINGER = 0.05


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
    ) -> None:
        self.name = config.name
        self.queue = queue
        self.options = options
        self.metrics = metrics
        self.log = log
        # The engine routes by the destination's name: the configured one, as ingest did.
        connector = dataclasses.replace(config.connector, name=config.name)
        self.delivery: AsyncDelivery[Any] = AsyncDelivery(
            connector,
            config.settings,
            retry=RetryPolicy(max_attempts=1),
            concurrency=LANES,
            http="aiohttp",  # the direct carrier: its lifecycles become verdicts, not records
        )
        self.claim_size = claim_size(config, options.batch_size)
        self._latency = metrics.latency.labels(config.name)
        self.wake = asyncio.Event()
        self.failing = False
        self._stopping = False
        self._busy = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the lanes."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._lane(lane)) for lane in range(LANES)]

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

    async def _one_batch(self, lane: int) -> int:
        """Claim, deliver and settle one batch; returns how many jobs it held."""
        jobs = await self.queue.claim(self.name, lane, self.claim_size, time.time())
        if not jobs:
            return 0
        verdicts = await deliver_batch(self.delivery, [job.body for job in jobs])
        await self.queue.settle(self.name, self._settlement(jobs, verdicts))
        return len(jobs)

    def _settlement(self, jobs: list[Job], verdicts: list[Verdict]) -> Settlement:
        now = time.time()
        delivered: list[Job] = []
        filtered: list[tuple[Job, str]] = []
        dead: list[tuple[Job, str]] = []
        retry: list[tuple[Job, float, str]] = []
        due_of_user: dict[str, float] = {}
        for job, verdict in zip(jobs, verdicts, strict=True):
            if verdict.kind == "delivered":
                delivered.append(job)
                self._latency.observe(max(0.0, now - job.enqueued_at))
            elif verdict.kind == "filtered":
                filtered.append((job, verdict.detail))
                self.metrics.filtered.labels(self.name, verdict.detail).inc()
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
        self._account(delivered, retry, dead)
        return Settlement(delivered, retry, dead, filtered)

    def _account(
        self, delivered: list[Job], retry: list[tuple[Job, float, str]], dead: list[tuple[Job, str]]
    ) -> None:
        if delivered:
            self.metrics.delivered.labels(self.name).inc(len(delivered))
        if retry:
            self.metrics.retried.labels(self.name).inc(len(retry))
        if dead:
            self.metrics.dead.labels(self.name).inc(len(dead))
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
