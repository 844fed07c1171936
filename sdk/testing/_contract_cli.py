"""``destkit contract [CONNECTOR ...] [--junit FILE]``: the contract suite for CI systems that
just call a command. Prints a pass/fail table; exit 0 when every check passed (or was skipped),
1 when one failed, 2 for an unknown connector or one that declares no contract."""

from __future__ import annotations

import importlib
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import TextIO

from sdk._errors import UnknownDestination
from sdk._registry import all_destinations, get_destination
from sdk.testing._contract import CheckResult, Contract, run_contract

__all__ = ["find_contract", "run_contract_command", "write_junit"]


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
            name=f"contract.{connector}",
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
                classname=f"contract.{connector}",
                name=result.check,
                time=f"{result.seconds:.3f}",
            )
            if result.status == "failed":
                failure = ET.SubElement(case, "failure", message=result.message)
                failure.text = result.message
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=result.message)
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
        if result.message:
            line += f"  {result.message}"
        print(line, file=out)


def run_contract_command(
    slugs: Sequence[str], *, junit: str | None = None, out: TextIO = sys.stdout
) -> int:
    """Run the suite for ``slugs`` (all connectors when empty); returns the exit code."""
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
        write_junit(results, junit)
        print(f"JUnit XML written to {junit}", file=out)
    return 1 if failed else 0
