"""``destkit contract [CONNECTOR ...] [--junit FILE]``: the contract suite for CI systems that
just call a command. Prints a pass/fail table; exit 0 when every check passed (or was skipped),
1 when one failed, 2 for an unknown connector, one that declares no contract, or a ``--junit``
path that cannot be written (checked before the suite runs)."""

from __future__ import annotations

import importlib
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import TextIO

from sdk._errors import UnknownDestination
from sdk.connector._registry import all_destinations, get_destination
from sdk.testing._contract_model import CheckResult, Contract
from sdk.testing._contract_runner import run_contract

__all__ = ["find_contract", "junit_path_problem", "run_contract_command", "write_junit"]

#: Characters XML 1.0 does not allow (C0 controls but tab, CR and LF; surrogates; U+FFFE/F).
_XML_INVALID = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 disallows (an ANSI escape, a NUL...)."""
    return _XML_INVALID.sub("", text)


def junit_path_problem(path: str) -> str | None:
    """Why a JUnit report cannot be written to ``path`` (one line), or None when it can."""
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        return f"{path} is a directory"
    if not os.path.isdir(folder):
        return f"cannot write {path}: the directory {folder} does not exist"
    if os.path.exists(target) and not os.access(target, os.W_OK):
        return f"cannot write {path}: permission denied"
    if not os.path.exists(target) and not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write {path}: the directory {folder} is not writable"
    return None


def find_contract(slug: str) -> Contract:
    """A connector's declared contract: ``connectors.<slug>.contract`` or a ``destkit.contracts``
    entry point. ``UnknownDestination`` when none is found."""
    destination = get_destination(slug)
    try:
        module = importlib.import_module(f"connectors.{destination.slug}.contract")
    except ModuleNotFoundError:
        module = None
    if module is not None and isinstance(getattr(module, "contract", None), Contract):
        contract: Contract = module.contract
        return contract
    for entry in entry_points(group="destkit.contracts"):
        if entry.name == destination.slug:
            loaded = entry.load()
            if isinstance(loaded, Contract):
                return loaded
    raise UnknownDestination(f"{destination.slug} (it declares no contract)")


def write_junit(results: Sequence[CheckResult], path: str) -> None:
    """Write results as JUnit XML: one testsuite per connector, one testcase per check."""
    root = ET.Element("testsuites", name="destkit contract")
    by_connector: dict[str, list[CheckResult]] = {}
    for result in results:
        by_connector.setdefault(result.connector, []).append(result)
    for connector, items in by_connector.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml_text(f"contract.{connector}"),
            tests=str(len(items)),
            failures=str(sum(r.status == "failed" for r in items)),
            skipped=str(sum(r.status == "skipped" for r in items)),
            errors="0",
            time=f"{sum(r.seconds for r in items):.3f}",
        )
        for result in items:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_xml_text(f"contract.{connector}"),
                name=_xml_text(result.check),
                time=f"{result.seconds:.3f}",
            )
            message = _xml_text(result.message)
            if result.status == "failed":
                failure = ET.SubElement(case, "failure", message=message)
                failure.text = message
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=message)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _table(results: Sequence[CheckResult], out: TextIO) -> None:
    marks = {"passed": "PASS", "failed": "FAIL", "skipped": "skip"}
    width = max((len(r.check) for r in results), default=10)
    current = None
    for result in results:
        if result.connector != current:
            current = result.connector
            print(f"\n{current}", file=out)
        line = f"  {marks[result.status]}  {result.check:<{width}}  {result.seconds * 1000:7.0f} ms"
        if result.message:  # a terminal must not run escapes a connector's error carried
            line += "  " + "".join(c if c.isprintable() else "?" for c in result.message)
        print(line, file=out)


def run_contract_command(
    slugs: Sequence[str], *, junit: str | None = None, out: TextIO | None = None
) -> int:
    """Run the suite for ``slugs`` (all connectors when empty); returns the exit code.

    The table goes to ``out`` (``sys.stdout`` as it is at the call, not at import).
    """
    out = sys.stdout if out is None else out
    if junit:
        problem = junit_path_problem(junit)
        if problem is not None:
            print(f"destkit: error: --junit: {problem}", file=sys.stderr)
            return 2
    try:
        contracts = (
            [find_contract(slug) for slug in slugs]
            if slugs
            else [find_contract(d.slug) for d in all_destinations()]
        )
    except UnknownDestination as exc:
        print(f"destkit: error: {exc.message}", file=sys.stderr)
        return 2
    results: list[CheckResult] = []
    for contract in contracts:
        results.extend(run_contract(contract))
    _table(results, out)
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    print(f"\n{passed} passed, {failed} failed, {skipped} skipped", file=out)
    if junit:
        try:
            write_junit(results, junit)
        except OSError as exc:  # the path went away while the suite ran
            reason = exc.strerror or str(exc)
            print(f"destkit: error: --junit: cannot write {junit}: {reason}", file=sys.stderr)
            return 2
        print(f"JUnit XML written to {junit}", file=out)
    return 1 if failed else 0
