"""CLI edges: settings typed without a key, a busy sandbox port, a connector that fails to load."""

from __future__ import annotations

import socket

import pytest

from sdk import _registry
from sdk.cli import main


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
