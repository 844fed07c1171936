"""Secrets never appear in a lifecycle record, an error message or a log line: on success and on
every failure path, raw, percent-encoded, inside Basic credentials or a query string."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, SecretStr

from sdk import (
    MASK,
    Action,
    AnyMessage,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    Lifecycle,
    Redactor,
    RetryPolicy,
    Subscription,
)
from sdk.delivery import render_lifecycle
from sdk.testing import Sandbox
from sdk.transport import quiet_http_loggers

ENDPOINT = "https://mock.test"
URL = f"{ENDPOINT}/v1/track"
KEY = "sk_live_9f8E7d/6c+5b=4aQ"
PASSWORD = "pw-Tr0ub4dor&3-horse"
USER = "acct"  # 4 characters: the key sits at an offset base64 does not align with


def basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


class Settings(DestinationSettings):
    api_key: SecretStr
    password: SecretStr = SecretStr(PASSWORD)
    username: str = USER


class SendEverywhere(Action[Settings, dict[str, Any]]):
    """Puts the key in a query string, a body field, free text and an uncommon header."""

    name = "send_everywhere"
    subscribe = Subscription.of("track", "identify")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id, "event": getattr(event, "event", None)}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        key = ctx.settings.api_key.get_secret_value()
        await ctx.http.post(
            "/v1/track",
            params={"api_key": key, "page": "1"},
            json={"event": payload, "client_secret": key, "note": f"sent with {key}"},
            headers={"X-Forwarded-Credential": f"Basic {basic(ctx.settings.username, key)}"},
        )


destination: Destination[Settings] = Destination(
    name="Redaction Test",
    slug="redaction_test",
    kind=DestinationKind.EVENT,
    settings=Settings,
    actions=[SendEverywhere()],
    headers=lambda s: {
        "Authorization": f"Basic {basic(s.username, s.password.get_secret_value())}",
        "X-Api-Key": s.api_key.get_secret_value(),
    },
    retry=RetryPolicy(max_attempts=2, jitter=0.0),
)

EVENT = {"type": "track", "event": "Order Completed", "userId": "u-1"}


def leaked_forms(secret: str) -> list[str]:
    """Every spelling of a secret that would count as a leak."""
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        basic(USER, secret),
        basic("", secret).rstrip("="),
        base64.b64encode(secret.encode()).decode().rstrip("="),
    ]


def assert_no_secret(text: str) -> None:
    for secret in (KEY, PASSWORD):
        for form in leaked_forms(secret):
            assert form not in text, f"a form of a secret leaked: {form!r}"


def send(side_effect: list[Any]) -> tuple[Lifecycle, respx.Route]:
    with respx.mock() as mock:
        route = mock.post(URL).mock(side_effect=side_effect)
        with Delivery(
            destination, {"endpoint": ENDPOINT, "api_key": KEY}, sleep=lambda s: None
        ) as d:
            lifecycle = d.send(EVENT)
    return lifecycle, route


def test_a_successful_send_shows_no_secret_but_sends_it() -> None:
    lifecycle, route = send([httpx.Response(200, json={"ok": True, "echo": KEY})])

    assert lifecycle.delivered
    sent = route.calls.last.request
    assert sent.headers["x-api-key"] == KEY  # the wire carries the real credentials
    assert sent.url.params["api_key"] == KEY
    text = lifecycle.to_json()
    assert_no_secret(text)
    request = lifecycle.to_dict()["attempts"][0]["exchanges"][0]["request"]
    assert request["headers"]["authorization"] == f"Basic {MASK}"
    assert request["headers"]["x-api-key"] == MASK
    assert request["headers"]["x-forwarded-credential"] == f"Basic {MASK}"
    assert "api_key=%5BREDACTED%5D" in request["url"] or f"api_key={MASK}" in request["url"]
    assert "page=1" in request["url"]
    assert request["body"] == {
        "event": {"user": "u-1", "event": "Order Completed"},
        "client_secret": MASK,
        "note": f"sent with {MASK}",
    }


FAILURES: dict[str, list[Any]] = {
    "401 echoing the key": [
        httpx.Response(401, json={"message": f"invalid api key {KEY}", "key": KEY}),
    ],
    "401 echoing the Basic header as text": [
        httpx.Response(
            401,
            text=f"Authorization: Basic {basic(USER, PASSWORD)} refused for {KEY}",
            headers={"content-type": "text/plain"},
        ),
    ],
    "500 echoing the key": [
        httpx.Response(500, text=f"internal error with key={KEY}"),
        httpx.Response(503, json={"error": {"message": f"down; retry with {quote(KEY)}"}}),
    ],
    "timeouts": [httpx.ReadTimeout(f"timed out reading {URL}?api_key={KEY}")] * 2,
    "network error with the URL": [
        httpx.ConnectError(f"cannot connect to {URL}?api_key={quote(KEY, safe='')}&page=1"),
        httpx.ConnectError(f"cannot connect to {URL}?api_key={KEY}&page=1"),
    ],
    "400 echoing the key in JSON": [
        httpx.Response(
            400,
            json={
                "error": {"message": f"bad request: api_key {KEY} is not allowed here"},
                "request": {"api_key": KEY, "headers": {"X-Api-Key": KEY}, "note": KEY},
            },
        ),
    ],
    "403 with an auth header echoed back": [
        httpx.Response(
            403,
            json={"detail": f"forbidden for Basic {basic(USER, KEY)}"},
            headers={"WWW-Authenticate": f'Basic realm="{KEY}"'},
        ),
    ],
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_no_secret_on_any_failure_path(failure: str) -> None:
    lifecycle, _ = send(FAILURES[failure])

    assert not lifecycle.delivered
    assert lifecycle.error is not None
    assert_no_secret(lifecycle.to_json())
    assert_no_secret(lifecycle.to_json(indent=None))
    assert_no_secret(lifecycle.error.message)
    assert "\n" not in lifecycle.error.message
    for attempt in lifecycle.attempts:
        for exchange in attempt.exchanges:
            if exchange.error is not None:
                assert_no_secret(exchange.error.message)


def test_error_messages_are_masked_but_still_say_what_happened() -> None:
    lifecycle, _ = send(FAILURES["401 echoing the key"])

    assert lifecycle.error is not None
    assert lifecycle.error.cls == "InvalidAuthentication"
    assert lifecycle.error.message == f"HTTP 401 Unauthorized: invalid api key {MASK}"
    response = lifecycle.to_dict()["attempts"][0]["exchanges"][0]["response"]
    assert response["body"] == {"message": f"invalid api key {MASK}", "key": MASK}


def test_a_network_error_message_keeps_the_url_without_the_key() -> None:
    lifecycle, _ = send(FAILURES["network error with the URL"])

    assert lifecycle.error is not None
    assert lifecycle.error.message == (
        f"network error: ConnectError: cannot connect to {URL}?api_key={MASK}&page=1"
    )


class UsesSettingsInBody(Action[Settings, dict[str, Any]]):
    name = "body_credentials"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post(
            "/v1/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "rt-not-a-registered-secret",
                "client_id": "client-123",
                "client_secret": "cs-not-a-registered-secret",
            },
        )
        await ctx.http.post(
            "/v1/track",
            params={"access_token": "at-query-unregistered", "page": "2"},
            json={"user": payload["user"], "name": "Ada", "plan": "pro"},
            headers={"X-Api-Key": "xk-unregistered", "X-Request-Id": "req-7"},
        )


def test_credential_named_headers_params_and_fields_are_masked_innocent_ones_stay() -> None:
    dest = Destination(
        name="Names",
        slug="names",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[UsesSettingsInBody()],
    )
    token_answer = {
        "access_token": "at-unregistered-1234",
        "refresh_token": "rt-unregistered-5678",
        "token_type": "bearer",
        "expires_in": 3600,
        "scope": "events",
    }
    with respx.mock() as mock:
        mock.post(f"{ENDPOINT}/v1/token").mock(return_value=httpx.Response(200, json=token_answer))
        mock.post(f"{ENDPOINT}/v1/track").mock(return_value=httpx.Response(200))
        with Delivery(dest, {"endpoint": ENDPOINT, "api_key": KEY}) as d:
            lifecycle = d.send(EVENT)

    assert lifecycle.delivered
    token, track = (e.to_dict() for e in lifecycle.attempts[0].exchanges)
    assert token["request"]["body_kind"] == "form"
    assert token["request"]["body"] == {
        "grant_type": "refresh_token",
        "refresh_token": MASK,
        "client_id": "client-123",
        "client_secret": MASK,
    }
    assert token["response"]["body"] == {
        "access_token": MASK,
        "refresh_token": MASK,
        "token_type": "bearer",
        "expires_in": 3600,
        "scope": "events",
    }
    assert track["request"]["headers"]["x-api-key"] == MASK
    assert track["request"]["headers"]["x-request-id"] == "req-7"
    assert "at-query-unregistered" not in track["request"]["url"]
    assert "page=2" in track["request"]["url"]
    assert track["request"]["body"] == {"user": "u-1", "name": "Ada", "plan": "pro"}
    text = lifecycle.to_json()
    for value in ("rt-not", "cs-not", "at-unregistered", "rt-unregistered", "xk-unregistered"):
        assert value not in text


class RuntimeToken(Action[Settings, dict[str, Any]]):
    name = "runtime_token"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        if "token" not in ctx.state:
            answer = await ctx.http.post("/oauth/token", json={"grant": "client"})
            ctx.state["token"] = answer.data["tok"]
            ctx.add_secret(ctx.state["token"])
        token = ctx.state["token"]
        await ctx.http.post(
            f"/v1/sessions/{token}/events",
            json={"session": token, **payload},
            headers={"X-Session": token},
        )


def test_add_secret_masks_a_run_time_token_from_then_on() -> None:
    token = "tok-RUNTIME-0123456789abcdef"
    dest = Destination(
        name="Runtime",
        slug="runtime",
        kind=DestinationKind.EVENT,
        settings=Settings,
        actions=[RuntimeToken()],
    )
    with respx.mock() as mock:
        mock.post(f"{ENDPOINT}/oauth/token").mock(
            return_value=httpx.Response(200, json={"tok": token})
        )
        events = mock.post(url__regex=rf"{ENDPOINT}/v1/sessions/.*").mock(
            side_effect=[
                httpx.Response(500, json={"message": f"session {token} busy"}),
                httpx.Response(200, json={"session_echo": token}),
            ]
        )
        with Delivery(dest, {"endpoint": ENDPOINT, "api_key": KEY}, sleep=lambda s: None) as d:
            lifecycle = d.send(EVENT)

    assert lifecycle.delivered
    assert events.call_count == 2
    assert events.calls.last.request.headers["x-session"] == token
    later = lifecycle.attempts[-1].exchanges[-1].to_dict()
    assert later["request"]["url"] == f"{ENDPOINT}/v1/sessions/{MASK}/events"
    assert later["request"]["headers"]["x-session"] == MASK
    assert later["request"]["body"] == {"session": MASK, "user": "u-1"}
    assert later["response"]["body"] == {"session_echo": MASK}
    assert lifecycle.attempts[0].error is not None
    assert token not in lifecycle.attempts[0].error.message
    # The token endpoint's answer came before add_secret: its field is not credential-named,
    # so it is the one place the token may show; every exchange after it is masked.
    after = lifecycle.to_json().replace(
        str(lifecycle.attempts[0].exchanges[0].to_dict()["response"]["body"]), ""
    )
    assert after.count(token) <= 1


@pytest.fixture
def httpx_at_info() -> Iterator[None]:
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


def test_httpx_is_quiet_in_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lifecycle, _ = send([httpx.Response(200)])

    assert lifecycle.delivered
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    for record in caplog.records:
        message = record.getMessage()
        assert "api_key=" not in message or f"api_key={MASK}" in message
        assert_no_secret(message)


def test_httpx_turned_up_again_still_masks_query_credentials(
    caplog: pytest.LogCaptureFixture, httpx_at_info: None
) -> None:
    caplog.set_level(logging.INFO)
    with respx.mock() as mock:
        mock.get(url__startswith=ENDPOINT).mock(return_value=httpx.Response(200))
        httpx.get(f"{ENDPOINT}/v1/x?access_token=at-plain-123&page=1")

    messages = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert messages, "httpx logged nothing at INFO"
    assert all("at-plain-123" not in m for m in messages)
    assert any(f"access_token={MASK}" in m for m in messages)


# -- the Redactor itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "X-Api-Key",
        "api_key",
        "apiKey",
        "access_token",
        "accessToken",
        "client_secret",
        "refresh_token",
        "password",
        "private_key",
        "write_key",
    ],
)
def test_credential_names_are_masked(name: str) -> None:
    redactor = Redactor()

    assert redactor.value({name: "v-123", "nested": [{name: "v-456"}]}) == {
        name: MASK,
        "nested": [{name: MASK}],
    }
    assert redactor.header(name, "v-123") in (MASK, f"Basic {MASK}")
    assert MASK in redactor.url(f"https://x.test/p?{name}=v-123")


@pytest.mark.parametrize(
    "name",
    ["name", "email", "event", "user_id", "token_type", "expires_in", "keyboard", "content-type"],
)
def test_innocent_names_stay(name: str) -> None:
    redactor = Redactor()

    assert redactor.value({name: "v-123"}) == {name: "v-123"}
    assert redactor.header(name, "v-123") == "v-123"
    assert redactor.url(f"https://x.test/p?{name}=v-123") == f"https://x.test/p?{name}=v-123"


def test_a_bearer_header_keeps_its_scheme() -> None:
    assert Redactor().header("Authorization", "Bearer abc.def") == f"Bearer {MASK}"


def test_userinfo_in_a_url_is_masked() -> None:
    assert Redactor().url("https://user:pw@x.test/p") == f"https://{MASK}@x.test/p"


def test_short_values_are_not_treated_as_secrets() -> None:
    redactor = Redactor(["abc"])

    assert redactor.text("abcdef") == "abcdef"


@pytest.mark.parametrize("user", ["", "a", "ab", "abc", "acct", "longer-user"])
def test_a_secret_inside_basic_credentials_is_masked_at_every_offset(user: str) -> None:
    redactor = Redactor([KEY])
    encoded = basic(user, KEY)

    masked = redactor.text(f"echo: Basic {encoded} end")

    assert masked == f"echo: Basic {MASK} end"


def test_booleans_and_structures_under_credential_names_stay_readable() -> None:
    redactor = Redactor()
    value = {"token": {"type": "bearer"}, "password_set": True}

    assert redactor.value(value) == value


def test_an_error_quoting_a_credential_named_field_is_masked() -> None:
    body = {"errors": [{"field": "user", "access_token": "at-echo-unregistered"}]}
    lifecycle, _ = send([httpx.Response(422, json=body)])

    assert lifecycle.error is not None
    assert lifecycle.error.cls == "PayloadValidationError"
    assert "at-echo-unregistered" not in lifecycle.error.message
    assert "at-echo-unregistered" not in lifecycle.to_json()
    assert MASK in lifecycle.error.message


def test_value_fast_path_returns_an_independent_copy() -> None:
    from sdk.transport._redaction import Redactor

    redactor = Redactor(["sk_live_abcdef123456"])
    original = {"properties": {"j_o_first_purchase__opened_email_dje83h": True}, "list": [1, 2]}
    copy = redactor.value(original)
    assert copy == original and copy is not original
    copy["properties"]["extra"] = 1
    copy["list"].append(3)
    assert original == {
        "properties": {"j_o_first_purchase__opened_email_dje83h": True},
        "list": [1, 2],
    }


def test_value_masks_secret_in_an_otherwise_plain_document() -> None:
    from sdk.transport._redaction import MASK, Redactor

    redactor = Redactor(["sk_live_abcdef123456"])
    masked = redactor.value({"properties": {"note": "key is sk_live_abcdef123456 here"}})
    assert masked == {"properties": {"note": f"key is {MASK} here"}}
    masked = redactor.value({"context": {"callback": "https://x.test/?access_token=abc123def"}})
    assert "abc123def" not in str(masked)


def test_a_location_header_is_redacted_as_a_url() -> None:
    redactor = Redactor(["location-secret-1"])

    masked = redactor.header(
        "Location", "https://user:pw@h.test/in/location-secret-1?api_key=abc123&page=2"
    )

    assert masked == "https://[REDACTED]@h.test/in/[REDACTED]?api_key=[REDACTED]&page=2"


# -- every rendering of a secret -------------------------------------------------------------

NUL_SECRET = "abc\x00xyz/sec ret+é"


def renderings(secret: str) -> dict[str, str]:
    """Every way a secret can be spelled in text that must count as a leak."""
    raw = secret.encode()
    lower_hex = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe=""))
    return {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "json, not ASCII": json.dumps(secret, ensure_ascii=False)[1:-1],
        "repr": repr(secret)[1:-1],
        "repr of bytes": repr(raw)[2:-1],
        "percent": quote(secret, safe=""),
        "percent, / kept": quote(secret),
        "percent, lower-case hex": lower_hex,
        "plus": quote_plus(secret),
        "plus, / kept": quote_plus(secret, safe="/"),
        "base64": base64.b64encode(raw).decode(),
        "base64 url-safe": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "Basic, no user": f"Basic {basic('', secret)}",
        "Basic, 1-char user": f"Basic {basic('a', secret)}",
        "Basic, 2-char user": f"Basic {basic('ab', secret)}",
        "Basic, 3-char user": f"Basic {basic('abc', secret)}",
    }


@pytest.mark.parametrize("secret", [NUL_SECRET, KEY, "wxyz", "p'q\"r\\s\tt"])
@pytest.mark.parametrize("form", list(renderings(KEY)))
def test_every_rendering_of_a_secret_is_masked(secret: str, form: str) -> None:
    shown = renderings(secret)[form]
    masked = Redactor([secret]).text(f"<<{shown}>>")
    assert shown not in masked
    assert MASK in masked


@settings(max_examples=150, deadline=None)
@given(
    secret=st.text(min_size=4, max_size=24).filter(lambda s: not set(s) & set("[]<>REDACT")),
    user=st.text(max_size=6, alphabet=st.characters(codec="ascii")),
)
def test_fuzz_no_rendering_of_any_secret_survives(secret: str, user: str) -> None:
    redactor = Redactor([secret])
    forms = renderings(secret)
    forms["Basic, any user"] = f"Basic {basic(user, secret)}"
    for form, shown in forms.items():
        assert shown not in redactor.text(f"<<{shown}>>"), form


def test_a_basic_token_with_a_short_secret_is_masked_whole() -> None:
    # A 4-character secret is too short for the base64 cores; the decoded token still shows it.
    redactor = Redactor(["wxyz"])
    assert redactor.text(f"Authorization: Basic {basic('someone', 'wxyz')}") == (
        f"Authorization: Basic {MASK}"
    )
    other = basic("someone", "other")
    assert redactor.text(f"Basic {other}") == f"Basic {other}"  # not a secret: kept
    assert redactor.text("Basic !!!") == "Basic !!!"


class HeaderSecretSettings(DestinationSettings):
    # Marked free text so that load lets it through (settings refuse such a secret at load):
    # this checks the transport's own defence for a secret that reaches a header anyway.
    api_key: SecretStr = Field(json_schema_extra={"free_text": True})


class HeaderAction(Action[HeaderSecretSettings, dict[str, Any]]):
    name = "header"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: HeaderSecretSettings) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[HeaderSecretSettings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/track", json=payload)


def _header_destination(header: str) -> Destination[HeaderSecretSettings]:
    return Destination(
        name="Header Secret",
        slug="header_secret",
        kind=DestinationKind.EVENT,
        settings=HeaderSecretSettings,
        actions=[HeaderAction()],
        headers=lambda s: {header: f"Bearer {s.api_key.get_secret_value()}"},
    )


@pytest.mark.parametrize("header", ["Authorization", "X-Custom-Thing"])
@pytest.mark.parametrize("secret", [NUL_SECRET, "abc\x00x", "abc\rxyz", "key-é-long"])
def test_a_secret_httpx_cannot_send_is_a_permanent_error_without_the_secret(
    header: str, secret: str
) -> None:
    with (
        Sandbox() as sandbox,
        Delivery(
            _header_destination(header),
            {"endpoint": sandbox.url, "api_key": secret},
            sleep=lambda s: None,
        ) as delivery,
    ):
        lifecycle = delivery.send(EVENT)
        assert sandbox.requests == []  # nothing was sent
    assert lifecycle.outcome.value == "failed: permanent"
    assert len(lifecycle.attempts) == 1  # not retried as a network error
    assert lifecycle.error is not None and lifecycle.error.cls == "IntegrationError"
    assert "cannot be sent" in lifecycle.error.message
    shown = lifecycle.to_json() + lifecycle.to_json(indent=None) + render_lifecycle(lifecycle)
    shown += json.dumps(lifecycle.to_dict())
    for form in renderings(secret).values():
        assert form not in shown
    tail = secret[4:]  # what follows the NUL / CR, the part an HTTP error would print
    assert len(tail) < 4 or tail not in shown


def test_an_empty_or_short_secret_listed_first_does_not_stop_the_real_one() -> None:
    redactor = Redactor(["", "ab", "abc", "real-secret-value"])
    assert redactor.text("x real-secret-value y") == f"x {MASK} y"
    redactor = Redactor()
    redactor.add("", "real-secret-value")
    assert redactor.text("real-secret-value") == MASK


def test_a_secret_that_prefixes_another_never_leaves_a_tail() -> None:
    for order in (["1234", "12345678"], ["12345678", "1234"]):
        redactor = Redactor(order)
        assert redactor.text("id=12345678;") == f"id={MASK};"
        assert redactor.text("1234") == MASK
        longer = basic("", "12345678").rstrip("=")
        assert redactor.text(f"tok {longer}") == f"tok {MASK}"


def test_a_credential_header_value_with_a_space_is_masked_whole() -> None:
    redactor = Redactor()
    assert redactor.header("X-Api-Key", "part1 part2") == MASK
    assert redactor.header("Authorization", "Bearer") == MASK
    assert redactor.header("Authorization", "Token abc def") == f"Token {MASK}"
    assert redactor.header("Authorization", "OAuth x") == f"OAuth {MASK}"
    assert redactor.header("Authorization", "basic x") == f"basic {MASK}"
    assert redactor.header("Authorization", "Digest x") == MASK


def test_the_four_character_boundary() -> None:
    assert Redactor(["abcd"]).text("xabcdx") == f"x{MASK}x"
    assert Redactor(["abc"]).text("xabcx") == "xabcx"
    assert Redactor(["abcd"]).secrets >= {"abcd"}
    assert Redactor(["abc"]).secrets == frozenset()


@pytest.mark.parametrize("secret", ["wxyz", "abcde", KEY])
def test_base64_credentials_are_masked_without_a_scheme_in_front(secret: str) -> None:
    redactor = Redactor([secret])
    for wrapped in (f"{secret}:", f":{secret}", secret):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            token = encode(wrapped.encode()).decode()
            assert token.rstrip("=") not in redactor.text(f'{{"auth": "{token}"}}'), wrapped


def test_a_basic_token_is_decoded_padded_or_not_standard_or_url_safe() -> None:
    secret = "k~?>"  # its base64 uses the characters that differ between the two alphabets
    redactor = Redactor([secret])
    raw = f"someone1:{secret}".encode()  # 13 bytes: padded with "=="
    assert "/" in base64.b64encode(raw).decode() and "_" in base64.urlsafe_b64encode(raw).decode()
    for token in (
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        assert redactor.text(f"BASIC  {token}!") == f"BASIC  {MASK}!", token


def test_a_basic_token_that_is_not_text_or_not_base64_is_left_alone() -> None:
    redactor = Redactor(["wxyz"])
    binary = base64.b64encode(b"\xff\xfe\x00\x81 not utf-8").decode()
    assert redactor.text(f"Basic {binary}") == f"Basic {binary}"
    assert redactor.text("Basic a") == "Basic a"  # one character: not decodable


def test_mask_headers_masks_the_whole_value_whatever_the_case_of_the_name() -> None:
    redactor = Redactor()
    redactor.mask_headers("X-Functions-Key", "ocp-apim-subscription-key")
    assert redactor.header("x-functions-key", "ab") == MASK
    assert redactor.header("X-FUNCTIONS-KEY", "Bearer x y") == MASK
    assert redactor.header("Ocp-Apim-Subscription-Key", "k") == MASK
    assert redactor.header("X-Team", "growth") == "growth"
    assert redactor.headers([("X-Functions-Key", "a"), ("X-Functions-Key", "b")]) == {
        "X-Functions-Key": f"{MASK}, {MASK}"
    }


def test_a_redactor_without_secrets_leaves_basic_tokens_alone() -> None:
    token = basic("user", "password-1")
    assert Redactor().text(f"Basic {token}") == f"Basic {token}"


# -- what mutation testing found ---------------------------------------------------------------


def test_quiet_http_loggers_holds_both_loggers_at_warning_with_one_filter() -> None:
    from sdk.transport._redaction import _FILTER

    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).removeFilter(_FILTER)
    quiet_http_loggers()
    quiet_http_loggers()
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        assert logger.level == logging.WARNING
        assert logger.filters.count(_FILTER) == 1


def test_a_log_record_that_cannot_be_formatted_is_let_through() -> None:
    from sdk.transport._redaction import _FILTER

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "%d items", ("x",), None)
    assert _FILTER.filter(record) is True
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "GET /?api_key=%s", ("k1",), None
    )
    assert _FILTER.filter(record) is True
    assert record.getMessage() == f"GET /?api_key={MASK}"


@pytest.mark.parametrize("user", ["", "a", "ab", "abc"])
@pytest.mark.parametrize("secret", [KEY, "abcdefgh", "abcdef"])
def test_a_secret_inside_any_base64_text_is_masked_at_every_offset(user: str, secret: str) -> None:
    # Not only "user:secret": anything before and after it (no form covers this; the cores do).
    token = base64.b64encode(f"{user}:{secret}:and more after it".encode()).decode()
    masked = Redactor([secret]).text(f"<<{token}>>")
    assert masked == f"<<{MASK}>>" or (len(user) % 3 != 2 and len(secret) < 8), masked


def test_a_six_byte_secret_at_an_aligned_offset_is_found_by_its_core() -> None:
    token = base64.b64encode(b"123abcdef!!").decode()  # "abcdef" at offset 3
    assert Redactor(["abcdef"]).text(token) == MASK


def test_base64_of_only_part_of_a_secret_is_not_masked() -> None:
    secret = "abcdefghijkl"
    partial = base64.b64encode(secret[3:].encode()).decode()
    assert Redactor([secret]).text(partial) == partial


@pytest.mark.parametrize("form", list(renderings(KEY)))
def test_each_rendering_is_masked_whole_leaving_nothing_beside_it(form: str) -> None:
    shown = renderings(NUL_SECRET)[form]
    expected = f"Basic {MASK}" if form.startswith("Basic") else MASK
    assert Redactor([NUL_SECRET]).text(f"<<{shown}>>") == f"<<{expected}>>"


def test_an_unpadded_base64_of_a_short_secret_is_masked() -> None:
    for wrapped in ("wxyz:", ":wxyz", "wxyz"):
        token = base64.b64encode(wrapped.encode()).decode().rstrip("=")
        assert Redactor(["wxyz"]).text(f"token {token} end") == f"token {MASK} end"


def test_a_base64_form_ending_in_x_is_masked_to_its_end() -> None:
    # Five characters: too short for the base64 cores, so only the forms find it; ":a?egW"
    # encodes to a word ending in "X" (a form cut at the X would leave it showing), and its two
    # alphabets differ ("/" and "_").
    secret = "a?egW"
    standard = base64.b64encode(f":{secret}".encode()).decode()
    url_safe = base64.urlsafe_b64encode(f":{secret}".encode()).decode()
    assert standard == "OmE/ZWdX" and url_safe == "OmE_ZWdX"
    for token in (standard, url_safe):
        assert Redactor([secret]).text(f"<{token}>") == f"<{MASK}>"


def test_a_url_with_at_signs_in_its_user_info_keeps_only_the_host() -> None:
    redactor = Redactor()
    assert redactor.url("https://us@er:p@ss@x.test/p") == f"https://{MASK}@x.test/p"


def test_a_url_keeps_blank_query_values() -> None:
    assert Redactor().url("https://x.test/p?a=&api_key=k&b=1") == (
        f"https://x.test/p?a=&api_key={MASK}&b=1"
    )


def test_value_masks_a_secret_in_a_plain_string_and_inside_lists() -> None:
    redactor = Redactor(["wxyz-secret"])
    assert redactor.value("x wxyz-secret y") == f"x {MASK} y"
    assert redactor.value({"a": ["x wxyz-secret y", 1], "b": ("wxyz-secret",)}) == {
        "a": [f"x {MASK} y", 1],
        "b": [MASK],
    }


def test_value_masks_a_short_secret_inside_a_basic_token_in_a_document() -> None:
    redactor = Redactor(["wxyz"])
    document = {"note": f"Basic {basic('someone', 'wxyz')}", "n": 1}
    assert redactor.value(document) == {"note": f"Basic {MASK}", "n": 1}


def test_value_of_a_document_json_cannot_carry_is_walked_whole() -> None:
    class Odd:
        pass

    odd = Odd()
    redactor = Redactor(["wxyz-secret"])
    result = redactor.value({"k": odd, "note": "wxyz-secret", "list": ["api_key=1"]})
    assert result == {"k": odd, "note": MASK, "list": [f"api_key={MASK}"]}


def test_an_unpadded_standard_base64_form_is_masked_where_the_alphabets_differ() -> None:
    # ":a?eg" encodes to "OmE/ZWc=": shown unpadded, only the unpadded standard form matches.
    token = base64.b64encode(b":a?eg").decode()
    assert token == "OmE/ZWc="
    assert Redactor(["a?eg"]).text(f"<{token[:-1]}>") == f"<{MASK}>"


@pytest.mark.parametrize("secret", ["wxyzq", "wxyzqr", "wxyzqrs"])
def test_an_unpadded_basic_token_of_any_length_is_decoded(secret: str) -> None:
    token = base64.b64encode(f"u:{secret}".encode()).decode().rstrip("=")
    assert Redactor([secret]).text(f"Basic {token}") == f"Basic {MASK}"
