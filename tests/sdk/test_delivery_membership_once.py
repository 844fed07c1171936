"""Preparing one event reads its membership once, however many steps ask (the journey rule,
subscriptions, a list connector's map); outside preparation every call reads afresh."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import sdk.engage._personas as personas
from sdk import (
    Action,
    AnyMessage,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    Space,
    Subscription,
)
from sdk.engage import membership_of


class Settings(DestinationSettings):
    """Only the ``endpoint``."""


class Members(Action[Settings, dict[str, Any]]):
    name = "members"
    subscribe = Subscription.of("track", "identify")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        first, second = membership_of(event), membership_of(event)
        assert first is not None and first is second
        return {"key": first.key, "member": first.member}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/members", json=payload)


def test_membership_is_read_once_per_prepared_event(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[object] = []
    real = personas._membership_of

    def counting(message: Any) -> Any:
        reads.append(message)
        return real(message)

    monkeypatch.setattr(personas, "_membership_of", counting)
    destination = Destination(
        name="Members",
        slug="members",
        kind=DestinationKind.LIST,
        settings=Settings,
        actions=[Members()],
        base_url="https://mock.test",
    )
    audience = Space("spa_x").audience("Big Spenders", destinations=["Members"])
    events = [audience.event("identify", user_id=f"u{i}") for i in range(3)]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    with Delivery(destination, transport=transport) as delivery:
        lifecycles = delivery.send_many(events)
    assert all(lc.delivered for lc in lifecycles)
    assert [lc.payload for lc in lifecycles] == [{"key": "big_spenders", "member": True}] * 3
    assert reads == events  # once each, in order
    reads.clear()
    membership_of(events[0]), membership_of(events[0])
    assert len(reads) == 2  # outside preparation nothing is remembered
