"""Strict input: values JSON cannot carry, settings that would fail at the first request, and
arguments that used to end in a traceback are refused before any request, as one line naming
the field (exit 2)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx

from sdk import (
    InvalidEvent,
    InvalidJourney,
    InvalidSettings,
    PayloadTooLarge,
    Track,
    get_destination,
    load_settings,
    message_to_json,
    parse_batch,
    parse_message,
    preview,
)
from sdk.cli import main

ENDPOINT = "https://mock.test"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENDPOINT", "API_KEY", "TIMEOUT"):
        monkeypatch.delenv(f"DESTKIT_SANDBOX_{name}", raising=False)
    for name in ("API_KEY", "REST_ENDPOINT"):
        monkeypatch.delenv(f"DESTKIT_BRAZE_{name}", raising=False)
    monkeypatch.delenv("DESTKIT_WEBHOOK_HEADERS", raising=False)


def run(*args: str) -> int:
    try:
        return main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.match(r"destkit( \w+)?: error: ", lines[0]), lines[0]
    return lines[0]


def track(**properties: object) -> dict[str, object]:
    return {"type": "track", "event": "E", "userId": "u", "properties": properties}


# -- messages: NaN, Infinity and lone surrogates, at parse time, naming the field --------------


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        (track(a=float("nan")), "properties.a", "is NaN or Infinity"),
        (track(a=[1, float("inf")]), "properties.a[1]", "is NaN or Infinity"),
        (track(a={"b": "x\ud800"}), "properties.a.b", "holds a lone surrogate"),
        ({**track(), "userId": "\udcff"}, "userId", "holds a lone surrogate"),
        (track(**{"\ud800": 1}), "properties", "has a key with a lone surrogate"),
        (json.dumps(track()).replace("{}", '{"a": NaN}'), "properties.a", "is NaN or Infinity"),
        (json.dumps(track()).replace("{}", '{"a": "\\udc00"}'), "properties.a", "lone surrogate"),
    ],
)
def test_a_message_json_cannot_carry_is_refused_naming_the_field(
    document: object, field: str, rule: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_message(document)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert rule in caught.value.rule
    batch = parse_batch([document] if isinstance(document, dict) else f"[{document}]")
    assert not batch.messages and batch.errors[0].error.field == field


def test_the_text_nan_in_a_string_is_fine() -> None:
    message = parse_message(track(a="NaN", b="Infinity"))
    assert json.loads(message_to_json(message))["properties"] == {"a": "NaN", "b": "Infinity"}


def test_a_message_built_in_python_is_never_serialised_with_nan() -> None:
    message = Track(event="E", user_id="u", properties={"score": float("-inf")})
    with pytest.raises(InvalidEvent, match=r"^properties\.score: is NaN or Infinity"):
        message_to_json(message)


def test_an_integer_over_4300_digits_in_json_text_is_one_line() -> None:
    text = json.dumps(track()).replace("{}", '{"n": ' + "7" * 5000 + "}")
    with pytest.raises(InvalidEvent, match=r"^message: holds a number too long to read"):
        parse_message(text)


def test_a_payload_file_with_nan_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "m.json"
    file.write_text('{"type": "track", "event": "E", "userId": "u", "properties": {"x": NaN}}')
    code = run("send", "--destination", "sandbox", "--event-type", "track", "--payload", str(file))
    assert code == 2
    assert "holds NaN, which JSON cannot carry" in one_error_line(capsys)


# -- settings refused at load, before any request ----------------------------------------------


SANDBOX = get_destination("sandbox").settings


@pytest.mark.parametrize(
    "secret",
    ["", "clé-secrète", "abc\x00x", "abc\r\nX-Evil: 1", "abc\nx", "with space", "tab\tkey"],
)
def test_a_secret_that_cannot_go_in_a_header_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        load_settings(SANDBOX, {"api_key": secret, "endpoint": ENDPOINT})
    assert caught.value.field == "api_key"
    if secret:
        assert secret not in caught.value.message  # never echoed: it is a secret


def test_an_empty_secret_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESTKIT_BRAZE_API_KEY", "")
    with respx.mock(assert_all_called=False) as api:
        route = api.route().mock(return_value=httpx.Response(201, json={"message": "success"}))
        code = run(
            "send",
            "--destination",
            "braze",
            "--event-type",
            "track",
            "--setting",
            "rest_endpoint=https://rest.iad-01.braze.com",
        )
        assert not route.called
    assert code == 2
    assert one_error_line(capsys) == "destkit: error: api_key: must not be empty"


@pytest.mark.parametrize(
    ("endpoint", "rule"),
    [
        ("http://127.0.0.1:99999/", "has port 99999"),
        ("http://127.0.0.1:0/", "has port 0"),
        ("http://:80/", "must be an http(s) URL"),
        ("https://exa mple.com/", "must be an http(s) URL"),
    ],
)
def test_a_url_setting_the_client_cannot_call_is_refused(endpoint: str, rule: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        load_settings(SANDBOX, {"api_key": "k", "endpoint": endpoint})
    assert caught.value.field == "endpoint" and rule in caught.value.rule


def test_every_http_url_setting_is_checked_not_only_endpoint() -> None:
    webhook = get_destination("webhook").settings
    with pytest.raises(InvalidSettings) as caught:
        load_settings(webhook, {"url": "https://hooks.example:70000/x"})
    assert caught.value.field == "url" and "port 70000" in caught.value.rule


def test_a_bad_port_never_reaches_the_network(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        "send",
        "--destination",
        "sandbox",
        "--event-type",
        "track",
        "--setting",
        "api_key=k",
        "--setting",
        "endpoint=http://127.0.0.1:99999/",
    )
    assert code == 2
    assert "endpoint: has port 99999" in one_error_line(capsys)


# -- map settings from --setting and DESTKIT_* -------------------------------------------------


def test_map_settings_are_json_from_the_command_line_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    webhook = get_destination("webhook")
    settings = load_settings(
        webhook.settings,
        {"url": "https://hooks.example/x", "headers": '{"X-Team": "growth"}'},
        slug=webhook.slug,
    )
    assert settings.headers == {"X-Team": "growth"}  # type: ignore[attr-defined]
    facebook = get_destination("facebook_custom_audiences")
    monkeypatch.setenv("DESTKIT_FACEBOOK_CUSTOM_AUDIENCES_AUDIENCE_MAP", '{"vips": "123"}')
    loaded = load_settings(facebook.settings, {"access_token": "t"}, slug=facebook.slug)
    assert loaded.audience_map == {"vips": "123"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[1, 2]", "must be a JSON object"),
        ("{", "is not valid JSON"),
        ('{"a": NaN}', "holds NaN"),
    ],
)
def test_a_map_setting_that_is_not_a_json_object_is_one_line(text: str, rule: str) -> None:
    webhook = get_destination("webhook")
    with pytest.raises(InvalidSettings) as caught:
        load_settings(webhook.settings, {"url": "https://hooks.example/x", "headers": text})
    assert caught.value.field == "headers" and rule in caught.value.rule


def test_a_map_setting_through_send(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESTKIT_WEBHOOK_HEADERS", '{"X-Team": "growth"}')
    with respx.mock(assert_all_called=True) as api:
        route = api.post("https://hooks.example/x").mock(return_value=httpx.Response(200))
        code = run(
            "send",
            "--destination",
            "webhook",
            "--event-type",
            "track",
            "--setting",
            "url=https://hooks.example/x",
        )
    assert code == 0, capsys.readouterr()
    assert route.calls.last.request.headers["X-Team"] == "growth"


# -- arguments -----------------------------------------------------------------------------------


def test_an_empty_payload_argument_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = run("send", "--destination", "sandbox", "--event-type", "track", "--payload", "")
    assert code == 2
    assert "--payload: must not be empty" in one_error_line(capsys)


def test_an_event_built_from_arguments_over_32_kb_is_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with respx.mock(assert_all_called=False) as api:
        route = api.route().mock(return_value=httpx.Response(200))
        code = run(
            "send",
            "--destination",
            "sandbox",
            "--event-type",
            "track",
            "--setting",
            "api_key=k",
            "--setting",
            f"endpoint={ENDPOINT}",
            "--user-id",
            "u" * 100_000,
        )
        assert not route.called
    assert code == 2
    assert "Segment's limit is 32768 bytes" in one_error_line(capsys)


def test_a_non_utf8_argument_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sdk.cli", "key", "--journey", b"\xff", "--step", "x"],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == b"destkit: error: --journey: is not valid UTF-8 text\n"


# -- journeys: overflows and deep chains -------------------------------------------------------


USER = {"user_id": "u", "as_of": "2026-01-01T00:00:00Z"}


def journey_file(*journeys: dict[str, object]) -> dict[str, object]:
    return {"version": 1, "space": {"id": "spa_x"}, "journeys": list(journeys)}


def scheduled(name: str, steps: list[dict[str, object]]) -> dict[str, object]:
    return {
        "name": name,
        "status": "active",
        "entry": {"type": "scheduled", "schedule": "daily"},
        "steps": steps,
    }


@pytest.mark.parametrize(
    "step",
    [
        {"type": "wait", "days": 3_000_000},
        {"type": "wait", "hours": 1e15},
        {"type": "wait_for_condition", "condition": {"performed": "X"}, "max_wait_days": 1e15},
        {
            "type": "true_false_split",
            "condition": {"performed": "X", "within_days": 1e15},
            "if_true": [],
            "if_false": [],
        },
    ],
)
def test_an_overlong_wait_is_one_line(step: dict[str, object]) -> None:
    with pytest.raises(InvalidJourney, match=r"^journeys\[0\]\.steps\[0\]\."):
        preview(journey_file(scheduled("J", [step])), USER)


def test_a_clock_past_the_calendar_is_one_line() -> None:
    steps: list[dict[str, object]] = [{"type": "wait", "days": 36_500}] * 90
    with pytest.raises(InvalidJourney, match="waits past the year 9999"):
        preview(journey_file(scheduled("J", steps)), USER)


def test_a_chain_of_500_journeys_ending_in_a_cycle_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journeys = [
        scheduled(
            f"J{i}",
            [
                {
                    "type": "send_to_journey",
                    "name": f"s{i}",
                    "journey": f"J{i + 1 if i < 499 else 250}",
                }
            ],
        )
        for i in range(500)
    ]
    file = tmp_path / "chain.json"
    file.write_text(json.dumps(journey_file(*journeys)))
    user = tmp_path / "user.json"
    user.write_text(json.dumps(USER))
    assert run("journey", "preview", str(file), "--user", str(user)) == 2
    assert "send_to_journey chains more than 32 journeys deep" in one_error_line(capsys)


def test_a_short_chain_still_previews() -> None:
    journeys = [
        scheduled(f"J{i}", [{"type": "send_to_journey", "name": f"s{i}", "journey": f"J{i + 1}"}])
        for i in range(10)
    ]
    journeys.append(scheduled("J10", [{"type": "exit"}]))
    result = preview(journey_file(*journeys), USER)
    assert len(result.entered_journeys()) == 10


def test_json_text_is_bounded_before_it_is_parsed() -> None:
    padded = '{"type": "track", "event": "E", "userId": "u"' + " " * (2 * 1024 * 1024) + "}"
    with pytest.raises(PayloadTooLarge, match=r"^message: is \d+ characters of text"):
        parse_message(padded)
    with pytest.raises(PayloadTooLarge, match=r"^batch: is \d+ characters of text"):
        parse_batch("[" + " " * (5 * 1024 * 1024) + "]")
