"""``destkit journey preview``: text and ``--json`` output of the example, one-line errors with
exit code 2, and ``--send`` against the sandbox over loopback (exit 1 when a delivery fails)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdk.cli import main
from sdk.testing._sandbox import Faults, Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "journeys" / "first_purchase.yaml")
ELIGIBLE = str(ROOT / "examples" / "journeys" / "users" / "eligible.json")
INELIGIBLE = str(ROOT / "examples" / "journeys" / "users" / "ineligible.json")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DESTKIT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def server() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def run(*args: str) -> int:
    try:
        return main(["journey", "preview", *args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.match(r"destkit( journey preview)?: error: ", lines[0]), lines[0]
    assert out == ""
    return lines[0]


def send_settings(server: Sandbox) -> list[str]:
    return [
        "--setting",
        f"Webhook.url={server.url}/hooks/journeys",
        "--setting",
        "segment.write_key=demo-write-key",
        "--setting",
        f"Segment.endpoint={server.url}",
    ]


# -- text ---------------------------------------------------------------------------------------


def test_text_preview_of_the_eligible_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "User     user-1001, as of 2026-11-02T09:00:00Z" in out
    assert "First Purchase (active): entered by its entry rule at 2026-11-02T09:00:00Z" in out
    assert "steps[2].if_true[0]  send_to_journey  'Send to Loyalty Welcome'" in out
    assert (
        "entered: Loyalty Welcome (draft) at its first step; also continues in First Purchase"
    ) in out
    assert "| Loyalty Welcome (draft): entered by send_to_journey at 2026-11-03T07:15:00Z" in out
    assert "scheduled entry (every Monday at 09:00 UTC) ignored" in out
    assert "Entered  Loyalty Welcome (and continued in First Purchase)" in out
    assert re.search(r"key j_o_first_purchase__opened_email_[a-z0-9]{6}\n", out)
    for destination in ("Webhook: 5 events", "Sandbox: 4 events", "Segment: 1 event"):
        assert f"  {destination}\n" in out
    assert '"Webhook": true' in out and '"All": false' in out


def test_text_preview_of_the_ineligible_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", INELIGIBLE) == 0
    out = capsys.readouterr().out
    assert (
        "not eligible: does not enter Loyalty Welcome (entry: trait loyalty_opt_in equals true;"
        in out
    )
    assert "continues in First Purchase only" in out
    assert "Entered  no other journey (continued in First Purchase only)" in out
    assert "Segment:" not in out


def test_preview_of_a_named_draft_journey(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--journey", "Loyalty Welcome") == 0
    out = capsys.readouterr().out
    assert "Loyalty Welcome (draft): entered by its entry rule" in out
    assert "draft journey: previewed; it enters no one until active" in out


# -- json ---------------------------------------------------------------------------------------


def test_json_preview(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "destkit.journey-preview/1"
    assert document["space"] == {"id": "spa_demo_store", "name": "Demo Store"}
    assert document["entered_journeys"] == ["Loyalty Welcome"]
    assert list(document["destinations"]) == ["Webhook", "Sandbox", "Segment"]
    for name, emissions in document["destinations"].items():
        for emission in emissions:
            assert emission["message"]["integrations"] == {"All": False, name: True}
    assert "deliveries" not in document


# -- errors -------------------------------------------------------------------------------------


def test_a_missing_journey_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("nope.yaml", "--user", ELIGIBLE) == 2
    assert one_error_line(capsys).startswith("destkit: error: journey file: cannot read nope.yaml")


def test_an_invalid_journey_file_names_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    text = Path(EXAMPLE).read_text().replace("events: [track, identify]", "events: [page]", 1)
    bad.write_text(text)
    assert run(str(bad), "--user", ELIGIBLE) == 2
    assert one_error_line(capsys) == (
        "destkit: error: journeys[0].steps[1].destinations[0].events[0]: "
        "must be 'track' or 'identify'"
    )


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_pathologically_nested_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    deep = tmp_path / f"deep{suffix}"
    deep.write_text("[" * 5000 + "]" * 5000 if suffix == ".json" else "a: " + "[" * 5000)
    assert run(str(deep), "--user", ELIGIBLE) == 2
    assert (
        one_error_line(capsys)
        == f"destkit: error: journey file: {deep} nests too deeply (over 64 levels)"
    )
    user = tmp_path / "deep-user.json"
    user.write_text("[" * 5000 + "]" * 5000)
    assert run(EXAMPLE, "--user", str(user)) == 2
    assert (
        one_error_line(capsys)
        == f"destkit: error: user file: {user} nests too deeply (over 64 levels)"
    )


def test_an_invalid_user_file_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "user.json"
    bad.write_text(json.dumps({"traits": {"plan": "pro"}}))
    assert run(EXAMPLE, "--user", str(bad)) == 2
    assert one_error_line(capsys) == (
        "destkit: error: user.user_id: one of user_id or anonymous_id is required"
    )


def test_an_unknown_journey_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--journey", "Nope") == 2
    assert one_error_line(capsys).startswith("destkit: error: journey: no journey named 'Nope'")


def test_settings_without_send_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--setting", "Webhook.url=https://x.test") == 2
    assert one_error_line(capsys) == ("destkit: error: setting: --setting is only used with --send")


def test_a_setting_without_a_destination_is_refused_without_echoing_its_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--send", "--setting", "url=hunter2-secret") == 2
    line = one_error_line(capsys)
    assert "must look like DEST.KEY=VALUE" in line
    assert "hunter2-secret" not in line


def test_send_without_settings_names_the_missing_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--send") == 2
    assert one_error_line(capsys) == (
        "destkit: error: setting: missing Webhook.url, Segment.write_key to send this preview "
        "(give --setting Webhook.url=VALUE or set DESTKIT_WEBHOOK_URL)"
    )


def test_send_takes_settings_from_the_environment(
    server: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESTKIT_WEBHOOK_URL", f"{server.url}/hooks/journeys")
    assert run(EXAMPLE, "--user", INELIGIBLE, "--send") == 0  # no Segment for this user
    assert "Summary  Webhook: 3 delivered, 1 filtered" in capsys.readouterr().out


# -- --send over loopback -----------------------------------------------------------------------


def test_send_delivers_each_destination_its_own_events(
    server: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--send", *send_settings(server)) == 0
    out = capsys.readouterr().out
    assert "Delivery (30 lifecycles)" in out
    assert "Summary  Webhook: 5 delivered, 5 filtered" in out
    assert "Summary  Sandbox: 4 delivered, 6 filtered" in out
    assert "Summary  Segment: 1 delivered, 9 filtered" in out
    assert "filtered at destination" in out
    requests = server.requests
    hooks = [r.json for r in requests if r.path == "/hooks/journeys"]
    assert len(hooks) == 5
    assert all(body["integrations"] == {"All": False, "Webhook": True} for body in hooks)
    segment = [m for r in requests if r.path == "/v1/batch" for m in r.json["batch"]]
    # Segment forwards into another workspace: its own routing (All: false, Segment: true) is
    # dropped so that the receiving workspace's destinations apply their normal rules.
    assert len(segment) == 1 and "integrations" not in segment[0]
    assert segment[0]["traits"]["email"] == "ada@old-mail.example"  # first_added
    assert segment[0]["context"]["journey_context"]["source_journey"] == "First Purchase"


def test_send_json_adds_the_lifecycles(server: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--send", "--json", *send_settings(server)) == 0
    document = json.loads(capsys.readouterr().out)
    deliveries = document["deliveries"]
    assert len(deliveries) == 30
    assert {d["schema"] for d in deliveries} == {"destkit.lifecycle/1"}
    delivered = sorted(d["event"]["messageId"] for d in deliveries if d["outcome"] == "delivered")
    emitted = sorted(
        e["message"]["messageId"] for items in document["destinations"].values() for e in items
    )
    assert delivered == emitted
    assert "demo-write-key" not in json.dumps(deliveries)


def test_send_exits_1_when_a_delivery_fails(
    server: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set_faults(Faults(status=400))
    assert run(EXAMPLE, "--user", INELIGIBLE, "--send", *send_settings(server)) == 1
    out = capsys.readouterr().out
    assert "failed: permanent" in out


def test_the_installed_command_previews_the_example() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "sdk.cli", "journey", "preview", EXAMPLE, "--user", ELIGIBLE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Entered  Loyalty Welcome (and continued in First Purchase)" in completed.stdout


# -- docs/journeys.md stays true -----------------------------------------------------------------

DOCS = ROOT / "docs" / "journeys.md"


def test_the_docs_preview_text_is_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    pasted = re.findall(r"```text\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)[0]
    head = pasted.split("\nPayloads")[0].splitlines()
    assert run(EXAMPLE, "--user", ELIGIBLE) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[: len(head)] == head


def test_the_docs_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    import respx

    [block] = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "docs_example"}
    with respx.mock(assert_all_called=True) as api:
        api.post(url__startswith="http://127.0.0.1:8787/").mock(
            return_value=httpx.Response(200, json={"ok": True})
        )
        exec(compile(block, "docs/journeys.md", "exec", dont_inherit=True), namespace)
    lifecycles = namespace["lifecycles"]
    assert isinstance(lifecycles, list) and len(lifecycles) == 30
    outcomes = {lc.outcome.value for lc in lifecycles}
    assert outcomes == {"delivered", "filtered"}


def test_a_destination_that_send_would_refuse_is_a_note_in_text_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "misnamed.yaml"
    file.write_text(
        "space: {id: spa_cli}\n"
        "journeys:\n"
        "  - name: J\n"
        "    steps:\n"
        "      - type: send_to_destinations\n"
        "        name: S\n"
        "        destinations: [{name: webhook}, {name: NoSuchDest}]\n"
    )
    user = tmp_path / "user.json"
    user.write_text('{"user_id": "u-1", "as_of": "2026-01-01T00:00:00Z"}')
    assert run(str(file), "--user", str(user)) == 0
    out = capsys.readouterr().out
    assert (
        "note: webhook: 'webhook' must be written as the connector's integrations name "
        "'Webhook', or its events are filtered at destination; --send refuses this preview"
    ) in out
    assert "note: NoSuchDest: no connector named 'NoSuchDest' (known: " in out
    assert run(str(file), "--user", str(user), "--json") == 0
    notes = json.loads(capsys.readouterr().out)["journey"]["path"][0]["notes"]
    assert [note.split(":")[0] for note in notes] == ["webhook", "NoSuchDest"]
    assert run(str(file), "--user", str(user), "--send") == 2  # and --send refuses it
    assert "must be written as the connector's integrations name 'Webhook'" in one_error_line(
        capsys
    )


# -- --send --step ------------------------------------------------------------------------------


def test_send_one_step_sends_only_its_events_and_needs_only_its_settings(
    server: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # "Welcome Offer" is in Loyalty Welcome (entered by send-to-journey); it sends to the Sandbox
    # and Segment only, so the Webhook's url is not needed.
    segment = ["--setting", "Segment.write_key=wk-1", "--setting", f"Segment.endpoint={server.url}"]
    assert run(EXAMPLE, "--user", ELIGIBLE, "--send", "--step", "Welcome Offer", *segment) == 0
    out = capsys.readouterr().out
    assert "Summary  Segment: 1 delivered" in out
    assert "Webhook" not in out.split("Delivery (", 1)[1]
    batches = [m for r in server.requests if r.path == "/v1/batch" for m in r.json["batch"]]
    assert [m["type"] for m in batches] == ["identify"]
    assert not any(r.path == "/hooks/journeys" for r in server.requests)


def test_a_step_by_path_or_journey_and_name(
    server: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = ["--setting", f"Webhook.url={server.url}/hooks/journeys"]
    for step in ("First Purchase/Opened Email", "First Purchase/steps[1]"):
        assert run(EXAMPLE, "--user", ELIGIBLE, "--send", "--step", step, *hook) == 0
    out = capsys.readouterr().out
    assert out.count("Summary  Webhook: 4 delivered") == 2
    assert len([r for r in server.requests if r.path == "/hooks/journeys"]) == 8


def test_an_unknown_step_is_one_line_naming_the_steps_that_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--send", "--step", "Nope") == 2
    line = one_error_line(capsys)
    assert line.startswith("destkit: error: step: no step 'Nope' sent events in this preview")
    assert "First Purchase/Opened Email" in line and "Loyalty Welcome/Welcome Offer" in line


def test_a_name_in_two_journeys_must_be_written_with_its_journey(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journey = tmp_path / "two.yaml"
    journey.write_text(
        """
space: {id: spa_two}
journeys:
  - name: A
    status: active
    steps:
      - {type: send_to_destinations, name: Notify, destinations: [{name: Sandbox}]}
      - {type: send_to_journey, name: On to B, journey: B}
  - name: B
    steps:
      - {type: send_to_destinations, name: Notify, destinations: [{name: Sandbox}]}
"""
    )
    user = tmp_path / "user.json"
    user.write_text('{"user_id": "u-1", "as_of": "2026-11-02T09:00:00Z"}')
    assert run(str(journey), "--user", str(user), "--send", "--step", "Notify") == 2
    assert one_error_line(capsys) == (
        "destkit: error: step: 'Notify' names several steps: write one of A/steps[0], B/steps[0]"
    )
    assert run(str(journey), "--user", str(user), "--send", "--step", "B/Notify") == 0
    assert "Summary  Sandbox: 1 delivered" in capsys.readouterr().out


def test_step_without_send_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(EXAMPLE, "--user", ELIGIBLE, "--step", "Opened Email") == 2
    assert one_error_line(capsys) == "destkit: error: step: --step is only used with --send"
