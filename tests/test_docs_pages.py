"""Docs that cannot drift: every committed ``docs/connectors/*.md`` is exactly what
``destkit docs`` generates from the connector's definition, every built-in connector has one,
and ``destkit connectors NAME --schema`` prints the JSON Schema with the default mappings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk import all_destinations, get_destination
from sdk.cli import main
from sdk.cli._docs import render_docs

PAGES = Path(__file__).resolve().parent.parent / "docs" / "connectors"
BUILT_IN = sorted(
    p.name for p in (PAGES.parent.parent / "connectors").iterdir() if (p / "__init__.py").is_file()
)


@pytest.mark.parametrize("page", sorted(PAGES.glob("*.md")), ids=lambda p: p.stem)
def test_a_committed_page_is_what_destkit_docs_generates(page: Path) -> None:
    destination = get_destination(page.stem)
    assert page.read_text(encoding="utf-8") == render_docs(destination), (
        f"{page} is out of date: run `destkit docs {page.stem} --output {page}` "
        "(or `destkit docs --all`)"
    )


@pytest.mark.parametrize("slug", BUILT_IN)
def test_every_built_in_connector_has_a_page(slug: str) -> None:
    assert (PAGES / f"{slug}.md").is_file(), (
        f"run `destkit docs {slug} --output docs/connectors/{slug}.md`"
    )


def test_the_page_shows_settings_subscriptions_and_default_mappings() -> None:
    page = render_docs(get_destination("amplitude"))
    assert "| `api_key` | secret | yes |" in page
    assert "- default subscription: `type = track`" in page
    assert "| `event_type` | string | yes | `$.event` |" in page
    assert "| track | `track_event` |" in page
    assert "| page | `viewed_page` |" in page
    assert "| page | filtered at the destination |" in render_docs(get_destination("braze_canvas"))


def test_check_mode_names_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "webhook.md"
    stale.write_text("# hand-edited\n")
    assert main(["docs", "webhook", "--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["docs", "webhook", "--output", str(stale)]) == 0
    assert main(["docs", "webhook", "--check", "--output", str(stale)]) == 0


def test_schema_prints_settings_and_each_actions_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "braze", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "api_key" in schema["settings"]["properties"]
    fields = schema["actions"]["track_users"]["fields"]["properties"]
    assert fields["external_id"]["default_mapping"] == "$.userId"


def test_schema_of_every_connector_is_json() -> None:
    for destination in all_destinations():
        assert main(["connectors", destination.slug, "--schema"]) == 0


def test_schema_needs_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connectors", "--schema"]) == 2
    assert capsys.readouterr().err.startswith("destkit: error: schema: ")
