"""Settings: one-line errors naming the field (never the secret), environment fallbacks,
settings files, and the field list that drives forms and docs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, SecretStr

from sdk import (
    DestinationSettings,
    InvalidSettings,
    env_var_name,
    load_settings,
    read_settings_file,
    secret_values,
    setting_fields,
)

SECRET = "sk_test_SETTINGS_very_secret_42"


class AcmeSettings(DestinationSettings):
    api_key: SecretStr = Field(description="Acme REST API key")
    region: Literal["us", "eu"] = "us"
    batch_size: int = Field(default=75, ge=1, le=1000)
    webhook_secret: SecretStr | None = None


def error_of(values: dict[str, object], **kwargs: object) -> InvalidSettings:
    with pytest.raises(InvalidSettings) as caught:
        load_settings(AcmeSettings, values, **kwargs)  # type: ignore[arg-type]
    error = caught.value
    assert "\n" not in error.message
    assert SECRET not in error.message
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    return error


def test_a_missing_required_setting_is_named() -> None:
    error = error_of({"region": "eu"})

    assert error.field == "api_key"
    assert error.message == "api_key: is required"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"api_key": SECRET, "batch_size": "many"}, "batch_size"),
        ({"api_key": SECRET, "batch_size": 0}, "batch_size"),
        ({"api_key": SECRET, "region": "mars"}, "region"),
        ({"api_key": SECRET, "timeout": "soon"}, "timeout"),
        ({"api_key": SECRET, "timeout": 0}, "timeout"),
        ({"api_key": 12345, "region": "eu"}, "api_key"),
        ({"api_key": [SECRET]}, "api_key"),
        ({"api_key": SECRET, "webhook_secret": {"v": SECRET}}, "webhook_secret"),
    ],
)
def test_a_wrong_type_is_named_without_the_value(values: dict[str, object], field: str) -> None:
    error = error_of(values)

    assert error.field == field
    assert error.message.startswith(f"{field}: ")


def test_several_problems_report_the_first_and_a_count() -> None:
    error = error_of({"batch_size": "many", "region": "mars"})

    assert error.message.endswith("(and 2 more problems)")


def test_an_unknown_setting_is_named_with_the_known_ones() -> None:
    error = error_of({"api_key": SECRET, "api_kye": SECRET})

    assert error.field == "api_kye"
    assert "is not a setting of this destination" in error.message
    assert "api_key" in error.message
    assert "region" in error.message


@pytest.mark.parametrize(
    "endpoint", ["mock.test", "ftp://mock.test", "https://", "http:// x", "http://[::1"]
)
def test_a_bad_endpoint_url_is_named(endpoint: str) -> None:
    error = error_of({"api_key": SECRET, "endpoint": endpoint})

    assert error.field == "endpoint"
    assert error.message == "endpoint: must be an http(s) URL such as https://api.example.com"


@pytest.mark.parametrize(
    "endpoint", ["https://mock.test", "http://127.0.0.1:8787", "https://a.b/v2"]
)
def test_good_endpoints_are_accepted(endpoint: str) -> None:
    settings = load_settings(AcmeSettings, {"api_key": SECRET, "endpoint": endpoint})

    assert settings.endpoint == endpoint


def test_valid_settings_keep_the_secret_secret() -> None:
    settings = load_settings(AcmeSettings, {"api_key": SECRET, "batch_size": "10"})

    assert settings.api_key.get_secret_value() == SECRET
    assert settings.batch_size == 10
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())
    assert secret_values(settings) == [SECRET]


def test_secret_values_lists_every_secret_once() -> None:
    settings = load_settings(
        AcmeSettings, {"api_key": SECRET, "webhook_secret": "whsec_abcdef0123"}
    )

    assert secret_values(settings) == [SECRET, "whsec_abcdef0123"]


# -- environment fallbacks -------------------------------------------------------------------


def test_env_var_names() -> None:
    assert env_var_name("acme", "api_key") == "DESTKIT_ACME_API_KEY"
    assert env_var_name("google-ads", "endpoint") == "DESTKIT_GOOGLE_ADS_ENDPOINT"


def test_settings_fall_back_to_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESTKIT_ACME_API_KEY", SECRET)
    monkeypatch.setenv("DESTKIT_ACME_REGION", "eu")
    monkeypatch.setenv("DESTKIT_ACME_BATCH_SIZE", "20")

    settings = load_settings(AcmeSettings, {}, slug="acme")

    assert settings.api_key.get_secret_value() == SECRET
    assert settings.region == "eu"
    assert settings.batch_size == 20


def test_explicit_values_take_precedence_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTKIT_ACME_API_KEY", "from-the-environment")
    monkeypatch.setenv("DESTKIT_ACME_REGION", "eu")

    settings = load_settings(AcmeSettings, {"api_key": SECRET, "region": None}, slug="acme")

    assert settings.api_key.get_secret_value() == SECRET
    assert settings.region == "eu"  # an explicit None does not hide the environment


def test_the_environment_is_ignored_without_a_slug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESTKIT_ACME_API_KEY", SECRET)

    assert error_of({}).field == "api_key"


def test_an_injected_environment_replaces_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESTKIT_ACME_API_KEY", "from-os-environ")

    settings = load_settings(
        AcmeSettings, {}, slug="acme", environ={"DESTKIT_ACME_API_KEY": SECRET}
    )

    assert settings.api_key.get_secret_value() == SECRET


def test_a_bad_environment_value_is_named_without_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTKIT_ACME_API_KEY", SECRET)
    monkeypatch.setenv("DESTKIT_ACME_BATCH_SIZE", SECRET)

    error = error_of({}, slug="acme")

    assert error.field == "batch_size"


# -- settings files --------------------------------------------------------------------------


def test_a_json_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_text(f'{{"api_key": "{SECRET}", "region": "eu"}}')

    assert read_settings_file(path) == {"api_key": SECRET, "region": "eu"}


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_a_yaml_settings_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"acme{suffix}"
    path.write_text(f"api_key: {SECRET}\nregion: eu\nbatch_size: 10\n")

    values = read_settings_file(path)

    assert values == {"api_key": SECRET, "region": "eu", "batch_size": 10}
    assert load_settings(AcmeSettings, values).batch_size == 10


def test_an_empty_settings_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")

    assert read_settings_file(path) == {}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("broken.json", f'{{"api_key": "{SECRET}",'),
        ("broken.yaml", f"api_key: {SECRET}\n  region: [eu\n"),
        ("list.yaml", f"- {SECRET}\n- b\n"),
        ("scalar.json", '"just a string"'),
    ],
)
def test_a_broken_settings_file_is_one_line_naming_the_file(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(InvalidSettings) as caught:
        read_settings_file(path)

    message = caught.value.message
    assert message.startswith("settings-file: ")
    assert name in message
    assert "\n" not in message
    assert SECRET not in message


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("latin1.yaml", f"api_key: {SECRET}\nregion: Zürich\n".encode("latin-1"), "UTF-8"),
        ("utf16.json", f'{{"api_key": "{SECRET}"}}'.encode("utf-16"), "UTF-8"),
        ("keys.yaml", f"1: {SECRET}\nregion: eu\n".encode(), "setting name must be text"),
        ("null-key.yaml", b"~: x\nregion: eu\n", "setting name must be text"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
        ("deep.yaml", b"a: " + b"[" * 5_000 + b"]" * 5_000, "nests too deeply"),
    ],
    ids=["latin1", "utf16", "number-key", "null-key", "deep-json", "deep-yaml"],
)
def test_an_unreadable_settings_file_is_one_line_naming_the_file(
    tmp_path: Path, name: str, content: bytes, rule: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(InvalidSettings) as caught:
        read_settings_file(path)

    message = caught.value.message
    assert message.startswith("settings-file: ")
    assert name in message and rule in message
    assert SECRET not in message


def test_a_settings_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidSettings, match=r"^settings-file: cannot read "):
        read_settings_file(tmp_path)


def test_a_missing_settings_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidSettings, match=r"^settings-file: cannot read .*nope\.json"):
        read_settings_file(tmp_path / "nope.json")


# -- the field list --------------------------------------------------------------------------


def test_setting_fields_marks_secrets_and_lists_own_fields_first() -> None:
    fields = {f.name: f for f in setting_fields(AcmeSettings)}

    assert [f.name for f in setting_fields(AcmeSettings)] == [
        "api_key",
        "region",
        "batch_size",
        "webhook_secret",
        "endpoint",
        "timeout",
    ]
    assert fields["api_key"].secret and fields["api_key"].type == "secret"
    assert fields["api_key"].required
    assert fields["api_key"].description == "Acme REST API key"
    assert fields["webhook_secret"].secret and not fields["webhook_secret"].required
    assert not fields["region"].secret
    assert fields["region"].type == "choice"
    assert fields["region"].choices == ("us", "eu")
    assert fields["region"].default == "us"
    assert fields["batch_size"].default == 75
    assert not fields["endpoint"].required and not fields["endpoint"].secret
    assert fields["timeout"].default == 10.0
