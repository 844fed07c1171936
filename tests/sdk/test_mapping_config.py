"""Instance configuration: per-action ``mapping:`` overrides and ``subscribe:`` conditions,
checked at load, applied by delivery and by ``destkit send`` (over real loopback HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.amplitude import destination as amplitude
from connectors.webhook import destination as webhook
from sdk import Delivery, InvalidMapping, Outcome, configure_destination, preview_payload
from sdk.cli import main
from sdk.mapping import parse_condition
from sdk.testing import Sandbox

ORDER: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "user-12345",
    "messageId": "msg-1",
    "timestamp": "2026-11-02T10:00:00Z",
    "properties": {"revenue": 50, "order_id": "o-9", "currency": "eur"},
}
AMPLITUDE_SETTINGS = {"api_key": "amp-secret-key"}
AMPLITUDE_URL = "https://api2.amplitude.com/2/httpapi"


def sent_events(route: respx.Route) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(route.calls.last.request.content)["events"]
    return events


def test_an_override_changes_one_field_and_the_rest_keep_their_defaults() -> None:
    configured = configure_destination(
        amplitude,
        {"track_event": {"mapping": {"event_type": "{{event}} ({{properties.currency}})"}}},
    )
    with respx.mock() as mock:
        route = mock.post(AMPLITUDE_URL).mock(return_value=httpx.Response(200, json={}))
        with Delivery(configured, AMPLITUDE_SETTINGS, batching=False) as delivery:
            lifecycle = delivery.send(ORDER)
    assert lifecycle.delivered, lifecycle.to_json()
    [event] = sent_events(route)
    assert event["event_type"] == "Order Completed (eur)"
    assert event["user_id"] == "user-12345"  # a default mapping, untouched
    assert event["insert_id"] == "msg-1"
    assert amplitude.actions[0].overrides == {}  # the connector itself is unchanged


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"track_evnt": {}}, "actions.track_evnt: is not an action of amplitude"),
        ({"track_event": {"mapping": {"nope": "$.event"}}}, "actions.track_event.mapping.nope: "),
        (
            {"track_event": {"mapping": {"event_type": {"pth": "$.event"}}}},
            "actions.track_event.mapping.event_type: unknown directive pth",
        ),
        (
            {"track_event": {"mapping": {"event_type": "$.traits.name"}}},
            "actions.track_event.mapping.event_type: path $.traits.name can never match",
        ),
        (
            {"track_event": {"subscribe": "properties.revenue >> 3"}},
            "actions.track_event.subscribe: ",
        ),
        (
            {"track_event": {"subscribe": 'type = "identify"'}},
            "actions.track_event.subscribe: type 'identify' is not one this action takes",
        ),
        (
            {"track_event": {"filter": "x"}},
            "actions.track_event.filter: is not mapping or subscribe",
        ),
        (["track_event"], "actions: must map action names"),
    ],
)
def test_a_broken_configuration_is_refused_at_load(config: Any, message: str) -> None:
    with pytest.raises(InvalidMapping) as caught:
        configure_destination(amplitude, config)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("condition", "properties", "reason"),
    [
        ('type = "track" and event = "Order Completed"', {}, None),
        ("properties.revenue > 100", {"revenue": 50}, "properties.revenue is 50, not > 100"),
        ("properties.revenue > 100", {"revenue": 500}, None),
        ("properties.revenue > 100", {}, "properties.revenue is missing, not > 100"),
        ('event in ["Signed Up", "Order Completed"]', {}, None),
        ('event in ["Signed Up"]', {}, 'event is "Order Completed", not in ["Signed Up"]'),
        ("properties.coupon exists or properties.revenue >= 50", {"revenue": 50}, None),
        ('not (properties.currency = "eur")', {"currency": "eur"}, "the negated test holds"),
    ],
)
def test_conditions_explain_why_they_do_not_match(
    condition: str, properties: dict[str, Any], reason: str | None
) -> None:
    parsed = parse_condition(condition, ["track"])
    document = {**ORDER, "properties": properties}
    assert parsed.explain(document) == reason
    assert parsed.matches(document) is (reason is None)


def test_a_subscription_filters_with_its_reason_in_the_lifecycle() -> None:
    configured = configure_destination(
        amplitude, {"track_event": {"subscribe": "properties.revenue > 100"}}
    )
    with respx.mock() as mock:
        route = mock.post(AMPLITUDE_URL).mock(return_value=httpx.Response(200, json={}))
        with Delivery(configured, AMPLITUDE_SETTINGS, batching=False) as delivery:
            filtered = delivery.send(ORDER)
            big = delivery.send({**ORDER, "properties": {"revenue": 250}})
    assert filtered.outcome is Outcome.FILTERED
    assert filtered.routing["reason"] == (
        "track_event: subscribe 'properties.revenue > 100': properties.revenue is 50, not > 100"
    )
    assert big.delivered
    assert route.call_count == 1


def test_preview_payload_resolves_with_overrides_or_says_why_not() -> None:
    config = {"track_event": {"mapping": {"revenue": "$.properties.revenue"}}}
    preview = preview_payload(amplitude, ORDER, config)
    assert (preview.action, preview.error) == ("track_event", None)
    assert preview.payload["revenue"] == 50
    broken = preview_payload(amplitude, ORDER, {"track_event": {"mapping": {"revenue": "$.x"}}})
    assert broken.payload is None
    assert broken.error is not None and broken.error.startswith(
        "actions.track_event.mapping.revenue: path $.x can never match"
    )


# -- destkit send, end to end over loopback ------------------------------------------------------


def write_settings(tmp_path: Path, url: str, actions: dict[str, Any]) -> Path:
    path = tmp_path / "webhook.json"
    path.write_text(json.dumps({"url": url, "actions": actions}))
    return path


def send_with(settings: Path, payload: Path) -> int:
    return main(
        ["send", "--destination", "webhook", "--event-type", "track", "--settings-file",
         str(settings), "--payload", str(payload), "--json"]
    )  # fmt: skip


def test_a_mapping_override_in_a_settings_file_changes_the_request_destkit_send_makes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "order.json"
    payload.write_text(json.dumps(ORDER))
    body = {
        "object": {
            "order": "$.properties.order_id",
            "total": "$.properties.revenue",
            "currency": {"upper": "$.properties.currency"},
        }
    }
    with Sandbox() as sandbox:
        plain = write_settings(tmp_path, sandbox.url, {})
        assert send_with(plain, payload) == 0
        configured = write_settings(
            tmp_path, sandbox.url, {"post_event": {"mapping": {"body": body}}}
        )
        assert send_with(configured, payload) == 0
        first, second = sandbox.wait_for(2)
    assert first.json["event"] == "Order Completed"  # the default: the whole message
    assert second.json == {"order": "o-9", "total": 50, "currency": "EUR"}
    capsys.readouterr()


def test_a_broken_mapping_in_a_settings_file_is_refused_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "order.json"
    payload.write_text(json.dumps(ORDER))
    with Sandbox() as sandbox:
        broken = write_settings(
            tmp_path, sandbox.url, {"post_event": {"mapping": {"body": {"objekt": {}}}}}
        )
        assert send_with(broken, payload) == 2
        assert sandbox.requests == []
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "destkit: error: actions.post_event.mapping.body: unknown directive objekt (known: "
        "path, template, literal, first_of, if_exists, if_equals, lower, upper, object, each, "
        "merge)"
    ]


def test_a_subscription_in_a_settings_file_filters_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "order.json"
    payload.write_text(json.dumps(ORDER))
    with Sandbox() as sandbox:
        settings = write_settings(
            tmp_path, sandbox.url, {"post_event": {"subscribe": 'event = "Signed Up"'}}
        )
        assert send_with(settings, payload) == 3
        assert sandbox.requests == []
    record = json.loads(capsys.readouterr().out)
    assert record["routing"]["reason"] == (
        'post_event: subscribe \'event = "Signed Up"\': event is "Order Completed", '
        'not = "Signed Up"'
    )
    assert webhook.actions[0].condition is None


def test_a_broken_default_mapping_fails_when_the_destination_is_defined() -> None:
    from pydantic import BaseModel

    from sdk import Action, Destination, DestinationKind, DestinationSettings, Subscription
    from sdk.mapping import mapped

    class Fields(BaseModel):
        email: str | None = mapped("$.traits.email")  # traits: never on a track event

    class Broken(Action[DestinationSettings, Any]):
        name = "broken"
        subscribe = Subscription.of("track")
        fields = Fields

    with pytest.raises(InvalidMapping, match=r"^broken\.mapping\.email: path \$\.traits\.email"):
        Destination(
            name="Broken",
            slug="broken",
            kind=DestinationKind.EVENT,
            settings=DestinationSettings,
            actions=[Broken()],
        )


def test_an_action_with_fields_and_no_map_sends_the_resolved_model() -> None:
    from pydantic import BaseModel

    from sdk import Action, DestinationSettings, Subscription
    from sdk.mapping import first_of, mapped

    class Fields(BaseModel):
        name: str = mapped("$.event", required=True)
        total: float = mapped(first_of("$.properties.total", "$.properties.revenue"), default=0)

    class Plain(Action[DestinationSettings, Fields]):
        name = "plain"
        subscribe = Subscription.of("track")
        fields = Fields

    from sdk import parse_message

    payload = Plain().map(parse_message(ORDER), DestinationSettings())
    assert payload == Fields(name="Order Completed", total=50)
