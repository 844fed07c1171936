"""The service's config file: ${VAR}, secrets typed secret, one-line errors naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sdk.service import ConfigError, load_config, parse_config, parse_duration

GOOD = """
sources:
  - name: web
    write_key: ${WEB_KEY}
destinations:
  - name: Braze
    connector: braze
    settings: {api_key: ${BRAZE_KEY}, rest_endpoint: https://rest.iad-01.braze.com}
  - name: Audit Hook
    connector: webhook
    settings: {url: https://example.com/hook}
delivery:
  retry_window: 2h
  durability: full
"""
ENV = {"WEB_KEY": "wk-123456", "BRAZE_KEY": "braze-secret-abcdef"}


def test_variables_are_read_and_secrets_are_typed_secret():
    config = parse_config(GOOD, ENV)
    assert config.source_for("wk-123456") is config.sources[0]
    assert "wk-123456" not in repr(config.sources[0])
    braze = config.destinations[0]
    assert braze.name == "Braze" and braze.connector.slug == "braze"
    assert "braze-secret-abcdef" not in repr(braze.settings)
    assert config.delivery.retry_window == 7200 and config.delivery.durability == "full"
    assert config.destinations[1].name == "Audit Hook"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (
            GOOD,
            {"WEB_KEY": "k"},
            "config: destinations[0].settings.api_key: ${BRAZE_KEY} is not set",
        ),
        (
            GOOD.replace("durability: full", "durability: often"),
            ENV,
            "config: delivery.durability: must be normal or full",
        ),
        (
            GOOD.replace("retry_window: 2h", "retry_window: soon"),
            ENV,
            "config: delivery.retry_window: must be a duration",
        ),
        (
            GOOD.replace("connector: braze", "connector: nope"),
            ENV,
            "config: destinations[0].connector:",
        ),
        (GOOD.replace("sources:", "source:"), ENV, "config: source: is not a known key"),
        ("a: &x [1]\nb: *x\n", {}, "config: YAML aliases (*name) are not allowed"),
        ("[1, 2]", {}, "config: must be a mapping"),
        (
            GOOD.replace("rest_endpoint: https://rest.iad-01.braze.com", "rest_endpoint: 12"),
            ENV,
            "config: destinations[0].settings.",
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_key(text: str, env: dict[str, str], message: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)
    for secret in ENV.values():
        assert secret not in str(caught.value)


def test_duplicate_write_key_is_not_echoed():
    text = GOOD.replace("sources:\n", "sources:\n  - name: app\n    write_key: ${WEB_KEY}\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, ENV)
    assert "sources[1].write_key: is used twice" in str(caught.value)
    assert "wk-123456" not in str(caught.value)


def test_file_size_limit_and_durations(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_text("#" * (300 * 1024))
    with pytest.raises(ConfigError, match="is over 256 KB"):
        load_config(big)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(tmp_path)
    assert parse_duration("90", "k") == 90 and parse_duration("5m", "k") == 300
    assert parse_duration("1d", "k") == 86400


def test_serve_with_bad_config_exits_2_with_one_line(tmp_path: Path):
    config = tmp_path / "bad.yaml"
    config.write_text(GOOD)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sdk.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            "0",
            "--data",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "destkit serve: error: config: sources[0].write_key: ${WEB_KEY} is not set in the "
        "environment"
    )


def test_the_readme_config_and_the_example_file_load():
    import re

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    section = readme[readme.index("## Run connectors for real") :]
    yaml_block = re.search(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    assert yaml_block is not None
    env = {"WEB_WRITE_KEY": "wk-1", "BRAZE_API_KEY": "bk-1"}
    config = parse_config(yaml_block.group(1), env)
    assert [d.name for d in config.destinations] == ["Braze", "Audit Hook"]
    assert config.delivery.retry_window == 4 * 3600
    example = load_config(root / "examples" / "serve.yaml", {})
    assert example.destinations[0].needs_sandbox  # runs the built-in sandbox


WITH_ACTIONS = """
sources:
  - name: web
    write_key: wk-123456
destinations:
  - name: Audit Hook
    connector: webhook
    settings: {url: https://example.com/hook}
    actions:
      post_event:
        mapping: {body: {object: {who: "$.userId", what: "$.event"}}}
        subscribe: 'type = "track" and event = "Order Completed"'
"""


def test_a_destinations_actions_override_mappings_and_subscriptions():
    from sdk import Track, preview_payload

    config = parse_config(WITH_ACTIONS, {})
    hook = config.destinations[0]
    order = Track(user_id="u1", event="Order Completed")
    preview = preview_payload(hook.connector, order, settings=hook.settings)
    assert preview.error is None
    assert preview.payload == {"who": "u1", "what": "Order Completed"}
    other = preview_payload(hook.connector, Track(user_id="u1", event="Viewed"))
    assert other.payload is None and other.error is not None
    assert "Order Completed" in other.error


def test_a_broken_action_mapping_is_one_line_naming_where():
    broken = WITH_ACTIONS.replace('"$.event"', '{"frobnicate": 1}')
    with pytest.raises(ConfigError) as raised:
        parse_config(broken, {})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("config: destinations[0].actions.post_event.mapping.body")
