"""What never reaches the wire: events filtered by the integrations object or by no matching
action, journey removals aimed at an add-only list, and invalid events."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from typing import Any

import httpx
import pytest
import respx

from sdk import (
    MAX_MESSAGE_BYTES,
    Action,
    AnyMessage,
    BatchLimits,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    Lifecycle,
    Space,
    Subscription,
    Track,
    membership_of,
)

ENDPOINT = "https://mock.test"


class Settings(DestinationSettings):
    pass


class SyncList(Action[Settings, dict[str, Any]]):
    """A list action: adds and removals of members, batched, never mixed."""

    name = "sync_list"
    subscribe = Subscription.of("track", "identify", membership=True)
    batch = BatchLimits(max_events=100)

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        membership = membership_of(event)
        assert membership is not None
        return {
            "list": membership.key,
            "user": membership.user_id,
            "op": "add" if membership.member else "remove",
        }

    def batch_key(self, payload: dict[str, Any]) -> Hashable:
        return (payload["list"], payload["op"])

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await self.perform_batch(ctx, [payload])

    async def perform_batch(
        self, ctx: Context[Settings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        first = payloads[0]
        method = "POST" if first["op"] == "add" else "DELETE"
        users = [p["user"] for p in payloads]
        await ctx.http.request(method, f"/lists/{first['list']}/members", json={"users": users})


class TrackOnly(Action[Settings, dict[str, Any]]):
    name = "track_only"
    subscribe = Subscription.of("track", events=["Order Completed"])

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        assert isinstance(event, Track)
        return {"event": event.event}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/track", json=payload)


LIST = Destination(
    name="Acme Lists",
    slug="acme_lists",
    kind=DestinationKind.LIST,
    settings=Settings,
    actions=[SyncList()],
)
EVENTS = Destination(
    name="Acme Events",
    slug="acme_events",
    kind=DestinationKind.EVENT,
    settings=Settings,
    actions=[TrackOnly()],
)


def deliver(destination: Destination[Settings], events: list[Any]) -> list[Lifecycle]:
    """Send with every URL mocked; returns the lifecycles (requests stay in ``calls``)."""
    with Delivery(destination, {"endpoint": ENDPOINT}, sleep=lambda s: None) as delivery:
        return delivery.send_many(events)


@pytest.fixture
def api() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        mock.route().mock(return_value=httpx.Response(200, json={"ok": True}))
        yield mock


ORDER = {"type": "track", "event": "Order Completed", "userId": "u-1"}


# -- the integrations object -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("integrations", "reason"),
    [
        (
            {"All": False, "Braze": True},
            'integrations.All is false and "Acme Events" is not enabled',
        ),
        ({"Acme Events": False}, 'integrations["Acme Events"] is false'),
        ({"All": True, "Acme Events": None}, 'integrations["Acme Events"] is null'),
        ({"All": False, "acme events": True}, 'integrations.All is false and "Acme Events"'),
    ],
)
def test_an_event_filtered_by_the_integrations_object_makes_no_call(
    api: Any, integrations: dict[str, Any], reason: str
) -> None:
    (lifecycle,) = deliver(EVENTS, [{**ORDER, "integrations": integrations}])

    assert api.calls.call_count == 0
    record = lifecycle.to_dict()
    assert record["outcome"] == "filtered"
    assert record["routing"]["decision"] == "filtered at destination"
    assert record["routing"]["delivered"] is False
    assert reason in record["routing"]["reason"]
    assert record["attempts"] == []
    assert record["error"] is None
    assert record["action"] is None
    assert record["payload"] is None


@pytest.mark.parametrize(
    "integrations",
    [{}, {"All": False, "Acme Events": True}, {"All": False, "Acme Events": {"opt": 1}}],
)
def test_an_event_enabled_by_the_integrations_object_is_sent(
    api: Any, integrations: dict[str, Any]
) -> None:
    (lifecycle,) = deliver(EVENTS, [{**ORDER, "integrations": integrations}])

    assert api.calls.call_count == 1
    assert lifecycle.delivered
    assert lifecycle.routing is not None and lifecycle.routing["delivered"] is True


@pytest.mark.parametrize(
    ("event", "what"),
    [
        ({"type": "page", "name": "Home", "userId": "u-1"}, "page"),
        ({"type": "track", "event": "Signed Up", "userId": "u-1"}, 'track "Signed Up"'),
    ],
)
def test_no_action_subscribed_is_filtered_with_a_reason(
    api: Any, event: dict[str, Any], what: str
) -> None:
    (lifecycle,) = deliver(EVENTS, [event])

    assert api.calls.call_count == 0
    assert lifecycle.outcome == "filtered"
    assert lifecycle.routing == {
        "decision": "filtered at destination",
        "delivered": False,
        "reason": f"no action of Acme Events subscribes to {what}",
    }


# -- journey lists are add-only --------------------------------------------------------------

SPACE = Space("spa_routing_test")
STEP = SPACE.step("First Purchase", "Opened Email", destinations=["Acme Lists"])
AUDIENCE = SPACE.audience("High Value", destinations=["Acme Lists"])


def journey_removal() -> Track:
    entry = STEP.event("track", user_id="u-journey")
    assert isinstance(entry, Track)
    properties = {**entry.properties, STEP.key: False}
    return entry.model_copy(update={"event": "Audience Exited", "properties": properties})


def test_a_list_destination_refuses_a_journey_removal_without_a_call(api: Any) -> None:
    assert STEP.key.startswith("j_o_")
    (lifecycle,) = deliver(LIST, [journey_removal()])

    assert api.calls.call_count == 0
    assert lifecycle.outcome == "failed: permanent"
    assert lifecycle.error is not None
    assert lifecycle.error.cls == "ListRemovalRefused"
    assert lifecycle.error.message.startswith(STEP.key)
    assert "add-only" in lifecycle.error.message
    assert "\n" not in lifecycle.error.message
    assert lifecycle.attempts == []
    assert lifecycle.action == "sync_list"


def test_a_journey_removal_as_an_identify_is_refused_too(api: Any) -> None:
    entry = STEP.event("identify", user_id="u-journey")
    removal = entry.model_copy(update={"traits": {STEP.key: "false"}})
    (lifecycle,) = deliver(LIST, [removal])

    assert api.calls.call_count == 0
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"


def test_a_removal_for_a_journey_step_computation_class_is_refused(api: Any) -> None:
    personas = {
        "computation_class": "journey_step",
        "computation_id": "aud_123",
        "computation_key": "welcome_step",
        "space_id": "spa_routing_test",
        "namespace": "spa_routing_test",
    }
    removal = {
        "type": "track",
        "event": "Audience Exited",
        "userId": "u-1",
        "properties": {"welcome_step": False},
        "context": {"personas": personas},
    }
    (lifecycle,) = deliver(LIST, [removal])

    assert api.calls.call_count == 0
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"


def test_an_audience_removal_goes_through(api: Any) -> None:
    removal = AUDIENCE.event("track", user_id="u-aud", entered=False)
    (lifecycle,) = deliver(LIST, [removal])

    (call,) = api.calls
    assert call.request.method == "DELETE"
    assert call.request.url == f"{ENDPOINT}/lists/{AUDIENCE.key}/members"
    assert json.loads(call.request.content) == {"users": ["u-aud"]}
    assert lifecycle.delivered


def test_journey_entries_and_audience_changes_are_sent_beside_a_refused_removal(
    api: Any,
) -> None:
    events = [
        STEP.event("track", user_id="u-1"),
        journey_removal(),
        AUDIENCE.event("identify", user_id="u-2"),
        AUDIENCE.event("track", user_id="u-3", entered=False),
        STEP.event("identify", user_id="u-4"),
    ]
    lifecycles = deliver(LIST, events)

    sent = sorted(
        (c.request.method, c.request.url.path, tuple(json.loads(c.request.content)["users"]))
        for c in api.calls
    )
    assert sent == [
        ("DELETE", f"/lists/{AUDIENCE.key}/members", ("u-3",)),
        ("POST", f"/lists/{AUDIENCE.key}/members", ("u-2",)),
        ("POST", f"/lists/{STEP.key}/members", ("u-1", "u-4")),
    ]
    assert [lc.outcome.value for lc in lifecycles] == [
        "delivered",
        "failed: permanent",
        "delivered",
        "delivered",
        "delivered",
    ]


def test_a_non_membership_event_is_filtered_by_a_membership_subscription(api: Any) -> None:
    (lifecycle,) = deliver(LIST, [ORDER])

    assert api.calls.call_count == 0
    assert lifecycle.outcome == "filtered"
    assert lifecycle.routing is not None
    assert lifecycle.routing["reason"].startswith("no action of Acme Lists subscribes to track")


# -- invalid events --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "error_class", "message"),
    [
        ({"type": "track", "event": "X"}, "InvalidEvent", "userId: one of userId or anonymousId"),
        ({"type": "bogus", "userId": "u"}, "InvalidEvent", "type: must be one of track"),
        ({"event": "X", "userId": "u"}, "InvalidEvent", "type: is required"),
        ({"type": "track", "userId": "u"}, "InvalidEvent", "event: is required"),
        ({"type": "track", "event": "", "userId": "u"}, "InvalidEvent", "event: must not be empty"),
        (
            {
                "type": "track",
                "event": "Big",
                "userId": "u",
                "properties": {"blob": "x" * MAX_MESSAGE_BYTES},
            },
            "PayloadTooLarge",
            "message: is ",
        ),
    ],
)
def test_an_invalid_event_fails_permanently_without_a_request(
    api: Any, event: dict[str, Any], error_class: str, message: str
) -> None:
    (lifecycle,) = deliver(EVENTS, [event])

    assert api.calls.call_count == 0
    record = lifecycle.to_dict()
    assert record["outcome"] == "failed: permanent"
    assert record["error"]["class"] == error_class
    assert record["error"]["message"].startswith(message)
    assert "\n" not in record["error"]["message"]
    assert record["attempts"] == []
    assert record["routing"] is None
    json.loads(lifecycle.to_json())


def test_an_event_that_is_not_an_object_fails_without_crashing(api: Any) -> None:
    lifecycles = deliver(EVENTS, [["not", "an", "object"], "text", ORDER])

    assert [lc.outcome.value for lc in lifecycles] == [
        "failed: permanent",
        "failed: permanent",
        "delivered",
    ]
    assert lifecycles[0].error is not None
    assert lifecycles[0].error.message == "message: must be a JSON object"
    assert api.calls.call_count == 1


def test_invalid_events_do_not_stop_valid_ones_in_the_same_call(api: Any) -> None:
    lifecycles = deliver(EVENTS, [{"type": "track", "event": "X"}, ORDER, ORDER])

    assert api.calls.call_count == 2
    assert [lc.outcome.value for lc in lifecycles] == [
        "failed: permanent",
        "delivered",
        "delivered",
    ]
