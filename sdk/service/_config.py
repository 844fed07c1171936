"""The service's configuration file: sources (write keys), destinations (connector + settings)
and delivery options.

Read with a size limit, YAML aliases refused (no expansion bombs), ``${VAR}`` replaced from the
environment, and every secret typed secret from here on: write keys are ``SecretStr`` and
destination settings are validated into the connector's settings model (its secret fields are
``SecretStr``), so no log, status line or error shows one. A problem is one
:class:`ConfigError` naming the key and the rule.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from sdk._documents import DocumentProblem, parse_document
from sdk._errors import DestkitError, InputError
from sdk.connector._destination import Destination
from sdk.connector._registry import get_destination
from sdk.connector._settings import DestinationSettings, load_settings
from sdk.mapping import configure_destination

__all__ = [
    "MAX_CONFIG_BYTES",
    "ConfigError",
    "DeliveryOptions",
    "DestinationConfig",
    "ServiceConfig",
    "SourceConfig",
    "load_config",
    "parse_config",
    "parse_duration",
    "point_at_sandbox",
    "shape_of",
]

#: A configuration file larger than this is refused unread.
MAX_CONFIG_BYTES = 256 * 1024
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class ConfigError(InputError):
    """A bad configuration: ``config: <key>: <rule>`` on one line."""

    def __init__(self, key: str, rule: str) -> None:
        super().__init__(f"config: {key}" if key else "config", rule)


@dataclass(frozen=True)
class SourceConfig:
    """A source: its name and write key (HTTP Basic username, or ``writeKey`` in the body)."""

    name: str
    write_key: SecretStr


@dataclass(frozen=True)
class DestinationConfig:
    """A destination: the name the integrations object uses, its connector and settings."""

    name: str
    connector: Destination[Any]
    settings: DestinationSettings
    #: The sandbox without an ``endpoint``: ``destkit serve`` runs the loopback sandbox for it.
    needs_sandbox: bool = False


@dataclass(frozen=True)
class DeliveryOptions:
    """How hard and how durably the service delivers."""

    retry_window: float = 4 * 3600.0
    durability: str = "normal"
    #: Pending deliveries past which ingest answers 429 with ``Retry-After``.
    max_backlog: int = 1_000_000
    #: Seconds SIGTERM waits for in-flight attempts before leaving them queued.
    shutdown_grace: float = 10.0
    #: Jobs a worker lane claims and delivers at once.
    batch_size: int = 100


@dataclass(frozen=True)
class ServiceConfig:
    """The whole file, validated."""

    sources: list[SourceConfig]
    destinations: list[DestinationConfig]
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    #: The text it was read from (``${VAR}`` unexpanded): what a worker process reads again.
    text: str = field(default="", repr=False, compare=False)

    def source_for(self, write_key: str) -> SourceConfig | None:
        """The source with this write key, if any."""
        for source in self.sources:
            if source.write_key.get_secret_value() == write_key:
                return source
        return None


def point_at_sandbox(
    destinations: list[DestinationConfig], url: str | None
) -> list[DestinationConfig]:
    """The destinations, those that need the sandbox pointed at the one running at ``url``."""
    if url is None:
        return destinations
    return [
        DestinationConfig(d.name, d.connector, d.settings.model_copy(update={"endpoint": url}))
        if d.needs_sandbox
        else d
        for d in destinations
    ]


def shape_of(config: ServiceConfig) -> list[list[Any]]:
    """Each destination's name, connector and actions: what a worker process checks it read
    again from the configuration's text (a config changed in Python after it was parsed is not
    what its text says)."""
    return [
        [d.name, d.connector.slug, [action.name for action in d.connector.actions]]
        for d in config.destinations
    ]


def parse_duration(value: Any, key: str) -> float:
    """Seconds from ``90``, ``30s``, ``5m``, ``4h``, ``1d``."""
    text = str(value) if isinstance(value, (int, float, str)) else ""
    match = _DURATION.match(text) if not isinstance(value, bool) else None
    if not match:
        raise ConfigError(key, "must be a duration such as 30s, 5m or 4h")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(key, "must be more than zero")
    return seconds


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> ServiceConfig:
    """Read and validate a configuration file (at most :data:`MAX_CONFIG_BYTES`)."""
    file = Path(path)
    try:
        if not file.is_file():
            raise ConfigError("", f"{file} is not a regular file")
        with file.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError("", f"cannot read {file}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError("", f"{file} is over {MAX_CONFIG_BYTES // 1024} KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("", f"{file} is not UTF-8 text") from None
    return parse_config(text, environ)


def parse_config(text: str, environ: Mapping[str, str] | None = None) -> ServiceConfig:
    """Validate configuration text (YAML or JSON)."""
    env = os.environ if environ is None else environ
    original = text
    # ${VAR} becomes a plain placeholder before YAML sees the text (so it may stand where YAML
    # would read "${" as syntax, as in a flow mapping), and the value replaces it after parsing:
    # an environment value is never parsed as YAML, and never quoted in a YAML error.
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"__destkit_var_{len(names) - 1}__"

    text = _VAR.sub(placeholder, text)
    env = _Placeholders(names, env)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise ConfigError("", "YAML aliases (*name) are not allowed")
        data = parse_document(text, "yaml")  # the one reader's limits: depth, numbers, NaN
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError("", f"is not valid YAML: {first}") from None
    except DocumentProblem as problem:
        raise ConfigError(problem.where, problem.rule) from None
    except RecursionError:
        raise ConfigError("", "nests too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError("", "must be a mapping with sources and destinations")
    unknown = sorted(str(k) for k in data if k not in ("sources", "destinations", "delivery"))
    if unknown:
        raise ConfigError(unknown[0], "is not a known key (sources, destinations, delivery)")
    sources = [_source(item, i, env) for i, item in enumerate(_list(data, "sources"))]
    if not sources:
        raise ConfigError("sources", "must list at least one source with a write_key")
    destinations = [_destination(d, i, env) for i, d in enumerate(_list(data, "destinations"))]
    if not destinations:
        raise ConfigError("destinations", "must list at least one destination")
    _unique([s.name for s in sources], "sources")
    _unique([s.write_key.get_secret_value() for s in sources], "sources", what="write_key")
    _unique([d.name for d in destinations], "destinations")
    return ServiceConfig(sources, destinations, _delivery(data.get("delivery")), original)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list")
    return value


def _unique(values: list[str], key: str, what: str = "name") -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            # a duplicated write key is not echoed: it is a secret
            shown = "" if what == "write_key" else f" ({value!r})"
            raise ConfigError(f"{key}[{index}].{what}", f"is used twice{shown}")
        seen.add(value)


class _Placeholders(dict[str, str]):
    """The environment, seen through the placeholders that stand for ``${VAR}``."""

    def __init__(self, names: list[str], env: Mapping[str, str]) -> None:
        super().__init__()
        self.names = names
        self.env = env


_PLACEHOLDER = re.compile(r"__destkit_var_(\d+)__")


def _expand(value: Any, key: str, env: Mapping[str, str]) -> Any:
    """``${VAR}`` from the environment, in every string of ``value``."""
    if isinstance(value, str):
        assert isinstance(env, _Placeholders)
        names, environ = env.names, env.env

        def one(match: re.Match[str]) -> str:
            name = names[int(match.group(1))]
            if name not in environ:
                raise ConfigError(key, f"${{{name}}} is not set in the environment")
            return environ[name]

        return _PLACEHOLDER.sub(one, value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{key}.{k}", env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{key}[{i}]", env) for i, v in enumerate(value)]
    return value


def _mapping(item: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ConfigError(key, "must be a mapping")
    for name in item:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}", f"is not a known key ({', '.join(allowed)})")
    return item


def _text(item: Mapping[str, Any], key: str, name: str, env: Mapping[str, str]) -> str:
    value = _expand(item.get(name), f"{key}.{name}", env)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}.{name}", "is required and must be non-empty text")
    return value


def _source(item: Any, index: int, env: Mapping[str, str]) -> SourceConfig:
    key = f"sources[{index}]"
    item = _mapping(item, key, ("name", "write_key"))
    name = _text(item, key, "name", env)
    return SourceConfig(name, SecretStr(_text(item, key, "write_key", env)))


def _destination(item: Any, index: int, env: Mapping[str, str]) -> DestinationConfig:
    key = f"destinations[{index}]"
    item = _mapping(item, key, ("name", "connector", "settings", "actions"))
    name = _text(item, key, "name", env)
    slug = _text(item, key, "connector", env)
    try:
        connector = get_destination(slug)
    except DestkitError as exc:
        raise ConfigError(f"{key}.connector", exc.message) from None
    # Per action: ``mapping:`` overrides of single fields and a ``subscribe:`` condition, checked
    # now, as ``destkit send`` checks a settings file's ``actions:``.
    actions = _expand(item.get("actions"), f"{key}.actions", env)
    try:
        connector = configure_destination(connector, actions, where=f"{key}.actions")
    except InputError as exc:
        raise ConfigError(exc.field, exc.rule) from None
    values = _expand(item.get("settings") or {}, f"{key}.settings", env)
    if not isinstance(values, dict):
        raise ConfigError(f"{key}.settings", "must be a mapping of setting names")
    try:
        environ = env.env if isinstance(env, _Placeholders) else env
        settings = load_settings(connector.settings, values, slug=connector.slug, environ=environ)
    except InputError as exc:
        raise ConfigError(f"{key}.settings.{exc.field}", exc.rule) from None
    needs_sandbox = connector.slug == "sandbox" and not settings.endpoint
    return DestinationConfig(name, connector, settings, needs_sandbox)


def _delivery(item: Any) -> DeliveryOptions:
    if item is None:
        return DeliveryOptions()
    allowed = ("retry_window", "durability", "max_backlog", "shutdown_grace", "batch_size")
    item = _mapping(item, "delivery", allowed)
    defaults = DeliveryOptions()
    durability = item.get("durability", defaults.durability)
    if durability not in ("normal", "full"):
        raise ConfigError("delivery.durability", "must be normal or full")
    options: dict[str, Any] = {"durability": durability}
    for name in ("retry_window", "shutdown_grace"):
        if name in item:
            options[name] = parse_duration(item[name], f"delivery.{name}")
    for name, low, high in (("max_backlog", 1, 10**9), ("batch_size", 1, 1000)):
        if name in item:
            value = item[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"delivery.{name}", f"must be a whole number {low} to {high}")
            options[name] = value
    return DeliveryOptions(**options)
