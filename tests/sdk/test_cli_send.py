"""``destkit send`` against the sandbox connector with a mocked API: exit codes (0 delivered,
1 failed, 2 refused before any request, 3 filtered), one-line errors, ``--json`` and
``--payload``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from sdk import Space
from sdk.cli import main

ENDPOINT = "https://mock.test"
EVENT_URL = f"{ENDPOINT}/v1/event"
SANDBOX_KEY = "sandbox-secret-key"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DESTKIT_SANDBOX_ENDPOINT", "DESTKIT_SANDBOX_API_KEY", "DESTKIT_SANDBOX_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def run(*args: str) -> int:
    """``destkit`` with ``args``; argparse's own exits come back as codes too."""
    try:
        return main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def send(*args: str) -> int:
    return run("send", "--destination", "sandbox", "--setting", f"endpoint={ENDPOINT}", *args)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.match(r"destkit( send)?: error: ", lines[0]), lines[0]
    return lines[0]


def test_a_delivered_event_exits_0(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200, json={"ok": True}))

    assert send("--event-type", "track", "--user-id", "u-42") == 0

    sent = json.loads(route.calls.last.request.content)
    assert sent["type"] == "track" and sent["userId"] == "u-42"
    assert route.calls.last.request.headers["authorization"] == f"Bearer {SANDBOX_KEY}"
    out, err = capsys.readouterr()
    assert err == ""
    assert "Outcome      delivered (200 OK)" in out
    assert "u-42" in out
    assert SANDBOX_KEY not in out


def test_a_failed_delivery_exits_1(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post(EVENT_URL).mock(return_value=httpx.Response(400, json={"message": "bad event"}))

    assert send("--event-type", "track") == 1

    out = capsys.readouterr().out
    assert "Outcome      failed: permanent" in out
    assert "PayloadValidationError: HTTP 400 Bad Request: bad event" in out


def test_an_authentication_failure_exits_1(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post(EVENT_URL).mock(return_value=httpx.Response(401, text=f"bad key {SANDBOX_KEY}"))

    assert send("--event-type", "identify", "--json") == 1

    out = capsys.readouterr().out
    record = json.loads(out)
    assert record["error"]["class"] == "InvalidAuthentication"
    assert SANDBOX_KEY not in out


def test_json_prints_a_record_that_parses(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post(EVENT_URL).mock(return_value=httpx.Response(200, json={"ok": True}))

    assert send("--event-type", "audience-entered", "--json", "--user-id", "u-7") == 0

    record = json.loads(capsys.readouterr().out)
    assert record["schema"] == "destkit.lifecycle/1"
    assert record["slug"] == "sandbox"
    assert record["outcome"] == "delivered"
    assert record["event"]["event"] == "Audience Entered"
    assert record["event"]["integrations"] == {"All": False, "Sandbox": True}
    assert record["routing"]["delivered"] is True
    (attempt,) = record["attempts"]
    assert attempt["exchanges"][0]["response"]["status"] == 200
    assert attempt["exchanges"][0]["request"]["headers"]["authorization"] == "Bearer [REDACTED]"


def test_a_test_user_id_is_generated_when_absent(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))

    assert send("--event-type", "track", "--json") == 0
    assert send("--event-type", "track", "--json") == 0

    users = [json.loads(call.request.content)["userId"] for call in route.calls]
    assert all(re.fullmatch(r"test-user-[0-9a-f]{8}", user) for user in users)
    assert users[0] != users[1]


def test_payload_sends_the_file_as_is(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))
    message = {
        "type": "track",
        "event": "Order Completed",
        "userId": "file-user",
        "messageId": "m-file",
        "properties": {"total": 12.5},
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(message))

    assert send("--event-type", "track", "--payload", str(path), "--json") == 0

    sent = json.loads(route.calls.last.request.content)
    assert {k: sent[k] for k in message} == message
    assert json.loads(capsys.readouterr().out)["event"]["messageId"] == "m-file"


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        ({"type": "track", "event": "No User"}, "payload.userId: one of userId or anonymousId"),
        ({"type": "track", "userId": "u1"}, "payload.event: is required"),
        ({"type": "purchase", "userId": "u1"}, "payload.type: must be one of track"),
        ([1, 2, 3], "payload: must be a JSON object"),
        ("track", "payload: must be a JSON object"),
        (
            {"type": "track", "userId": "u1", "event": "e", "properties": {"pad": "x" * 40_000}},
            "payload: is 40",  # the size of what would be sent, over Segment's 32 KB
        ),
    ],
    ids=["no-identity", "no-event", "bad-type", "a-list", "a-string", "over-32-kb"],
)
def test_an_invalid_payload_is_refused_before_any_request_with_exit_2(
    api: respx.MockRouter,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    message: object,
    needle: str,
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))
    path = tmp_path / "event.json"
    path.write_text(json.dumps(message))

    assert send("--event-type", "track", "--payload", str(path), "--json") == 2

    assert route.call_count == 0
    assert needle in one_error_line(capsys)


