"""``destkit new connector``: the scaffold round trip. In a temporary directory, the generated
package is installed (``pip install -e``, into a throwaway venv that sees this one's packages),
then ``destkit connectors`` lists it, ``destkit contract NAME`` passes and ``pytest DIR``
passes, with no edit; and bad names or directories are one line, exit 2."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from sdk.cli import main


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESTKIT_", "PYTEST_"))}
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("kind", ["event", "list"])
def test_the_scaffold_installs_lists_passes_its_contract_and_its_tests(
    kind: str, tmp_path: Path
) -> None:
    slug = f"scaffolded_{kind}"
    package = tmp_path / "package"
    assert main(["new", "connector", slug, "--kind", kind, "--dir", str(package)]) == 0
    # A throwaway venv that sees this venv's packages (destkit, pytest, respx, hatchling)
    # through a .pth file, so the install below touches nothing outside tmp_path.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    target = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    )
    # ``import`` lines of a .pth run: addsitedir also reads the parent's own .pth files (its
    # editable installs).
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    Path(target.stdout.strip(), "parent.pth").write_text("\n".join(lines) + "\n")
    installed = run(
        python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
        str(package), cwd=tmp_path,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr

    listed = run(python, "-m", "sdk.cli", "connectors", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith(slug) for line in listed.stdout.splitlines()), listed.stdout

    contract = run(python, "-m", "sdk.cli", "contract", slug, cwd=tmp_path)
    assert contract.returncode == 0, contract.stdout + contract.stderr

    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package), cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout

    docs = run(
        python, "-m", "sdk.cli", "docs", slug, "--check", "--output",
        str(package / "docs" / f"{slug}.md"), cwd=tmp_path,
    )  # fmt: skip
    assert docs.returncode == 0, docs.stderr  # the page it wrote is what destkit docs makes


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Acme", "destkit: error: NAME: must be snake_case"),
        ("1acme", "destkit: error: NAME: must be snake_case"),
        ("class", "destkit: error: NAME: must be snake_case"),
    ],
)
def test_a_bad_name_is_one_line_exit_2(
    name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "connector", name, "--dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(message), err
    assert not (tmp_path / "x").exists()


def test_a_non_empty_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new", "connector", "acme", "--dir", str(tmp_path)]) == 2
    assert "exists and is not an empty directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_the_scaffold_is_importable_without_the_test_extras() -> None:
    # The command's own modules import nothing test-only (pytest is imported by the tests the
    # scaffold writes, which run in the package's own test environment).
    code = "import sys, sdk.cli._new, sdk.cli._docs; print('pytest' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
