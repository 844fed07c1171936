"""``destkit contract --junit``: a bad path is refused before the suite runs, and the XML stays
valid whatever the checks' messages hold."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sdk.cli import main
from sdk.testing import CheckResult
from sdk.testing._contract_cli import write_junit


def test_a_junit_path_in_a_missing_directory_is_refused_before_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["contract", "sandbox", "--junit", "/nonexistent/dir/out.xml"])
    assert code == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert err == [
        "destkit: error: --junit: cannot write /nonexistent/dir/out.xml: "
        "the directory /nonexistent/dir does not exist"
    ]
    assert "PASS" not in captured.out  # the suite did not run first


def test_a_junit_path_that_is_a_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contract", "sandbox", "--junit", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--junit" in err[0] and "is a directory" in err[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_junit_path_in_a_read_only_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["contract", "sandbox", "--junit", str(folder / "out.xml")]) == 2
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not writable" in err[0]


def test_control_characters_in_messages_keep_the_junit_xml_valid(tmp_path: Path) -> None:
    message = "HTTP 500: \x1b[31mboom\x1b[0m\x00 then\ttab\x0bvt \ufffe end é"
    results = [
        CheckResult("acme", "retries", "failed", message, 0.1),
        CheckResult("acme", "batch_limits", "skipped", "skipped: \x00nothing\x07", 0.0),
        CheckResult("acme", "actions_send", "passed", "", 0.0),
    ]
    out = tmp_path / "out.xml"
    write_junit(results, str(out))
    root = ET.parse(out).getroot()  # an invalid character would make this raise
    failure = root.find("./testsuite/testcase[@name='retries']/failure")
    assert failure is not None
    assert failure.get("message") == "HTTP 500: [31mboom[0m then\ttabvt  end é"
    assert failure.text == failure.get("message")
    skipped = root.find("./testsuite/testcase[@name='batch_limits']/skipped")
    assert skipped is not None and skipped.get("message") == "skipped: nothing"
