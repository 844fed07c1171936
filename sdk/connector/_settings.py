"""Destination settings: one pydantic model per connector, the single source of truth.

The same model validates settings, builds the TUI's form, lists settings in ``destkit connectors``
and the docs, and tells the redactor which values are secret (every ``SecretStr`` field).

Values come from, in increasing precedence: environment variables named
``DESTKIT_<SLUG>_<FIELD>`` (upper case, e.g. ``DESTKIT_BRAZE_API_KEY``), a settings file (JSON
or YAML), and explicit ``KEY=VALUE`` pairs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from sdk._documents import DocumentProblem, parse_document, read_document
from sdk._errors import InvalidSettings

__all__ = [
    "DestinationSettings",
    "SettingField",
    "env_var_name",
    "load_settings",
    "read_settings_file",
    "secret_values",
    "setting_fields",
]

SettingsT = TypeVar("SettingsT", bound="DestinationSettings")


class DestinationSettings(BaseModel):
    """Base of every connector's settings model.

    ``endpoint`` overrides the destination's base URL (a regional endpoint, a proxy, respx or the
    sandbox in tests); ``timeout`` is the total seconds allowed for one HTTP request.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    endpoint: str | None = Field(
        default=None,
        description="Base URL override (regional endpoint, proxy, or a test server).",
        pattern=r"^https?://[^\s/]+",
    )
    timeout: float = Field(
        default=10.0, gt=0, le=300, description="Total seconds allowed for one HTTP request."
    )

    @model_validator(mode="after")
    def _values_fit_their_use(self) -> DestinationSettings:
        # Checked for every connector at load, before any request: a secret that would break
        # (or smuggle) a header, a URL the HTTP client would refuse at the first request.
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr) and _free_text(info.json_schema_extra):
                # A secret that only ever travels in a body (a passphrase) may hold any text.
                problem = None if value.get_secret_value() else "must not be empty"
            else:
                problem = _value_problem(name, value)
            if problem is not None:
                raise SettingProblem(name, problem)
        return self


class SettingProblem(ValueError):
    """A setting's value breaks a rule every connector shares; ``field`` names it."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


def _free_text(extra: object) -> bool:
    """``Field(json_schema_extra={"free_text": True})`` marks a secret that is never sent in a
    header, URL or token, so the visible-ASCII rule does not apply to it."""
    return isinstance(extra, dict) and extra.get("free_text") is True


#: What a secret may hold: visible ASCII, as an HTTP header value, a URL token or a key is.
_SECRET_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F))
_SECRET_RULE = (
    "must be visible ASCII characters only (no space, NUL, CR, LF, control or non-ASCII "
    "character): it is sent in a header or a token"
)
#: Characters a header value must never hold: they end the header or the request line.
_HEADER_BREAKERS = frozenset(chr(code) for code in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F))


def _value_problem(name: str, value: Any) -> str | None:
    """The rule ``value`` breaks, or ``None``; never quotes the value (it may be secret)."""
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if not secret:
            return "must not be empty"
        if not _SECRET_CHARACTERS.issuperset(secret):
            return _SECRET_RULE
    elif isinstance(value, str):
        if name == "endpoint" or value[:8].lower().startswith(("http://", "https://")):
            return url_problem(value)
    elif isinstance(value, Mapping) and name == "headers":
        for header, text in value.items():
            if not isinstance(header, str) or not header or not _TOKEN.issuperset(header):
                return "every header name must be a token (letters, digits, - and _)"
            if not isinstance(text, str) or _HEADER_BREAKERS.intersection(text):
                return f"the value of {header} must not hold NUL, CR, LF or control characters"
    return None


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an http(s) URL the client can call (scheme, host, port), or
    ``None``."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        return _ENDPOINT_RULE
    if url.scheme not in ("http", "https") or not url.host or "%" in url.host:
        return _ENDPOINT_RULE
    if url.port is not None and not 1 <= url.port <= 65535:
        return f"has port {url.port}: a port must be from 1 to 65535"
    return None


_ENDPOINT_RULE = "must be an http(s) URL such as https://api.example.com"


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting, as the TUI form and the docs show it."""

    name: str
    type: str
    required: bool
    secret: bool
    default: Any
    description: str
    choices: tuple[str, ...] = ()


