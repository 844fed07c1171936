"""Webhook connector: exact requests, Standard Webhooks signatures, batching, and the contract."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

import sdk
from connectors.webhook import destination
from connectors.webhook.contract import contract
from sdk.connector import verify
from sdk.testing import ContractTests

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "https://hooks.example.com/destkit"


class TestWebhookContract(ContractTests):
    contract = contract


def _event(n: int = 0) -> sdk.Track:
    step = sdk.Space("spa_hooks").step("First Purchase", "Opened Email", destinations=["Webhook"])
    event = step.event("track", user_id=f"user-{n}")
    assert isinstance(event, sdk.Track)
    return event


@respx.mock(assert_all_called=True)
def test_posts_the_message_unchanged_and_signed(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(204))
    event = _event()
    settings = {"url": URL, "signing_secret": SECRET, "headers": {"X-Team": "growth"}}
    with sdk.Delivery(destination, settings) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-team"] == "growth"
    assert json.loads(request.content) == event.to_wire()
    assert request.headers["webhook-id"] == event.message_id
    # The signature verifies with the secret, over exactly the bytes sent.
    verify(SECRET, dict(request.headers), request.content)
    # ... and the lifecycle shows the signature masked.
    recorded = lifecycle.attempts[0].exchanges[0].request.headers
    assert recorded["webhook-signature"] == sdk.MASK
    assert "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" not in lifecycle.to_json()


@respx.mock(assert_all_called=True)
def test_unsigned_when_no_secret(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200))
    with sdk.Delivery(destination, {"url": URL}) as delivery:
        assert delivery.send(_event()).delivered
    assert "webhook-signature" not in route.calls.last.request.headers


@respx.mock(assert_all_called=True)
def test_batches_are_json_arrays_within_batch_size(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200))
    events = [_event(n) for n in range(25)]
    with sdk.Delivery(destination, {"url": URL, "batch_size": 10}) as delivery:
        lifecycles = delivery.send_many(events)
    assert all(lc.delivered for lc in lifecycles)
    sizes = [len(json.loads(call.request.content)) for call in route.calls]
    assert sizes == [10, 10, 5]
    sent = [m["userId"] for call in route.calls for m in json.loads(call.request.content)]
    assert sent == [f"user-{n}" for n in range(25)]


@respx.mock(assert_all_called=True)
def test_put_method_and_endpoint_override(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.put("http://127.0.0.1:9999/hook").mock(return_value=httpx.Response(200))
    settings = {"url": URL, "method": "PUT", "endpoint": "http://127.0.0.1:9999/hook"}
    with sdk.Delivery(destination, settings) as delivery:
        assert delivery.send(_event()).delivered
    assert route.called


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://x"}, "url"),
        ({"url": URL, "batch_size": 0}, "batch_size"),
        ({"url": URL, "headers": {"Bad Header": "x"}}, "headers"),
        ({"url": URL, "headers": {"X-Ok": "a\r\nb"}}, "headers"),
        ({"url": URL, "headers": {"Bad\x00Name": "x"}}, "headers"),
        ({"url": URL, "signing_secret": "whsec_!!!"}, "signing_secret"),
        ({"url": URL, "method": "GET"}, "method"),
    ],
)
def test_broken_settings_name_the_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(destination.settings, settings)
    assert info.value.field.startswith(field)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "secret",
    ["whsec_!!!not-base64!!!", "whsec_", "   ", "whsec_notb@se64-secret-value"],
)
def test_a_bad_signing_secret_is_refused_at_load_time_without_the_secret(secret: str) -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(destination.settings, {"url": URL, "signing_secret": secret})
    message = str(info.value)
    assert info.value.field == "signing_secret"
    assert "\n" not in message
    encoded = secret.strip().removeprefix("whsec_")
    assert not encoded or encoded not in message  # the secret is never echoed
    # ... so no delivery is even built: nothing is sent, no retries.
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(200))
        with pytest.raises(sdk.InvalidSettings):
            sdk.Delivery(destination, {"url": URL, "signing_secret": secret})
    assert not route.called


@pytest.mark.parametrize(
    "value",
    ["growth\r\nX-Injected: 1", "growth\n", "growth\r", "gro\x00wth", "gro\x1bwth", "café"],
)
def test_header_values_with_control_characters_are_refused(value: str) -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(destination.settings, {"url": URL, "headers": {"X-Team": value}})
    message = str(info.value)
    assert info.value.field == "headers"
    assert "\n" not in message and "\r" not in message
    assert "no CR, LF, NUL" in message and "'X-Team'" in message
    assert "growth" not in message and "café" not in message  # a value may be a credential


def test_header_values_with_spaces_and_tabs_are_kept() -> None:
    settings = sdk.load_settings(
        destination.settings, {"url": URL, "headers": {"X-Team": "growth team\tA", "X-B": ""}}
    )
    assert settings.headers == {"X-Team": "growth team\tA", "X-B": ""}


def test_sandbox_receives_signed_events_over_loopback() -> None:
    from sdk.testing import Sandbox

    with Sandbox() as server:
        settings = {"url": f"{server.url}/hooks/destkit", "signing_secret": SECRET}
        with sdk.Delivery(destination, settings) as delivery:
            lifecycle = delivery.send(_event())
        assert lifecycle.delivered
        received = server.requests[-1]
        assert received.path == "/hooks/destkit"
        verify(SECRET, received.headers, received.body)


@respx.mock(assert_all_called=True)
def test_a_message_id_standard_webhooks_cannot_sign_gets_a_stable_digest_id(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={})]
    )
    settings = {"url": URL, "signing_secret": SECRET}
    message = {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "a.b c"}
    with sdk.Delivery(destination, settings, sleep=lambda seconds: None) as delivery:
        lifecycle = delivery.send(message)
    assert lifecycle.delivered
    first, second = (call.request for call in route.calls)
    assert first.headers["webhook-id"].startswith("msg_")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the retry keeps it
    verify(SECRET, dict(second.headers), second.content)


@respx.mock(assert_all_called=True)
def test_a_batch_is_signed_with_an_id_derived_from_its_messages(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200, json={}))
    settings = {"url": URL, "signing_secret": SECRET, "batch_size": 10}
    with sdk.Delivery(destination, settings) as delivery:
        lifecycles = delivery.send_many([_event(1), _event(2)])
    assert all(lc.delivered for lc in lifecycles)
    request = route.calls.last.request
    assert len(json.loads(request.content)) == 2
    assert request.headers["webhook-id"].startswith("msg_")
    verify(SECRET, dict(request.headers), request.content)
