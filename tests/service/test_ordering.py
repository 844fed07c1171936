"""Per-user order within one destination when a claimed batch holds one user's messages for
different actions (different requests): real HTTP to the sandbox, real SQLite."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectors.sandbox import SandboxSettings
from connectors.sandbox import destination as sandbox_destination
from sdk import Action, AnyMessage, BatchLimits, Context, Subscription
from sdk.queue import Job
from sdk.service import parse_config
from sdk.service._config import DestinationConfig, ServiceConfig
from sdk.service._worker import one_request_per_user, rounds_of
from sdk.testing import Faults, Sandbox
from tests.service.conftest import config_text, delivered, running, until


class _SlowIdentify(Action[SandboxSettings, dict[str, Any]]):
    """Identify, batched, to a destination that takes its time to answer it."""

    name = "slow_identify"
    subscribe = Subscription.of("identify")
    batch = BatchLimits(max_events=100)

    def map(self, event: AnyMessage, settings: SandboxSettings) -> dict[str, Any]:
        return event.to_wire()

    async def perform(self, ctx: Context[SandboxSettings], payload: dict[str, Any]) -> None:
        await self.perform_batch(ctx, [payload])

    async def perform_batch(
        self, ctx: Context[SandboxSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await asyncio.sleep(0.3)
        await ctx.http.post("/v1/batch", json={"batch": list(payloads)})


class _Track(_SlowIdentify):
    """Track, batched, answered at once."""

    name = "track"
    subscribe = Subscription.of("track")

    async def perform_batch(
        self, ctx: Context[SandboxSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json={"batch": list(payloads)})


def _two_actions(url: str) -> ServiceConfig:
    config = parse_config(config_text(url))
    (sandbox,) = config.destinations
    connector = dataclasses.replace(sandbox.connector, actions=[_SlowIdentify(), _Track()])
    return dataclasses.replace(
        config, destinations=[DestinationConfig(sandbox.name, connector, sandbox.settings)]
    )


def _messages(user: str, tag: str) -> list[dict[str, Any]]:
    return [
        {"type": "identify", "userId": user, "messageId": f"{tag}1", "traits": {"plan": "pro"}},
        {"type": "track", "event": "Clicked", "userId": user, "messageId": f"{tag}2"},
        {"type": "track", "event": "Clicked", "userId": user, "messageId": f"{tag}3"},
    ]


async def test_one_users_messages_to_different_actions_keep_their_order(
    sandbox: Sandbox, tmp_path: Path
):
    config = _two_actions(sandbox.url)
    async with running(config, tmp_path / "data", workers=False) as svc:
        # Accepted before any worker runs: the lane claims them in one batch.
        batch = {"batch": _messages("u1", "a") + _messages("u2", "b")}
        assert (await svc.post("/v1/batch", batch)).status_code == 200
    async with running(config, tmp_path / "data") as svc:
        assert await until(lambda: len(delivered(sandbox)) == 6, timeout=15)
    order = [m["messageId"] for m in delivered(sandbox)]
    # The identify goes to a slower request; sent beside the tracks, they would overtake it.
    assert [i for i in order if i.startswith("a")] == ["a1", "a2", "a3"]
    assert [i for i in order if i.startswith("b")] == ["b1", "b2", "b3"]


async def test_a_users_later_messages_wait_behind_their_retry(sandbox: Sandbox, tmp_path: Path):
    config = _two_actions(sandbox.url)
    async with running(config, tmp_path / "data", workers=False) as svc:
        assert (await svc.post("/v1/batch", {"batch": _messages("u1", "a")})).status_code == 200
    sandbox.set_faults(Faults(sequence=[503], retry_after="1"))
    async with running(config, tmp_path / "data") as svc:
        assert await until(lambda: len(delivered(sandbox)) == 3, timeout=20)
        for _ in range(500):  # the sandbox answers before the worker records it
            rows = await svc.service.queue.status(0)
            if rows[0].delivered == 3:
                break
            await asyncio.sleep(0.02)
    first = sandbox.requests[0]
    assert first.status == 503 and [m["messageId"] for m in first.json["batch"]] == ["a1"]
    assert [m["messageId"] for m in delivered(sandbox)] == ["a1", "a2", "a3"]
    assert rows[0].delivered == 3 and rows[0].retrying == 0 and rows[0].dead == 0


def _job(job_id: int, user: str) -> Job:
    return Job(job_id, "D", user, b"{}", 0, 0.0)


def test_rounds_hold_each_users_kth_job_in_claim_order():
    jobs = [_job(1, "a"), _job(2, "b"), _job(3, "a"), _job(4, "c"), _job(5, "a"), _job(6, "b")]
    rounds = [[job.id for job in round_] for round_ in rounds_of(jobs)]
    assert rounds == [[1, 2, 4], [3, 6], [5]]
    assert rounds_of([]) == []


def test_only_a_single_unconditional_batching_action_sends_a_user_in_one_request(
    sandbox: Sandbox,
):
    (plain,) = parse_config(config_text(sandbox.url)).destinations
    assert one_request_per_user(plain)
    (two,) = _two_actions(sandbox.url).destinations
    assert not one_request_per_user(two)
    hook = parse_config(
        config_text(sandbox.url)
        .replace("connector: sandbox", "connector: webhook")
        .replace(f'endpoint: "{sandbox.url}"', f'url: "{sandbox.url}/hook"')
    ).destinations[0]
    action = hook.connector.actions[0]
    expected = len(hook.connector.actions) == 1 and action.batch_limits(hook.settings) is not None
    assert one_request_per_user(hook) is (expected and action.condition is None)
    assert sandbox_destination.actions[0].condition is None


async def test_a_claim_leaves_out_a_settle_still_committing(tmp_path: Path):
    import threading
    import time

    from sdk.queue import Accepted, Settlement, SqliteQueue, lane_of

    lane = lane_of("u1")
    other = next(f"v{i}" for i in range(1000) if lane_of(f"v{i}") == lane)
    queue = SqliteQueue(tmp_path / "data")
    users = ["u1", "u1", "u1", other]
    await queue.enqueue([Accepted(f"m{i}", b"{}", user, ["D"]) for i, user in enumerate(users)])
    first, second = await queue.claim("D", lane, 2, time.time())
    gate = threading.Event()
    queue._writer.submit(lambda conn: gate.wait(10))  # the writer is busy: the settle waits
    settle = asyncio.ensure_future(
        queue.settle(
            "D", Settlement(delivered=[first], retry=[(second, time.time() + 60, "HTTP 503")])
        )
    )
    await asyncio.sleep(0)
    # Not committed yet: neither job comes back, nor u1's later job (it waits for the retry).
    assert [job.user_key for job in await queue.claim("D", lane, 10, time.time())] == [other]
    gate.set()
    await settle
    assert [job.user_key for job in await queue.claim("D", lane, 10, time.time())] == [other]
    (row,) = await queue.status(time.time())
    assert (row.delivered, row.retrying, row.queued) == (1, 1, 2)
    await queue.close()


async def test_a_message_the_destination_filters_is_counted_with_its_reason(
    sandbox: Sandbox, tmp_path: Path
):
    config = parse_config(
        config_text(sandbox.url)
        .replace("connector: sandbox", "connector: webhook")
        .replace(f'endpoint: "{sandbox.url}"', f'url: "{sandbox.url}/hook"')
        + "    actions:\n      post_event:\n"
        + '        subscribe: \'type = "track" and event = "Order Completed"\'\n'
    )
    async with running(config, tmp_path / "data") as svc:
        batch = {
            "batch": [
                {"type": "track", "userId": "u1", "event": "Viewed", "messageId": "v1"},
                {"type": "track", "userId": "u1", "event": "Order Completed", "messageId": "o1"},
            ]
        }
        assert (await svc.post("/v1/batch", batch)).status_code == 200
        assert await until(lambda: len(sandbox.requests) == 1)
        for _ in range(500):  # the sandbox answers before the worker records it
            (row,) = await svc.service.queue.status(0)
            if row.delivered == 1 and row.filtered_total == 1:
                break
            await asyncio.sleep(0.02)
        metrics = (await svc.client.get(f"{svc.url}/metrics")).text
    assert [r.json["messageId"] for r in sandbox.requests] == ["o1"]
    assert row.delivered == 1 and row.queued == 0 and row.dead == 0
    ((reason, count),) = row.filtered.items()
    assert count == 1 and reason.startswith("post_event: ") and "Viewed" not in reason
    assert "destkit_filtered_total" in metrics and reason[:20] in metrics
