"""``destkit key`` and ``destkit payload``: output, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sdk import InvalidJourney, Space, route, step_key
from sdk.cli import main
from sdk.engage._keys import default_step_id
from sdk.engage._testevents import DEFAULT_SPACE_ID


def run(*args: str) -> int:
    """``destkit`` with ``args``; argparse's own exits come back as codes too."""
    try:
        return main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert re.match(r"destkit( \w+)?: error: ", lines[0]), lines[0]
    return lines[0]


def payload(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = run("payload", *args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    document: dict[str, Any] = json.loads(captured.out)
    return document


# ---------------------------------------------------------------- destkit key


def test_key_prints_the_step_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("key", "--journey", "First Purchase", "--step", "Opened Email") == 0
    out = capsys.readouterr().out
    assert out.endswith("\n")
    key = out.strip()
    assert re.fullmatch(r"j_o_first_purchase__opened_email_[a-z0-9]{6}", key), key
    step_id = default_step_id(DEFAULT_SPACE_ID, "First Purchase", "Opened Email")
    assert key == step_key("First Purchase", "Opened Email", step_id)


def test_key_is_stable_and_depends_on_the_space(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("key", "--journey", "J", "--step", "S")
    run(*args)
    first = capsys.readouterr().out
    run(*args)
    assert capsys.readouterr().out == first
    run(*args, "--space", "spa_other")
    other = capsys.readouterr().out
    assert other != first
    assert other.strip() == step_key("J", "S", default_step_id("spa_other", "J", "S"))


def test_key_with_an_explicit_step_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("key", "--journey", "J", "--step", "S", "--step-id", "stp_1") == 0
    assert capsys.readouterr().out.strip() == step_key("J", "S", "stp_1")


def test_key_with_awkward_names_is_still_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("key", "--journey", "🎉 Ünïcödé!", "--step", "123 ...") == 0
    key = capsys.readouterr().out.strip()
    assert re.fullmatch(r"j_o_unicode__123_[a-z0-9]{6}", key), key


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("key", "--step", "S"), "--journey"),
        (("key", "--journey", "J"), "--step"),
        (("key", "--journey", "J", "--step", "S", "--space", "not-a-space"), "space_id"),
        (("key", "--journey", "J", "--step", "S", "--bogus"), "--bogus"),
        (("key", "--journey", " ", "--step", "S"), "journey: must not be empty"),
        (("key", "--journey", "", "--step", "S"), "journey: must not be empty"),
        (("key", "--journey", "J", "--step", "\t"), "step: must not be empty"),
        (("key", "--journey", "J", "--step", "S", "--step-id", ""), "--step-id: must not be"),
        (("key", "--journey", "J", "--step", "S", "--step-id", " "), "--step-id: must not be"),
    ],
    ids=[
        "no-journey",
        "no-step",
        "bad-space",
        "unknown-flag",
        "blank-journey",
        "empty-journey",
        "blank-step",
        "empty-step-id",
        "blank-step-id",
    ],
)
def test_key_bad_arguments(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    assert run(*args) == 2
    assert needle in one_error_line(capsys)


@pytest.mark.parametrize(("journey", "step"), [(" ", "S"), ("J", "  "), ("", "S")])
def test_key_refuses_what_space_step_refuses(
    capsys: pytest.CaptureFixture[str], journey: str, step: str
) -> None:
    with pytest.raises(InvalidJourney) as refused:
        Space(DEFAULT_SPACE_ID).step(journey, step)
    assert run("key", "--journey", journey, "--step", step) == 2
    assert one_error_line(capsys) == f"destkit: error: {refused.value.message}"


def test_key_is_the_key_space_step_gives(capsys: pytest.CaptureFixture[str]) -> None:
    for extra, step_id in [((), None), (("--step-id", "stp_9"), "stp_9")]:
        assert run("key", "--journey", "Ünï J", "--step", "S 1", *extra) == 0
        expected = Space(DEFAULT_SPACE_ID).step("Ünï J", "S 1", step_id=step_id).key
        assert capsys.readouterr().out == expected + "\n"


# ---------------------------------------------------------------- destkit payload


@pytest.mark.parametrize(("call", "field"), [("track", "properties"), ("identify", "traits")])
def test_payload_for_a_journey_step(
    capsys: pytest.CaptureFixture[str], call: str, field: str
) -> None:
    run("key", "--journey", "First Purchase", "--step", "Opened Email")
    key = capsys.readouterr().out.strip()
    document = payload(
        capsys,
        "--type",
        call,
        "--journey",
        "First Purchase",
        "--step",
        "Opened Email",
        "--user-id",
        "user-1",
        "--destination",
        "Braze",
        "--destination",
        "Amplitude",
    )
    assert document["type"] == call
    assert document["userId"] == "user-1"
    assert document[field] == {key: True}
    assert document["integrations"] == {"All": False, "Braze": True, "Amplitude": True}
    personas = document["context"]["personas"]
    assert personas["computation_class"] == "audience"
    assert personas["computation_key"] == key
    assert personas["space_id"] == personas["namespace"] == DEFAULT_SPACE_ID
    assert personas["computation_id"].startswith("aud_")
    assert document["messageId"] and document["timestamp"]
    if call == "track":
        assert document["event"] == "Audience Entered"
    else:
        assert "event" not in document
    assert route(document["integrations"], "Braze").delivered
    assert not route(document["integrations"], "Mixpanel").delivered


def test_payload_uses_the_given_space(capsys: pytest.CaptureFixture[str]) -> None:
    document = payload(
        capsys, "--type", "track", "--journey", "J", "--step", "S", "--user-id", "u",
        "--space", "spa_custom",
    )  # fmt: skip
    assert document["context"]["personas"]["space_id"] == "spa_custom"


@pytest.mark.parametrize(
    ("exited", "event", "value"),
    [(False, "Audience Entered", True), (True, "Audience Exited", False)],
)
def test_payload_for_an_audience(
    capsys: pytest.CaptureFixture[str], exited: bool, event: str, value: bool
) -> None:
    args = ["--type", "track", "--audience", "VIP Users", "--user-id", "u1"]
    args += ["--destination", "Braze"] + (["--exited"] if exited else [])
    document = payload(capsys, *args)
    assert document["event"] == event
    assert document["properties"] == {"vip_users": value}
    assert document["context"]["personas"]["computation_key"] == "vip_users"
    assert document["integrations"] == {"All": False, "Braze": True}


def test_payload_identify_audience_exit(capsys: pytest.CaptureFixture[str]) -> None:
    document = payload(
        capsys, "--type", "identify", "--audience", "VIP Users", "--user-id", "u1", "--exited"
    )
    assert document["traits"] == {"vip_users": False}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--type", "track", "--journey", "J", "--step", "S", "--user-id", "u", "--exited"),
         "add-only"),
        (("--type", "track", "--journey", "J", "--user-id", "u"), "--step are required"),
        (("--type", "track", "--user-id", "u"), "--journey and --step are required"),
        (("--type", "track", "--audience", "A", "--journey", "J", "--step", "S",
          "--user-id", "u"), "not both"),
        (("--type", "page", "--journey", "J", "--step", "S", "--user-id", "u"), "--type"),
        (("--type", "track", "--journey", "J", "--step", "S"), "--user-id"),
        (("--journey", "J", "--step", "S", "--user-id", "u"), "--type"),
        (("--type", "track", "--journey", "J", "--step", "S", "--user-id", "u",
          "--space", "workspace-1"), "space_id"),
        (("--type", "track", "--journey", " ", "--step", "S", "--user-id", "u"), "journey"),
        (("--type", "track", "--journey", "J", "--step", "S", "--user-id", "u", "--destination"),
         "--destination"),
        (("--type", "track", "--journey", "J", "--step", "S", "--user-id", ""),
         "argument --user-id: must not be empty or blank"),
        (("--type", "identify", "--journey", "J", "--step", "S", "--user-id", "  "),
         "argument --user-id: must not be empty or blank"),
        (("--type", "track", "--audience", "A", "--user-id", ""),
         "argument --user-id: must not be empty or blank"),
        (("--type", "track", "--audience", " ", "--user-id", "u"),
         "argument --audience: must not be empty or blank"),
        (("--type", "track", "--journey", "J", "--step", "S", "--user-id", "u",
          "--destination", ""), "argument --destination: must not be empty or blank"),
    ],
    ids=[
        "journey-exit",
        "no-step",
        "nothing",
        "audience-and-journey",
        "bad-type",
        "no-user-id",
        "no-type",
        "bad-space",
        "blank-journey",
        "destination-without-value",
        "empty-user-id",
        "blank-user-id",
        "audience-empty-user-id",
        "blank-audience",
        "empty-destination",
    ],
)  # fmt: skip
def test_payload_bad_arguments(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    assert run("payload", *args) == 2
    assert needle in one_error_line(capsys)