def test_a_payload_file_that_is_not_utf8_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"type": "track", "userId": "Zoë", "event": "e"}'.encode("latin-1"))

    assert send("--event-type", "track", "--payload", str(path)) == 2

    line = one_error_line(capsys)
    assert line.startswith("destkit: error: payload: ")
    assert "latin1.json is not UTF-8 text" in line


def test_a_payload_nested_too_deeply_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)

    assert send("--event-type", "track", "--payload", str(path)) == 2

    assert "payload: " in one_error_line(capsys)


@pytest.mark.parametrize("event_type", ["audience-exited", "list-remove"])
def test_a_journey_exit_is_refused_before_any_request_with_exit_2(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], event_type: str
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))

    code = send("--event-type", event_type, "--journey", "Onboarding", "--step", "Welcome")

    assert code == 2
    assert route.call_count == 0
    line = one_error_line(capsys)
    assert line.startswith("destkit: error: event-type: j_o_onboarding__welcome_")
    assert "add-only" in line


def test_a_journey_exit_in_a_payload_file_exits_2(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))
    step = Space("spa_destkit_test").step("Onboarding", "Welcome", destinations=["Sandbox"])
    entered = step.event("track", user_id="u1").to_wire()
    exited = {**entered, "event": "Audience Exited", "properties": {step.key: False}}
    path = tmp_path / "exit.json"
    path.write_text(json.dumps(exited))

    assert send("--event-type", "track", "--payload", str(path)) == 2

    assert route.call_count == 0
    assert "add-only" in one_error_line(capsys)


def test_an_audience_exit_is_still_sent(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))

    assert send("--event-type", "audience-exited", "--audience", "VIP Users") == 0

    assert json.loads(route.calls.last.request.content)["properties"]["vip_users"] is False


@pytest.mark.parametrize(
    "integrations",
    [{"All": False, "Braze": True}, {"Sandbox": False}, {"All": False}],
    ids=["another-destination", "sandbox-off", "all-off"],
)
def test_an_event_filtered_at_destination_exits_3(
    api: respx.MockRouter,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    integrations: dict[str, bool],
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))
    path = tmp_path / "event.json"
    message = {"type": "track", "userId": "u1", "event": "e", "integrations": integrations}
    path.write_text(json.dumps(message))

    assert send("--event-type", "track", "--payload", str(path), "--json") == 3

    assert route.call_count == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    record = json.loads(captured.out)
    assert record["outcome"] == "filtered"
    assert record["routing"]["decision"] == "filtered at destination"


def test_send_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("send", "--help") == 0

    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code, meaning in [
        ("0", "delivered"),
        ("1", "delivery failed"),
        ("2", "refused before any request"),
        ("3", "filtered at destination, nothing sent"),
    ]:
        assert re.search(rf"^\s+{code}  .*{meaning}", out, re.MULTILINE), (code, out)


def test_the_endpoint_can_come_from_the_environment(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTKIT_SANDBOX_ENDPOINT", ENDPOINT)
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))

    assert run("send", "--destination", "Sandbox", "--event-type", "page") == 0
    assert route.call_count == 1


