"""What reaches the terminal: control sequences from a destination's answer, a vendor's text or
a file are shown escaped in every text output (``--json`` is JSON, escaped by construction)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sdk import terminal_safe
from sdk.cli import main
from sdk.cli._main import TerminalSafe

#: Screen clear, window title, an OSC 52 clipboard write, a C1 CSI, a bidi override, a bell.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07\x9b31m\u202eevil\r"


def assert_no_control(text: str, *, newlines: bool = True) -> None:
    allowed = {"\n"} if newlines else set()
    bad = [c for c in text if (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) and c not in allowed]
    assert not bad, bad
    assert "\u202e" not in text


def test_terminal_safe_escapes_every_control_character() -> None:
    safe = terminal_safe(HOSTILE + "\n\t\ud800")
    assert_no_control(safe, newlines=False)
    assert "\\x1b[2J" in safe and "\\x9b" in safe and "\\u202e" in safe and "\\x0a" in safe
    assert terminal_safe("a\nb\tc", keep_newlines=True) == "a\nb\tc"
    assert terminal_safe("plain ascii, é and 日本") == "plain ascii, é and 日本"


def test_the_contract_table_writer_escapes() -> None:
    target = io.StringIO()
    TerminalSafe(target).write(f"row {HOSTILE}\n")
    assert_no_control(target.getvalue())
    assert target.getvalue().endswith("\n")


class _Hostile(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = f"oops {HOSTILE}".encode()
        self.send_response(400)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def hostile_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def send_to(url: str, *extra: str) -> int:
    try:
        return main(
            [
                "send",
                "--destination",
                "webhook",
                "--event-type",
                "track",
                "--setting",
                f"url={url}",
                *list(extra),
            ]
        )
    except SystemExit as exit_:
        return int(exit_.code or 0)


def test_send_text_escapes_a_hostile_response(
    hostile_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert send_to(hostile_url) == 1
    out, err = capsys.readouterr()
    assert "\\x1b]52;c;" in out  # the clipboard write is shown, not performed
    assert_no_control(out)
    assert_no_control(err)


def test_send_json_stays_json(hostile_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert send_to(hostile_url, "--json") == 1
    out = capsys.readouterr().out
    assert_no_control(out)
    json.loads(out)


def test_journey_preview_text_escapes_names_from_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "j.yaml"
    file.write_text(
        "version: 1\nspace: {id: spa_x}\njourneys:\n"
        '  - name: "J \\e]0;pwned\\a \\u202e"\n'
        "    entry: {type: scheduled, schedule: daily}\n"
        '    steps: [{type: exit, name: "\\e[2J"}]\n',
        encoding="utf-8",
    )
    user = tmp_path / "u.json"
    user.write_text('{"user_id": "u\\u001b[31m"}', encoding="utf-8")
    assert main(["journey", "preview", str(file), "--user", str(user)]) == 0
    out = capsys.readouterr().out
    assert "\\x1b]0;pwned" in out
    assert_no_control(out)
