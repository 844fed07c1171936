"""``destkit sync``: users streamed from a JSON Lines file to a real loopback destination (the
sandbox), a summary on stdout, plain progress lines when not a terminal, and one line (exit 2)
for a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.cli import main
from sdk.testing import Sandbox


def _users(path: Path, count: int) -> Path:
    path.write_text(
        "".join(
            json.dumps({"user_id": f"u{i}", "email": f"u{i}@example.com"}) + "\n"
            for i in range(count)
        )
    )
    return path


def _argv(users: Path, url: str, *extra: str) -> list[str]:
    return [
        "sync",
        "--destination",
        "sandbox",
        "--audience",
        "Big Spenders",
        "--users",
        str(users),
        "--setting",
        f"endpoint={url}",
        "--setting",
        "api_key=sandbox-secret-key",
        *extra,
    ]


def test_every_user_reaches_the_destination_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = _users(tmp_path / "users.jsonl", 250)
    with Sandbox() as sandbox:
        code = main(_argv(users, sandbox.url, "--json"))
        received = [e for r in sandbox.requests for e in r.json["batch"]]
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["users"] == 250 and summary["counts"]["delivered"] == 250
    assert sorted(e["userId"] for e in received) == sorted(f"u{i}" for i in range(250))
    first = next(e for e in received if e["userId"] == "u0")
    assert first["type"] == "identify"
    assert first["traits"] == {"email": "u0@example.com", "big_spenders": True}
    assert first["context"]["personas"]["computation_key"] == "big_spenders"


def test_not_a_terminal_gets_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sdk.cli._sync as sync

    monkeypatch.setattr(sync._Progress, "__init__", _every_update(sync._Progress.__init__))
    users = _users(tmp_path / "users.jsonl", 30)
    with Sandbox() as sandbox:
        assert main(_argv(users, sandbox.url)) == 0
    out, err = capsys.readouterr()
    assert out.startswith("synced 30 users in ") and "30 delivered" in out
    assert err.splitlines()[-1].startswith("sync: 30 users of 30 (100%), ETA 0s, ")
    assert "\x1b" not in err  # no terminal codes when not a terminal


def _every_update(init):  # type: ignore[no-untyped-def]
    def patched(self, total, out, every=5.0):  # type: ignore[no-untyped-def]
        init(self, total, out, every=0.0)

    return patched


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "users line 2: must be a JSON object (one user)"),
        ("{not json", "users line 2: is not valid JSON"),
        ('{"email": "a@b.c"}', "users line 2: needs a user_id or an anonymous_id"),
        ('{"user_id": "' + "x" * 200 + '"}', "users line 2: is longer than 100 bytes"),
    ],
)
def test_a_bad_line_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    users = tmp_path / "users.jsonl"
    users.write_text('{"user_id": "u1"}\n' + line + "\n")
    with Sandbox() as sandbox:
        code = main(_argv(users, sandbox.url, "--max-line-bytes", "100"))
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
