"""CLI edges: settings typed without a key, a busy sandbox port, a connector that fails to load."""

from __future__ import annotations

import io
import socket
import sys

import pytest

from sdk.cli import main
from sdk.connector import _registry


def test_setting_without_equals_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "sk_live_very_secret_value_123"
    with pytest.raises(SystemExit) as exc:
        main(["send", "--destination", "sandbox", "--event-type", "track", "--setting", secret])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--setting" in err and "KEY=VALUE" in err
    assert secret not in err
    assert len(err.strip().splitlines()) == 1


def test_sandbox_on_a_busy_port_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["sandbox", "--host", "127.0.0.1", "--port", str(port)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("destkit: error: --port: cannot listen on 127.0.0.1:")
    assert len(err.splitlines()) == 1


def test_connectors_names_a_connector_that_failed_to_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _registry.all_destinations()  # discovery first, then one broken package beside the rest
    monkeypatch.setitem(_registry._broken, "acme", "ImportError: No module named 'acme_sdk'")
    code = main(["connectors"])
    captured = capsys.readouterr()
    assert code == 1
    assert "sandbox" in captured.out  # the healthy ones are still listed
    assert "connector 'acme' failed to import: ImportError" in captured.err


@pytest.mark.parametrize(
    ("port", "rule"),
    [
        ("99999", "must be between 0 and 65535, got 99999"),
        ("65536", "must be between 0 and 65535, got 65536"),
        ("-1", "must be between 0 and 65535, got -1"),
        ("http", "must be a whole number from 0 to 65535"),
        ("", "must be a whole number from 0 to 65535"),
    ],
)
def test_sandbox_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], port: str, rule: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--port", port])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"destkit sandbox: error: argument --port: {rule}"]


class _ClosedPipe(io.StringIO):
    """stdout whose reader went away (``destkit connectors | head -1``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_output_pipe_is_a_quiet_exit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = main(["connectors", "--json"])
    assert code == 141
    assert "Traceback" not in capsys.readouterr().err


def test_sandbox_on_a_busy_port_says_why_once(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sandbox", "--host", "127.0.0.1", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("cannot listen") == 1, err


def test_sandbox_on_a_host_that_does_not_resolve_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sdk.testing._sandbox as sandbox

    def serve(host: str, port: int, faults: object) -> None:
        cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise OSError(cause.errno, f"sandbox cannot listen on {host}:{port}: x") from cause

    monkeypatch.setattr(sandbox, "serve", serve)
    assert main(["sandbox", "--host", "no-such-host.invalid", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "destkit: error: --host: cannot resolve no-such-host.invalid: Name or service not known"
    ]


@pytest.mark.parametrize("host", ["", "  "])
def test_sandbox_on_a_blank_host_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], host: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--host", host])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "destkit sandbox: error: argument --host: must not be empty or blank"
    ]
