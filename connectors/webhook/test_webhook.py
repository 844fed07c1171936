"""Webhook connector: exact requests, Standard Webhooks signatures, batching, and the contract."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

import sdk
from connectors.webhook import destination
from connectors.webhook.contract import contract
from sdk.connector import verify
from sdk.delivery import render_lifecycle
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
def test_an_integer_past_64_bits_is_sent_with_all_its_digits(respx_mock: respx.MockRouter) -> None:
    # orjson writes the body; what it refuses (an integer past 64 bits) the standard library
    # writes, so such an event is still sent, exactly, and signed over the bytes sent.
    route = respx_mock.post(URL).mock(return_value=httpx.Response(204))
    event = sdk.Track(user_id="user-1", event="Big", properties={"n": 2**70, "text": "é\u2028"})
    with sdk.Delivery(destination, {"url": URL, "signing_secret": SECRET}) as delivery:
        lifecycle = delivery.send(event)
    assert lifecycle.delivered
    request = route.calls.last.request
    assert b'"n":1180591620717411303424' in request.content
    assert json.loads(request.content) == event.to_wire()
    verify(SECRET, dict(request.headers), request.content)


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


# -- credentials that are not typed secret ---------------------------------------------------

FUNCTION_CODE = "Zx9aQ-azureFunctionCode_0123456789abcdefAB=="
SLACK_TOKEN = "XXXXXXXXslacktoken24chrs"
LOGIC_SIG = "lOgIcApPsSiGnAtUrE-00000000000000000000000"
HEADER_KEYS = {
    "Ocp-Apim-Subscription-Key": "apim-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "X-Functions-Key": "fn-key-QWERTY-123456",
    # Short, yet masked: the header is configured by the user. Not "abc": three hex letters
    # turn up by chance in the output's random ids, which made the leak check flaky.
    "X-Auth-Key": "Q!z",
}


def _credential_settings(base: str) -> dict[str, object]:
    return {
        "url": f"{base}/services/T0A1B2C3D/B0A1B2C3D/{SLACK_TOKEN}"
        f"?code={FUNCTION_CODE}&sig={LOGIC_SIG}&sv=1.0",
        "headers": {**HEADER_KEYS, "X-Team": "growth-team"},
        "public_headers": ["x-team"],
    }


def _leaks(text: str) -> list[str]:
    from urllib.parse import quote

    values = [FUNCTION_CODE, SLACK_TOKEN, LOGIC_SIG, "T0A1B2C3D", *HEADER_KEYS.values()]
    values += [quote(FUNCTION_CODE, safe=""), 'Q!z"']
    return [value for value in values if value in text]


@pytest.mark.parametrize("as_json", [True, False])
def test_url_tokens_and_configured_headers_never_show_in_send_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    from sdk.cli import main
    from sdk.testing import Sandbox

    with Sandbox() as server:
        settings_file = tmp_path / "webhook.json"
        settings_file.write_text(json.dumps(_credential_settings(server.url)))
        args = ["send", "--destination", "webhook", "--event-type", "track"]
        args += ["--settings-file", str(settings_file), *(["--json"] if as_json else [])]
        assert main(args) == 0
        received = server.requests[-1]
    # The wire carries every credential ...
    assert received.query["code"] == [FUNCTION_CODE]
    assert received.path.endswith(SLACK_TOKEN)
    assert received.headers["x-auth-key"] == "Q!z"
    out = capsys.readouterr().out
    # ... and no record shows one, though the sandbox echoes the path and the query back.
    assert _leaks(out) == []
    assert "growth-team" in out  # a public header stays readable
    if as_json:
        exchange = json.loads(out)["attempts"][0]["exchanges"][0]
        headers = exchange["request"]["headers"]
        assert headers["x-auth-key"] == sdk.MASK
        assert headers["ocp-apim-subscription-key"] == sdk.MASK
        assert headers["x-team"] == "growth-team"
        assert sdk.MASK in exchange["request"]["url"]
        assert exchange["response"]["body"]["received"]["query"]["code"] == [sdk.MASK]


def test_url_tokens_never_show_in_a_failure() -> None:
    from sdk.testing import Faults, Sandbox

    with Sandbox(faults=Faults(status=500, body="text")) as server:
        settings = _credential_settings(server.url)
        with sdk.Delivery(destination, settings, sleep=lambda s: None) as delivery:
            lifecycle = delivery.send(_event())
    assert not lifecycle.delivered
    assert _leaks(lifecycle.to_json()) == []
    assert _leaks(render_lifecycle(lifecycle)) == []


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX", ["XXXXXXXX"]),
        (
            "https://discord.com/api/webhooks/123456789012345678/tok-EN_abc",
            ["123456789012345678"],
        ),
        ("https://x.azurewebsites.net/api/fn?code=abc%2Fdef%3D%3D", ["abc/def=="]),
        ("https://u:p%40ss@example.com/hook", ["p%40ss", "p@ss"]),
        ("https://example.com/webhooks/customer-events/v1", []),
        ("https://example.com/hooks/abcdefghijklmnopqrstuv", ["abcdefghijklmnopqrstuv"]),
    ],
)
def test_which_parts_of_a_url_count_as_credentials(url: str, secrets: list[str]) -> None:
    from connectors.webhook import url_credentials

    found = url_credentials(url)
    for secret in secrets:
        assert any(secret in value for value in found), (secret, found)
    if not secrets:
        assert found == []


def test_public_headers_must_name_a_configured_header() -> None:
    with pytest.raises(sdk.InvalidSettings) as info:
        sdk.load_settings(
            destination.settings,
            {"url": URL, "headers": {"X-Team": "growth"}, "public_headers": ["X-Tema"]},
        )
    assert "public_headers" in str(info.value) and "X-Tema" in str(info.value)


def test_secret_headers_are_all_but_the_public_ones() -> None:
    from connectors.webhook import secret_headers

    settings = sdk.load_settings(
        destination.settings,
        {"url": URL, "headers": {"X-A": "1", "X-Team": "g"}, "public_headers": ["X-TEAM"]},
    )
    assert secret_headers(settings) == ["X-A"]


# -- webhook-id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message_id",
    ["café-1", "a\x00b", "a\u200bb", "a b", "a.b", "x" * 257, "", "emoji-🙂", "tab\tid", "\ud800"],
)
@respx.mock(assert_all_called=False)
def test_a_message_id_that_is_not_a_clean_token_gets_the_digest_id(
    respx_mock: respx.MockRouter, message_id: str
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200, json={}))
    from connectors.webhook import _webhook_id

    payload = {"type": "track", "event": "E", "userId": "u1", "messageId": message_id}
    webhook_id = _webhook_id([payload])
    assert webhook_id.startswith("msg_") and len(webhook_id) == 36
    assert webhook_id == _webhook_id([dict(payload)])  # stable across retries
    if "\ud800" in message_id or not message_id:
        return  # refused by the message model: never reaches the connector
    settings = {"url": URL, "signing_secret": SECRET}
    with sdk.Delivery(destination, settings, sleep=lambda s: None) as delivery:
        lifecycle = delivery.send(payload)
    assert lifecycle.delivered and len(lifecycle.attempts) == 1
    request = route.calls.last.request
    assert request.headers["webhook-id"] == webhook_id
    verify(SECRET, dict(request.headers), request.content)


@pytest.mark.parametrize("message_id", ["abc", "ajs-next-1700000000000-x_y", "A~B+C", "x" * 256])
def test_a_clean_message_id_is_kept(message_id: str) -> None:
    from connectors.webhook import _webhook_id

    assert _webhook_id([{"messageId": message_id}]) == message_id
    assert _webhook_id([{"messageId": message_id}, {"messageId": "b"}]).startswith("msg_")


def test_stream_masks_url_tokens_and_headers_in_the_record_of_a_failure() -> None:
    # stream() is carried by the lean HTTP/1.1 carrier (the default); the secrets are
    # registered once per delivery, before its first request, and every failure's record
    # masks them.
    from sdk.testing import Faults, Sandbox

    with Sandbox(faults=Faults(sequence=[500], body="text")) as server:
        settings = _credential_settings(server.url)
        with sdk.Delivery(destination, settings, sleep=lambda s: None) as delivery:
            results = list(delivery.stream(_event(n) for n in range(3)))
            session = delivery._async._state["webhook.session"]
            assert delivery._async._client.direct._session is not None  # carried direct
            (failed,) = list(delivery.stream([_event(3)], record="none"))  # not recorded
            assert delivery._async._state["webhook.session"] is session  # worked out once
        received = server.requests
    assert sorted(r.attempts for r in results) == [1, 1, 2]
    assert all(r.delivered and r.lifecycle is None for r in results)  # no record kept
    assert failed.delivered and failed.lifecycle is None
    assert len(received) == 5 and all(r.headers["x-auth-key"] == "Q!z" for r in received)

    with Sandbox(faults=Faults(status=500, body="text")) as server:
        settings = _credential_settings(server.url)
        with sdk.Delivery(destination, settings, sleep=lambda s: None) as delivery:
            (failed,) = list(delivery.stream([_event(4)]))
    assert not failed.delivered and failed.lifecycle is not None
    assert _leaks(failed.lifecycle.to_json()) == []
    assert _leaks(render_lifecycle(failed.lifecycle)) == []
    exchange = failed.lifecycle.to_dict()["attempts"][0]["exchanges"][0]
    assert exchange["request"]["headers"]["x-auth-key"] == sdk.MASK
    assert exchange["request"]["headers"]["x-team"] == "growth-team"
    assert sdk.MASK in exchange["request"]["url"]
    assert exchange["response"]["status"] == 500
