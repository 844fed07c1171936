"""Journey steps are add-only for every destination kind; an action may decline an event."""

from __future__ import annotations

from typing import Any

import httpx
import respx

import sdk


class _Settings(sdk.DestinationSettings):
    pass


class _OnlyEntries(sdk.Action[_Settings, dict[str, Any]]):
    name = "only_entries"
    subscribe = sdk.Subscription.of("track")

    def map(self, event: sdk.AnyMessage, settings: _Settings) -> dict[str, Any]:
        assert isinstance(event, sdk.Track)
        if event.event == "Audience Exited":
            raise sdk.SkipEvent("exits are not sent to this tool")
        return event.to_wire()

    async def perform(self, ctx: sdk.Context[_Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/events", json=payload)


DESTINATION: sdk.Destination[_Settings] = sdk.Destination(
    name="Tool",
    slug="tool",
    kind=sdk.DestinationKind.EVENT,
    settings=_Settings,
    actions=[_OnlyEntries()],
    base_url="https://tool.test",
)


def _send(event: dict[str, Any]) -> tuple[sdk.Lifecycle, respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://tool.test/events").mock(return_value=httpx.Response(200))
        with sdk.Delivery(DESTINATION, {}) as delivery:
            return delivery.send(event), route


def test_skip_event_is_recorded_as_filtered_with_the_actions_reason() -> None:
    audience = sdk.Space("spa_1").audience("Big Spenders", destinations=["Tool"])
    lifecycle, route = _send(audience.event("track", user_id="u1", entered=False).to_wire())
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FILTERED
    assert lifecycle.error is None
    assert lifecycle.routing == {
        "decision": "filtered at destination",
        "delivered": False,
        "reason": "only_entries: exits are not sent to this tool",
    }


def test_an_audience_entry_is_still_delivered() -> None:
    audience = sdk.Space("spa_1").audience("Big Spenders", destinations=["Tool"])
    lifecycle, route = _send(audience.event("track", user_id="u1").to_wire())
    assert lifecycle.delivered and route.call_count == 1


def test_a_journey_exit_is_refused_for_an_event_destination_too() -> None:
    step = sdk.Space("spa_1").step("First Purchase", "Opened Email", destinations=["Tool"])
    wire = step.event("track", user_id="u1").to_wire()
    wire["event"] = "Audience Exited"
    wire["properties"][step.key] = False
    lifecycle, route = _send(wire)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"
    assert lifecycle.error.message == (
        f"{step.key} is a journey step: journeys are add-only, so a removal or exit is never sent"
    )
