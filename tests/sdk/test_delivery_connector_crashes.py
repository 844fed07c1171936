"""A destination's ``headers`` or ``base_url`` function that raises fails the events it was for,
as a recorded permanent failure that never quotes a secret; it never takes down the call, and
every other event still gets its lifecycle."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import pytest
import respx
from _connectors import SendOne
from pydantic import SecretStr

from sdk import (
    Action,
    BatchLimits,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    InvalidSettings,
)

ENDPOINT = "https://mock.test"
SECRET = "crash-test-secret-key-42"


class Settings(DestinationSettings):
    api_key: SecretStr = SecretStr(SECRET)


class SendBatch(SendOne):
    name = "send_batch"
    batch = BatchLimits(max_events=10)

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json=list(payloads))


def make(
    action: Action[Settings, Any],
    *,
    headers: Callable[[Settings], Mapping[str, str]] | None = None,
    base_url: str | Callable[[Settings], str] = ENDPOINT,
) -> Destination[Settings]:
    return Destination(
        name="Crash Test",
        slug="crash_test",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[action],
        headers=headers,
        base_url=base_url,
    )


def leaky_headers(settings: Settings) -> Mapping[str, str]:
    key = settings.api_key.get_secret_value()
    raise ValueError(f"cannot sign with {key[:-2]!r} (full key {key})")


def leaky_base_url(settings: Settings) -> str:
    key = settings.api_key.get_secret_value()
    raise KeyError(f"no region for key {key[3:]}")


def events(count: int) -> list[dict[str, Any]]:
    return [{"type": "track", "event": "E", "userId": f"u-{i}"} for i in range(count)]


def deliver(destination: Destination[Settings], count: int) -> tuple[list[Any], int]:
    """Send ``count`` events; their lifecycles and how many requests were made."""
    with respx.mock(assert_all_called=False) as mock:
        mock.post(url__startswith=ENDPOINT).mock(return_value=httpx.Response(200))
        with Delivery(destination, {}, sleep=lambda _: None) as delivery:
            lifecycles = delivery.send_many(events(count))
        return lifecycles, len(mock.calls)


@pytest.mark.parametrize(
    ("what", "destination"),
    [
        ("headers", make(SendOne(), headers=leaky_headers)),
        ("base_url", make(SendOne(), base_url=leaky_base_url)),
        ("headers", make(SendBatch(), headers=leaky_headers)),
        ("base_url", make(SendBatch(), base_url=leaky_base_url)),
    ],
    ids=["headers", "base_url", "batch headers", "batch base_url"],
)
def test_a_crashing_function_fails_every_event_it_was_for_without_raising(
    what: str, destination: Destination[Settings]
) -> None:
    lifecycles, requests = deliver(destination, 3)

    assert len(lifecycles) == 3
    assert requests == 0  # nothing was sent
    exception = "ValueError" if what == "headers" else "KeyError"
    for lifecycle in lifecycles:
        assert lifecycle.outcome == "failed: permanent"
        assert lifecycle.error is not None
        assert lifecycle.error.cls == "IntegrationError"
        assert lifecycle.error.message == (
            f"crash_test: the destination's {what} function crashed ({exception}); nothing was sent"
        )
        (attempt,) = lifecycle.attempts
        assert attempt.exchanges == []
        assert attempt.retry is not None and attempt.retry.decision == "give up"
        text = lifecycle.to_json()
        for part in (SECRET, SECRET[:-2], SECRET[3:]):
            assert part not in text


def test_other_events_are_delivered_when_the_headers_crash_once() -> None:
    calls = itertools.count()

    def flaky(settings: Settings) -> Mapping[str, str]:
        if next(calls) == 1:
            raise RuntimeError("token cache was empty")
        return {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}

    lifecycles, requests = deliver(make(SendOne(), headers=flaky), 4)

    assert len(lifecycles) == 4
    assert [lc.outcome for lc in lifecycles].count("delivered") == 3
    (failed,) = [lc for lc in lifecycles if not lc.delivered]
    assert failed.outcome == "failed: permanent"
    assert failed.error is not None
    assert "headers function crashed (RuntimeError)" in failed.error.message
    assert requests == 3


def test_a_setting_refused_on_purpose_in_headers_keeps_its_message() -> None:
    def refuses(settings: Settings) -> Mapping[str, str]:
        raise InvalidSettings("api_key", "must start with key_")

    lifecycles, _ = deliver(make(SendOne(), headers=refuses), 2)

    for lifecycle in lifecycles:
        assert lifecycle.outcome == "failed: permanent"
        assert lifecycle.error is not None
        assert lifecycle.error.message == "api_key: must start with key_"


def test_test_authentication_records_a_crashing_headers_function() -> None:
    async def check(ctx: Context[Settings]) -> None:
        await ctx.http.get("/v1/me")

    destination = make(SendOne(), headers=leaky_headers)
    destination.authentication = type(destination.authentication)(scheme="api_key", test=check)
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{ENDPOINT}/v1/me").mock(return_value=httpx.Response(200))
        with Delivery(destination, {}) as delivery:
            lifecycle = delivery.test_authentication()
        assert len(mock.calls) == 0

    assert lifecycle.outcome == "failed: permanent"
    assert lifecycle.error is not None
    assert "headers function crashed (ValueError)" in lifecycle.error.message
    assert SECRET not in lifecycle.to_json()


class CrashingLimits(SendBatch):
    name = "crashing_limits"

    def batch_limits(self, settings: Settings) -> BatchLimits:
        raise ZeroDivisionError("division by zero")


def test_a_crashing_batch_limits_fails_its_events_and_not_the_call() -> None:
    lifecycles, requests = deliver(make(CrashingLimits()), 3)

    assert requests == 0
    assert len(lifecycles) == 3
    for lifecycle in lifecycles:
        assert lifecycle.outcome == "failed: permanent"
        assert lifecycle.error is not None
        assert lifecycle.error.message == (
            "crashing_limits.batch_limits crashed: ZeroDivisionError: division by zero"
        )
