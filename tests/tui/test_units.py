"""The tester's plain functions: settings pre-fills, the payload, the JSON highlighter, layout."""

from __future__ import annotations

import json

import pytest

from connectors.sandbox import destination as sandbox
from sdk import InvalidEvent, Space
from sdk.engage._testevents import TestEventSpec, TestEventType
from tester_tui.app import layout_mode
from tester_tui.keys import KEYS, bindings, help_rows
from tester_tui.session import (
    initial_settings,
    new_event_ids,
    payload_text,
    split_settings_file,
)
from tester_tui.widgets.json_area import json_highlights
from tester_tui.widgets.payload_editor import validate_payload

IDS = {"messageId": "destkit-fixed", "timestamp": "2026-01-01T00:00:00.000Z"}


def test_settings_file_for_one_destination_or_keyed_by_slug() -> None:
    assert split_settings_file({"timeout": 5}, {"sandbox"}, "sandbox") == {
        "sandbox": {"timeout": 5}
    }
    keyed = {"sandbox": {"timeout": 5}, "webhook": {"url": "x"}}
    assert split_settings_file(keyed, {"sandbox", "webhook"}, "sandbox") == keyed
    assert split_settings_file({}, {"sandbox"}, "sandbox") == {}


def test_initial_settings_env_then_file_then_sandbox_url() -> None:
    environ = {"DESTKIT_SANDBOX_API_KEY": "from-env", "DESTKIT_SANDBOX_TIMEOUT": "3"}
    values = initial_settings(sandbox, environ, {"timeout": "4"}, "http://127.0.0.1:1234")
    assert values == {"api_key": "from-env", "timeout": "4", "endpoint": "http://127.0.0.1:1234"}
    # An endpoint given by the user wins over the running sandbox.
    values = initial_settings(sandbox, {}, {"endpoint": "http://elsewhere.test"}, "http://x")
    assert values["endpoint"] == "http://elsewhere.test"


def test_payload_routes_to_the_destination_or_not() -> None:
    spec = TestEventSpec(TestEventType.AUDIENCE_ENTERED, "u1", "Sandbox", journey="J", step="S")
    routed = json.loads(payload_text(spec, route=True, ids=IDS))
    assert routed["integrations"] == {"All": False, "Sandbox": True}
    assert routed["messageId"] == "destkit-fixed"
    key = Space("spa_destkit_test").step("J", "S").key
    assert routed["properties"][key] is True
    off = TestEventSpec(TestEventType.AUDIENCE_ENTERED, "u1", None, journey="J", step="S")
    assert json.loads(payload_text(off, route=False, ids=IDS))["integrations"] == {"All": False}


def test_payload_refuses_a_half_journey() -> None:
    spec = TestEventSpec(TestEventType.JOURNEY_ENTRY, "u1", "Sandbox", journey="J")
    with pytest.raises(InvalidEvent, match="step"):
        payload_text(spec, route=True, ids=IDS)


def test_event_ids_are_fresh() -> None:
    first, second = new_event_ids(), new_event_ids()
    assert first["messageId"] != second["messageId"]
    assert first["timestamp"].endswith("Z")


def test_validate_payload() -> None:
    assert validate_payload('{"type": "page", "userId": "u"}') == (
        {"type": "page", "userId": "u"},
        None,
    )
    event, error = validate_payload("{nope")
    assert event is None and error is not None and error.startswith("message: is not valid JSON")


def test_json_highlights_names_keys_and_values() -> None:
    line = '  "name": "café", "n": -1.5e3, "ok": true, "x": null'
    names = [(line.encode()[a:b].decode(), kind) for a, b, kind in json_highlights(line)]
    assert ('"name"', "json.label") in names
    assert ('"café"', "string") in names
    assert ("-1.5e3", "number") in names
    assert ("true", "boolean") in names
    assert ("null", "json.null") in names


def test_layout_modes() -> None:
    assert layout_mode(80) == "narrow"
    assert layout_mode(120) == "medium"
    assert layout_mode(160) == "wide"


def test_one_key_table_drives_bindings_and_help() -> None:
    assert [b.key for b in bindings()] == [k.keys for k in KEYS]
    assert all(b.priority for b in bindings())
    helped = {keys for keys, _ in help_rows()}
    assert {k.keys for k in KEYS} <= helped
    assert {"ctrl+s", "ctrl+r", "ctrl+t", "ctrl+e", "ctrl+y", "f1"} <= {k.keys for k in KEYS}
