"""``destkit connectors``: every connector, its kind, actions and settings (text or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sdk._errors import InvalidSettings
from sdk._terminal import terminal_safe
from sdk.cli._parser import EXIT_FAILED, EXIT_OK
from sdk.connector._registry import all_destinations, broken_connectors
from sdk.connector._settings import env_var_name, setting_fields

__all__ = ["connector_rows", "run_connectors"]


def connector_rows() -> list[dict[str, Any]]:
    """One row per registered connector, as ``destkit connectors --json`` prints it."""
    rows: list[dict[str, Any]] = []
    for destination in all_destinations():
        rows.append(
            {
                "slug": destination.slug,
                "name": destination.name,
                "kind": destination.kind.value,
                "description": destination.description,
                "api_version": destination.api_version,
                "actions": [
                    {
                        "name": action.name,
                        "subscribe": action.subscribe.describe(),
                        "batch": None
                        if action.batch is None
                        else {
                            "max_events": action.batch.max_events,
                            "max_bytes": action.batch.max_bytes,
                        },
                    }
                    for action in destination.actions
                ],
                "settings": [
                    {
                        "name": f.name,
                        "type": f.type,
                        "required": f.required,
                        "secret": f.secret,
                        "env": env_var_name(destination.slug, f.name),
                        "description": f.description,
                    }
                    for f in setting_fields(destination.settings)
                ],
            }
        )
    return rows


def run_connectors(args: argparse.Namespace) -> int:
    """Run ``destkit connectors``: exit 1 when a connector failed to import."""
    if args.schema or args.name:
        from sdk.cli._docs import run_schema

        if not (args.schema and args.name):
            raise InvalidSettings("schema", "use destkit connectors NAME --schema")
        return run_schema(args.name)
    rows = connector_rows()
    broken = broken_connectors()
    for package, reason in sorted(broken.items()):
        line = f"destkit: error: connector {package!r} failed to import: {reason}"
        print(terminal_safe(line), file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK if not broken else EXIT_FAILED
    for row in rows:
        print(terminal_safe(f"{row['slug']:<28} {row['kind']:<8} {row['name']}"))
        if row["description"]:
            print(f"    {terminal_safe(row['description'])}")
        settings = ", ".join(
            f"{s['name']}{'*' if s['required'] else ''}{' (secret)' if s['secret'] else ''}"
            for s in row["settings"]
        )
        print(f"    settings: {terminal_safe(settings)}")
    print("\n* required; settings can also come from DESTKIT_<SLUG>_<SETTING> variables")
    return EXIT_OK if not broken else EXIT_FAILED