def test_a_settings_file(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    route = api.post(EVENT_URL).mock(return_value=httpx.Response(200))
    path = tmp_path / "sandbox.yaml"
    path.write_text(f"endpoint: {ENDPOINT}\napi_key: file-key-123456\n")

    args = ("send", "--destination", "sandbox", "--event-type", "track")
    assert run(*args, "--settings-file", str(path)) == 0
    assert route.calls.last.request.headers["authorization"] == "Bearer file-key-123456"
    assert "file-key-123456" not in capsys.readouterr().out


# -- usage errors: exit 2, one line on stderr ------------------------------------------------


def test_an_unknown_destination_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("send", "--destination", "nope", "--event-type", "track") == 2

    line = one_error_line(capsys)
    assert "destination: no connector named 'nope'" in line
    assert "sandbox" in line


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("timeout=soon", "timeout"),
        ("timeout=-1", "timeout"),
        ("colour=blue", "colour"),
        ("endpoint=mock.test", "endpoint"),
    ],
)
def test_bad_settings_exit_2(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], setting: str, field: str
) -> None:
    # An endpoint is always given, so no sandbox server is started.
    code = send("--event-type", "track", "--setting", setting)

    assert code == 2
    assert one_error_line(capsys).startswith(f"destkit: error: {field}: ")
    assert api.calls.call_count == 0


def test_a_secret_in_bad_settings_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    code = send(
        "--event-type", "track", "--setting", "api_key=s3cr3t-value-xyz", "--setting", "timeout=x"
    )

    assert code == 2
    assert "s3cr3t-value-xyz" not in one_error_line(capsys)


@pytest.mark.parametrize("setting", ["endpoint", "=value"])
def test_bad_setting_syntax_exits_2(capsys: pytest.CaptureFixture[str], setting: str) -> None:
    code = run("send", "--destination", "sandbox", "--event-type", "track", "--setting", setting)

    assert code == 2
    assert "must look like KEY=VALUE" in one_error_line(capsys)


def test_a_missing_payload_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert send("--event-type", "track", "--payload", str(tmp_path / "missing.json")) == 2

    line = one_error_line(capsys)
    assert line.startswith("destkit: error: payload: cannot read ")
    assert "missing.json" in line


def test_a_payload_that_is_not_json_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "track",\n  "event": ')

    assert send("--event-type", "track", "--payload", str(path)) == 2

    line = one_error_line(capsys)
    assert line.startswith("destkit: error: payload: ")
    assert "is not valid JSON" in line


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("latin1.yaml", f"endpoint: {ENDPOINT}\nregion: Zürich\n".encode("latin-1")),
        ("numbers.yaml", b"1: 2\n"),
    ],
    ids=["latin1", "number-key"],
)
def test_an_unreadable_settings_file_exits_2(
    api: respx.MockRouter,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    content: bytes,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    code = run("send", "--destination", "sandbox", "--event-type", "track", "--settings-file",
               str(path))  # fmt: skip

    assert code == 2
    assert one_error_line(capsys).startswith(f"destkit: error: settings-file: {path}")
    assert api.calls.call_count == 0


def test_an_unknown_event_type_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("send", "--destination", "sandbox", "--event-type", "telepathy") == 2

    assert "invalid choice" in one_error_line(capsys)


def test_a_journey_entry_without_a_step_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert send("--event-type", "journey-entry", "--journey", "Onboarding") == 2

    assert one_error_line(capsys).startswith("destkit: error: step: ")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--destination", ""), "argument --destination: must not be empty"),
        (("--destination", "  "), "argument --destination: must not be empty"),
        (("--destination", "sandbox", "--user-id", ""), "argument --user-id: must not be empty"),
        (("--destination", "sandbox", "--audience", " "), "argument --audience: must not be"),
        (("--destination", "sandbox", "--space", ""), "space_id: must look like spa_"),
        (("--destination", "sandbox", "--space", "workspace"), "space_id: must look like spa_"),
    ],
    ids=["empty-destination", "blank-destination", "empty-user", "blank-audience",
         "empty-space", "bad-space"],
)  # fmt: skip
def test_blank_or_bad_arguments_exit_2(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    code = run("send", "--event-type", "track", "--setting", f"endpoint={ENDPOINT}", *args)

    assert code == 2
    assert needle in one_error_line(capsys)
    assert api.calls.call_count == 0
