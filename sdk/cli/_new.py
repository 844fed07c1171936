"""``destkit new connector NAME --kind event|list [--dir DIR]``: a standalone, installable
connector package (pyproject with the ``destkit.connectors`` and ``destkit.contracts`` entry
points, the destination with a settings model and one action with declared fields, respx tests,
a contract and a generated docs page) that passes ``destkit contract`` and ``pytest`` as is."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import keyword
import re
import sys
from pathlib import Path

from sdk._errors import InvalidSettings
from sdk.cli._new_templates import EVENT_FILES, LIST_FILES

__all__ = ["run_new", "write_connector"]

_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LIST_SETTING = ', "list_id": "list-1"'
_LIST_CONTRACT = """
    personas_in_request=False,
    personas_note="a list API names the list by id; members carry only hashed identifiers","""


def _fill(text: str, slug: str, kind: str) -> str:
    name = " ".join(part.capitalize() for part in slug.split("_"))
    values = {
        "__LIST_SETTING__": _LIST_SETTING if kind == "list" else "",
        "__CONTRACT_EXTRA__": _LIST_CONTRACT if kind == "list" else "",
        "__PACKAGE__": f"destkit_{slug}",
        "__DIST__": f"destkit-{slug.replace('_', '-')}",
        "__CLASS__": name.replace(" ", ""),
        "__NAME__": name,
        "__KIND__": kind,
        "__SLUG__": slug,
    }
    for marker, value in values.items():
        text = text.replace(marker, value)
    return text


def write_connector(slug: str, kind: str, directory: Path) -> list[Path]:
    """Write the package for ``slug`` into ``directory`` (new or empty); the files written."""
    if not _SLUG.match(slug) or keyword.iskeyword(slug) or slug.endswith("_"):
        raise InvalidSettings(
            "NAME", "must be snake_case: a lower-case letter, then letters, digits or _ (<= 40)"
        )
    if importlib.util.find_spec(f"destkit_{slug}") is not None:
        raise InvalidSettings("NAME", f"a package destkit_{slug} is already installed")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidSettings("dir", f"{directory} exists and is not an empty directory")
    files = EVENT_FILES if kind == "event" else LIST_FILES
    written: list[Path] = []
    for template_path, template in files.items():
        path = directory / _fill(template_path, slug, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(template, slug, kind), encoding="utf-8")
        written.append(path)
    written.append(_docs_page(slug, directory))
    return written


def _docs_page(slug: str, directory: Path) -> Path:
    """The docs page, generated from the new definition exactly as ``destkit docs`` would."""
    from sdk.cli._docs import render_docs
    from sdk.connector._destination import Destination

    sys.path.insert(0, str(directory))
    try:
        module = importlib.import_module(f"destkit_{slug}")
        destination = module.destination
        if not isinstance(destination, Destination):
            raise InvalidSettings("NAME", "the generated package has no destination")
        page = render_docs(destination)
    finally:
        sys.path.remove(str(directory))
        package = f"destkit_{slug}"
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
    path = directory / "docs" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def run_new(args: argparse.Namespace) -> int:
    """The ``destkit new connector`` command."""
    directory = Path(args.dir or f"destkit-{args.slug.replace('_', '-')}")
    written = write_connector(args.slug, args.kind, directory)
    for path in written:
        print(path)
    print(
        f"\nnext: pip install -e {directory} && destkit contract {args.slug} && pytest {directory}",
        file=sys.stderr,
    )
    return 0
