"""Mutation testing of the modules whose tests must catch any regression, one module at a time.

For each module, mutmut changes its code one small edit at a time (``<`` to ``<=``, ``and`` to
``or``, a constant, a ``continue`` to ``break``...) and runs **only that module's own tests**
against each mutant. A mutant the tests do not notice "survives": either a test is missing or the
edit cannot change behaviour (the report lists survivors for that judgement).

It is far too slow for CI (minutes per module). Run it before resolving a change to one of these
modules, and keep the scores at or above the targets::

    pip install -e '.[test,mutation]'
    python benchmarks/mutation.py                     # every module, one after the other
    python benchmarks/mutation.py redaction signing   # only these
    python benchmarks/mutation.py --max-children 2 --timeout 900 retry

Each module runs in a fresh temporary copy of the working tree (mutmut rewrites the code it
mutates under ``mutants/``), so the checkout is never touched. Prints, per module, the mutants
killed of the total, the score and every survivor's name; ``--show`` prints each survivor's diff.
Exit status 1 when a module is under its target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]
    #: The lowest acceptable score, killed / (killed + survived).
    target: float


TARGETS: dict[str, Target] = {
    "redaction": Target("sdk/transport/_redaction.py", ("tests/sdk/test_redaction.py",), 0.95),
    "signing": Target("sdk/connector/_signing.py", ("tests/sdk/test_signing.py",), 0.95),
    "retry": Target(
        "sdk/transport/_retry.py",
        ("tests/sdk/test_delivery_retries.py", "tests/sdk/test_delivery_redirects.py"),
        0.95,
    ),
    "ratelimit": Target("sdk/transport/_ratelimit.py", ("tests/sdk/test_rate_limit.py",), 0.95),
    "keys": Target("sdk/engage/_keys.py", ("tests/sdk/test_keys.py",), 0.90),
    "routing": Target("sdk/routing/_integrations.py", ("tests/sdk/test_routing.py",), 0.95),
}


def _copy_tree(destination: Path) -> None:
    """The tracked and new (not ignored) files of the working tree, as they are now."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        relative = Path(raw.decode())
        source = ROOT / relative
        if not source.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _configure(workdir: Path, target: Target) -> None:
    pyproject = workdir / "pyproject.toml"
    tests = ", ".join(json.dumps(test) for test in target.tests)
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["sdk"]\n'
        f"only_mutate = [{json.dumps(target.module)}]\n"
        f"pytest_add_cli_args_test_selection = [{tests}]\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-x", "-q"]\n'
        "use_git_change_detection = false\n"
    )
    pyproject.write_text(pyproject.read_text() + section)


_STATUS = re.compile(r"^\s*(\S+): (\w[\w ]*)$")


def run_one(name: str, target: Target, *, max_children: int, timeout: float, show: bool) -> bool:
    """Mutate one module against its own tests; print the score; True when on target."""
    mutmut = Path(sys.executable).with_name("mutmut")
    if not mutmut.exists():
        print("mutmut is not installed: pip install -e '.[mutation]'", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory(prefix=f"destkit-mutation-{name}-") as tmp:
        workdir = Path(tmp)
        _copy_tree(workdir)
        _configure(workdir, target)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.monotonic()
        try:
            subprocess.run(
                [str(mutmut), "run", "--max-children", str(max_children)],
                cwd=workdir,
                env=env,
                timeout=timeout,
                capture_output=True,
                check=False,
            )
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        elapsed = time.monotonic() - started
        listing = subprocess.run(
            [str(mutmut), "results", "--all", "true"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        statuses: dict[str, str] = {}
        for line in listing.splitlines():
            match = _STATUS.match(line)
            if match:
                statuses[match.group(1)] = match.group(2)
        killed = sum(
            1 for s in statuses.values() if s in ("killed", "timeout", "caught by type check")
        )
        survived = sorted(m for m, s in statuses.items() if s == "survived")
        other = sorted(
            f"{m} ({s})"
            for m, s in statuses.items()
            if s not in ("killed", "timeout", "caught by type check", "survived")
        )
        decided = killed + len(survived)
        score = killed / decided if decided else 0.0
        flag = "ok" if score >= target.target and not timed_out else "UNDER TARGET"
        note = " (timed out: partial)" if timed_out else ""
        print(
            f"{name}: {killed} killed of {decided} ({score:.1%}, target {target.target:.0%})"
            f" in {elapsed:.0f} s{note} -- {flag}"
        )
        for mutant in survived:
            print(f"  survived: {mutant}")
            if show:
                diff = subprocess.run(
                    [str(mutmut), "show", mutant],
                    cwd=workdir,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                print("    " + "\n    ".join(diff.splitlines()))
        for mutant in other:
            print(f"  not run: {mutant}")
        return flag == "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "modules",
        nargs="*",
        choices=[*TARGETS, []],
        metavar="MODULE",
        help=f"modules to mutate (default all: {', '.join(TARGETS)})",
    )
    parser.add_argument(
        "--max-children",
        type=int,
        default=1,
        help="mutants run in parallel (default 1: the CPU is shared)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1200.0, help="seconds allowed per module (default 1200)"
    )
    parser.add_argument("--show", action="store_true", help="print each survivor's diff")
    args = parser.parse_args(argv)
    ok = True
    for name in args.modules or list(TARGETS):
        ok &= run_one(
            name,
            TARGETS[name],
            max_children=args.max_children,
            timeout=args.timeout,
            show=args.show,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
