"""Workers: retries with backoff and Retry-After, dead letters and the dlq commands, per-user
ordering, the retry window; real HTTP to the sandbox, real SQLite."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sdk.cli._main import main
from sdk.queue import lane_of
from sdk.testing import Faults, Sandbox
from tests.service.conftest import batch_of, config_text, delivered, running, until


async def test_retryable_failure_waits_for_retry_after_then_delivers(
    sandbox: Sandbox, tmp_path: Path
):
    sandbox.set_faults(Faults(sequence=[503], retry_after="2"))
    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        assert (await svc.post("/v1/batch", batch_of(["m1", "m2"]))).status_code == 200
        assert await until(lambda: len(delivered(sandbox)) == 2, timeout=15)
        # The sandbox answers before the worker records the outcome: wait for the queue to say so.
        for _ in range(500):
            rows = await svc.service.queue.status(0)
            if rows[0].delivered == 2:
                break
            await asyncio.sleep(0.02)
    first, second = sandbox.requests[0], sandbox.requests[-1]
    assert first.status == 503 and second.status == 200
    assert second.received_at - first.received_at >= 2.0  # Retry-After honoured
    assert [m["messageId"] for m in delivered(sandbox)] == ["m1", "m2"]
    assert rows[0].delivered == 2 and rows[0].retrying == 0
    log = (tmp_path / "data.log").read_text()
    assert "destination_failing destination=Sandbox" in log and "HTTP 503" in log
    assert "destination_recovered destination=Sandbox" in log
    assert "sandbox-secret-key" not in log and '"userId"' not in log


async def test_one_users_order_is_kept_while_others_flow(sandbox: Sandbox, tmp_path: Path):
    slow, other = (
        "user-a",
        next(f"user-{i}" for i in range(100) if lane_of(f"user-{i}") != lane_of("user-a")),
    )
    sandbox.set_faults(Faults(sequence=[503]))
    async with running(config_text(sandbox.url), tmp_path / "data") as svc:
        assert (await svc.post("/v1/batch", batch_of(["a1"], slow))).status_code == 200
        assert await until(lambda: len(sandbox.requests) == 1)  # a1 failed: retrying
        for i in range(2, 6):
            assert (await svc.post("/v1/batch", batch_of([f"a{i}"], slow))).status_code == 200
        assert (await svc.post("/v1/batch", batch_of(["b1"], other))).status_code == 200
        assert await until(lambda: len(delivered(sandbox)) == 6, timeout=15)
    order = [m["messageId"] for m in delivered(sandbox)]
    assert [i for i in order if i.startswith("a")] == ["a1", "a2", "a3", "a4", "a5"]
    assert order[0] == "b1"  # the other user was not held behind user-a's retry


def _serve_until(sandbox: Sandbox, data: Path, config: str, count: int, ids: list[str]) -> None:
    async def go() -> None:
        async with running(config, data) as svc:
            assert (await svc.post("/v1/batch", batch_of(ids))).status_code == 200
            assert await until(lambda: len(sandbox.requests) >= count, timeout=15)
            rows = await svc.service.queue.status(0)
            assert await until(lambda: svc.service.queue.pending() == 0)
            assert rows

    asyncio.run(go())


def test_permanent_error_dead_letters_and_dlq_replays(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    data = tmp_path / "data"
    sandbox.set_faults(Faults(status=400))
    _serve_until(sandbox, data, config_text(sandbox.url), 1, ["m1", "m2"])
    assert main(["status", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Sandbox" in out and out.splitlines()[1].split()[5] == "2"  # dead
    assert main(["dlq", "list", "--data", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "attempts=1" in lines[0] and "PayloadValidationError" in lines[0]
    job_id = lines[0].split()[0]
    assert main(["dlq", "show", job_id, "--data", str(data)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["message"]["messageId"] == "m1" and shown["attempts"] == 1
    assert "sandbox-secret-key" not in json.dumps(shown)
    # replay needs exactly one choice; then the dead letters are delivered unchanged
    assert main(["dlq", "replay", "--data", str(data)]) == 2
    assert "exactly one" in capsys.readouterr().err
    assert main(["dlq", "replay", "--all", "--data", str(data)]) == 0
    assert capsys.readouterr().out.strip() == "replayed 2 dead letters"
    sandbox.set_faults(None)
    sandbox.clear()
    _serve_until(sandbox, data, config_text(sandbox.url), 1, [])
    assert [m["messageId"] for m in delivered(sandbox)] == ["m1", "m2"]
    assert main(["status", "--data", str(data), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["delivered"] == 2 and row["dead_lettered"] == 0 and row["queued"] == 0


def test_retry_window_dead_letters_and_purge(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    data = tmp_path / "data"
    sandbox.set_faults(Faults(status=503))
    _serve_until(sandbox, data, config_text(sandbox.url, delivery="retry_window: 1s"), 1, ["m1"])
    assert main(["dlq", "list", "--destination", "Sandbox", "--data", str(data)]) == 0
    line = capsys.readouterr().out
    assert "retry window of 1s passed" in line and "503" in line
    assert main(["dlq", "purge", "--data", str(data)]) == 0
    assert capsys.readouterr().out.strip() == "purged 1 dead letter"
    assert main(["dlq", "show", "1", "--data", str(data)]) == 2
    assert capsys.readouterr().err.strip() == "destkit dlq: error: id: no dead letter 1"


def test_status_and_dlq_without_a_queue_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["status", "--data", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no queue" in err
    assert main(["dlq", "list", "--data", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_lane_claims_at_most_one_request_of_the_smallest_batch(sandbox: Sandbox):
    from sdk.service import parse_config
    from sdk.service._worker import claim_size

    config = parse_config(config_text(sandbox.url))
    assert claim_size(config.destinations[0], 100) == 100  # the sandbox batches 100
    assert claim_size(config.destinations[0], 5) == 5
    hook = parse_config(
        config_text(sandbox.url)
        .replace("connector: sandbox", "connector: webhook")
        .replace(f'endpoint: "{sandbox.url}"', f'url: "{sandbox.url}/hook"')
    )
    size = claim_size(hook.destinations[0], 100)
    action = hook.destinations[0].connector.actions[0]
    limits = action.batch_limits(hook.destinations[0].settings)
    assert size == (1 if limits is None else min(100, limits.max_events))
