"""Every reader of an outside document (``--payload``, ``--settings-file``, journey files,
``--user``) goes through one reader with one set of limits: these are the classes of input
that used to block, grow without end, or end in a traceback, and are now one line (exit 2)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sdk import InputError, InvalidJourney, InvalidSettings, load_journey_file, read_settings_file
from sdk._documents import (
    MAX_DOCUMENT_BYTES,
    MAX_YAML_ALIASES,
    DocumentProblem,
    parse_document,
    read_document,
)
from sdk.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "journeys"
USER = str(EXAMPLES / "users" / "eligible.json")


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


# Each reader, as the command line reaches it: (what the error names, how to run it on a file).
READERS: dict[str, tuple[str, Callable[[str], list[str]]]] = {
    "payload": (
        "payload",
        lambda path: [
            "send",
            "--destination",
            "sandbox",
            "--event-type",
            "track",
            "--payload",
            path,
        ],
    ),
    "settings": (
        "settings-file",
        lambda path: [
            "send",
            "--destination",
            "sandbox",
            "--event-type",
            "track",
            "--settings-file",
            path,
        ],
    ),
    "journey": ("journey file", lambda path: ["journey", "preview", path, "--user", USER]),
    "user": (
        "user file",
        lambda path: ["journey", "preview", str(EXAMPLES / "first_purchase.yaml"), "--user", path],
    ),
}


def refused(capsys: pytest.CaptureFixture[str], reader: str, path: str | Path) -> str:
    field, argv = READERS[reader]
    assert run(*argv(str(path))) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"destkit: error: {field}: "), line
    return line


# -- files that are not regular files: refused before reading, nothing blocks -----------------


@pytest.mark.parametrize("reader", READERS)
def test_a_fifo_is_refused_without_blocking(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # no writer: a plain open() would wait forever
    assert "not a regular file" in refused(capsys, reader, fifo)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("reader", READERS)
def test_an_endless_device_is_refused(
    reader: str, device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    assert "not a regular file" in refused(capsys, reader, device)


@pytest.mark.parametrize("reader", READERS)
def test_a_directory_is_refused(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "is a directory" in refused(capsys, reader, tmp_path)


@pytest.mark.parametrize("reader", READERS)
def test_a_file_over_the_size_cap_is_refused(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"a": "' + b"x" * MAX_DOCUMENT_BYTES + b'"}')
    assert "is larger than 1024 KB" in refused(capsys, reader, big)


# -- values JSON cannot carry, and numbers Python will not read -------------------------------


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('{"traits": {"score": NaN}}', "holds NaN, which JSON cannot carry"),
        ('{"traits": {"score": -Infinity}}', "holds -Infinity, which JSON cannot carry"),
        ('{"traits": {"score": 1e999}}', "at traits.score is NaN or Infinity"),
        ('{"traits": {"name": "\\ud800"}}', "at traits.name holds a lone surrogate"),
        ('{"traits": {"n": ' + "9" * 5000 + "}}", "holds a number longer than 100 characters"),
    ],
)
def test_json_values_json_cannot_carry_are_one_line(
    reader: str, text: str, rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "doc.json"
    file.write_text(text, encoding="utf-8")
    assert rule in refused(capsys, reader, file)


@pytest.mark.parametrize("reader", ["settings", "journey", "user"])
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("traits: {score: .nan}", "at traits.score is NaN or Infinity"),
        ("traits: {score: -.inf}", "at traits.score is NaN or Infinity"),
        ('traits: {name: "\\ud800"}', "at traits.name holds a lone surrogate"),
        ("traits: {n: " + "9" * 5000 + "}", "holds a number longer than 100 characters"),
        ("traits: {at: 2026-13-45}", "is not valid YAML"),
    ],
)
def test_yaml_values_json_cannot_carry_are_one_line(
    reader: str, text: str, rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "doc.yaml"
    file.write_text(text, encoding="utf-8")
    assert rule in refused(capsys, reader, file)


@pytest.mark.parametrize("reader", ["settings", "journey", "user"])
def test_deep_nesting_is_one_line(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "deep.yaml"
    file.write_text("a: " + "[" * 200 + "]" * 200, encoding="utf-8")
    assert "nests too deeply" in refused(capsys, reader, file)


# -- YAML alias expansion ("billion laughs") ---------------------------------------------------


def laughs(levels: int = 9, width: int = 9) -> str:
    """A small document whose aliases expand to ``width ** levels`` values."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        inner = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{inner}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("reader", ["settings", "journey", "user"])
def test_a_billion_laughs_is_refused_before_it_is_walked(
    reader: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "laughs.yaml"
    file.write_text(laughs(), encoding="utf-8")
    assert len(file.read_bytes()) < 6000
    assert "expands to more than 100000 values through YAML aliases" in refused(
        capsys, reader, file
    )


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(DocumentProblem, match="uses more than 100 YAML aliases"):
        parse_document(text, "yaml")


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(DocumentProblem, match="refers to itself through a YAML alias"):
        parse_document("a: &a [1, *a]\n", "yaml")


def test_laughs_inside_a_send_to_journey_context_are_refused(tmp_path: Path) -> None:
    bomb = laughs()
    text = (
        "version: 1\nspace: {id: spa_x}\njourneys:\n"
        "  - name: A\n    steps:\n"
        "      - type: send_to_journey\n        name: go\n        journey: B\n"
        "        context:\n"
        + "".join("          " + line + "\n" for line in bomb.splitlines())
        + "  - name: B\n    steps: [{type: exit}]\n"
    )
    file = tmp_path / "journeys.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidJourney, match="expands to more than 100000 values"):
        load_journey_file(file)


def test_modest_aliases_are_still_read(tmp_path: Path) -> None:
    file = tmp_path / "settings.yaml"
    file.write_text("base: &b {a: 1}\ncopy: *b\n", encoding="utf-8")
    assert read_settings_file(file) == {"base": {"a": 1}, "copy": {"a": 1}}


# -- one wording ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"\xff\xfe", "is not UTF-8 text"),
        (b"{", "is not valid JSON"),
        (b'{"a": NaN}', "holds NaN, which JSON cannot carry"),
    ],
)
@pytest.mark.parametrize("error_class", [InvalidSettings, InvalidJourney])
def test_every_reader_words_a_problem_alike(
    content: bytes, rule: str, error_class: type[InputError], tmp_path: Path
) -> None:
    file = tmp_path / "doc.json"
    file.write_bytes(content)
    with pytest.raises(error_class) as caught:
        read_document(file, "thing", error_class)
    assert caught.value.message == f"thing: {file} {rule}" or caught.value.message.startswith(
        f"thing: {file} {rule}"
    )


def test_the_reader_returns_valid_documents(tmp_path: Path) -> None:
    file = tmp_path / "ok.json"
    file.write_text(json.dumps({"a": [1, 2.5, "é", None, True]}), encoding="utf-8")
    assert read_document(file, "x", InvalidSettings) == {"a": [1, 2.5, "é", None, True]}


def test_no_traceback_from_a_subprocess_on_dev_zero() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "sdk.cli", "journey", "preview", "/dev/zero", "--user", USER],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("sources: " + "9" * 5000, "holds a number longer than 100 characters"),
        ("sources: [.nan]", "is NaN or Infinity"),
        ("sources: " + "[" * 200 + "]" * 200, "nests too deeply"),
    ],
)
def test_the_service_configuration_reads_through_the_same_limits(text: str, rule: str) -> None:
    from sdk.service._config import ConfigError, parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config(text, {})
    assert rule in caught.value.message and "\n" not in caught.value.message