def _type_name(annotation: Any) -> tuple[str, tuple[str, ...]]:
    text = getattr(annotation, "__name__", None) or str(annotation)
    args = getattr(annotation, "__args__", ())
    literal_values = tuple(str(a) for a in args if isinstance(a, (str, int)))
    if "Literal" in str(annotation) and literal_values:
        return "choice", literal_values
    text = str(annotation).replace("typing.", "").replace("pydantic.types.", "")
    if text.startswith("<class '"):
        text = text[8:-2]
    return text, ()


def setting_fields(model: type[DestinationSettings]) -> list[SettingField]:
    """The fields of a settings model, in declaration order, connector fields first."""
    own: list[SettingField] = []
    base: list[SettingField] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        secret = _is_secret(annotation)
        type_name, choices = _type_name(annotation)
        item = SettingField(
            name=name,
            type="secret" if secret else type_name,
            required=info.is_required(),
            secret=secret,
            default=None if info.is_required() else info.get_default(call_default_factory=True),
            description=info.description or "",
            choices=choices,
        )
        (base if name in DestinationSettings.model_fields else own).append(item)
    return own + base


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(arg is SecretStr for arg in getattr(annotation, "__args__", ()))


def env_var_name(slug: str, field_name: str) -> str:
    """``DESTKIT_<SLUG>_<FIELD>``: the environment variable a setting can come from."""
    return f"DESTKIT_{slug}_{field_name}".upper().replace("-", "_")


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML settings file into a mapping; errors name the file.

    Read with :func:`sdk._documents.read_document`: its limits (size, regular file, UTF-8,
    nesting, numbers, YAML aliases) and its wording of errors."""
    file = Path(path)
    data = read_document(file, "settings-file", InvalidSettings)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidSettings("settings-file", f"{file} must hold a mapping of setting names")
    if not all(isinstance(name, str) for name in data):  # YAML keys may be numbers, null...
        raise InvalidSettings("settings-file", f"{file}: every setting name must be text")
    return data


def load_settings(
    model: type[SettingsT],
    values: Mapping[str, Any] | None = None,
    *,
    slug: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> SettingsT:
    """Validate settings for ``model``; with ``slug``, missing values are read from the env.

    A problem is one ``InvalidSettings`` line naming the field; secrets never appear in it.
    """
    merged: dict[str, Any] = {}
    if slug is not None:
        env = os.environ if environ is None else environ
        for name in model.model_fields:
            var = env_var_name(slug, name)
            if var in env:
                merged[name] = env[var]
    merged.update({k: v for k, v in (values or {}).items() if v is not None})
    for name, value in merged.items():
        if isinstance(value, str) and name in model.model_fields:
            merged[name] = _map_from_text(name, value, model.model_fields[name].annotation)
    unknown = sorted(set(merged) - set(model.model_fields))
    if unknown:
        known = ", ".join(model.model_fields)
        raise InvalidSettings(unknown[0], f"is not a setting of this destination (known: {known})")
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first = errors[0]
        field_name = ".".join(str(p) for p in first["loc"]) or "settings"
        problem = (first.get("ctx") or {}).get("error")
        if isinstance(problem, SettingProblem):
            raise InvalidSettings(problem.field, problem.rule) from None
        if first["type"] == "missing":
            rule = "is required"
        elif first["type"] == "string_pattern_mismatch" and field_name == "endpoint":
            rule = _ENDPOINT_RULE
        else:
            rule = str(first["msg"]).removeprefix("Value error, ")
        if len(errors) > 1:
            rule += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise InvalidSettings(field_name, rule) from None


def _is_map(annotation: Any) -> bool:
    if get_origin(annotation) is dict or annotation is dict:
        return True
    return any(_is_map(arg) for arg in get_args(annotation) if arg is not type(None))


def _map_from_text(name: str, value: str, annotation: Any) -> Any:
    """A map setting (``headers``, ``audience_map``...) given as text, from ``--setting`` or a
    ``DESTKIT_*`` variable: a JSON object, read by the one document reader."""
    if not _is_map(annotation):
        return value
    try:
        data = parse_document(value, "json")
    except DocumentProblem as problem:
        raise InvalidSettings(
            name, "must be a JSON object: " + problem.sentence("the text")
        ) from None
    if not isinstance(data, dict):
        raise InvalidSettings(name, 'must be a JSON object such as {"name": "value"}')
    return data


def _walk_secrets(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if secret:
            yield secret
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk_secrets(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk_secrets(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk_secrets(item)


def secret_values(settings: BaseModel) -> list[str]:
    """Every secret value in the settings (``SecretStr`` fields, nested ones too)."""
    return list(dict.fromkeys(_walk_secrets(settings)))
