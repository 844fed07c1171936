"""The glue between the form and ``sdk``: settings pre-fills, the payload text, curl.

Plain functions (no widgets), so the app stays about layout and events; every rule they apply
is a call into ``sdk``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdk import Destination, Exchange, RetryPolicy
    from sdk.engage import TestEventSpec

__all__ = [
    "describe_retry",
    "initial_settings",
    "interactive_retry",
    "new_event_ids",
    "payload_text",
    "request_as_curl",
    "split_settings_file",
]


def split_settings_file(
    data: Mapping[str, Any], slugs: set[str], initial: str | None
) -> dict[str, dict[str, Any]]:
    """Settings-file values by destination slug.

    A file keyed by slugs (``{"sandbox": {...}, "braze": {...}}``) gives each destination its
    own; any other mapping is the settings of the initial destination.
    """
    if data and all(key in slugs and isinstance(value, Mapping) for key, value in data.items()):
        return {key: dict(value) for key, value in data.items()}
    return {initial: dict(data)} if initial is not None and data else {}


def initial_settings(
    destination: Destination[Any],
    environ: Mapping[str, str],
    file_values: Mapping[str, Any],
    sandbox_url: str | None = None,
) -> dict[str, Any]:
    """What the settings form starts with: ``DESTKIT_<SLUG>_<FIELD>`` variables, then the
    settings file; the sandbox destination points at the running sandbox unless told not to."""
    from sdk import env_var_name, setting_fields

    values: dict[str, Any] = {}
    for field in setting_fields(destination.settings):
        variable = env_var_name(destination.slug, field.name)
        if variable in environ:
            values[field.name] = environ[variable]
    values.update(file_values)
    if destination.slug == "sandbox" and not values.get("endpoint") and sandbox_url:
        values["endpoint"] = sandbox_url
    return values


def interactive_retry() -> RetryPolicy:
    """The tester's retry policy: a person is waiting, so three quick attempts (about a
    second in all), not production's five over many seconds. ``RetryPolicy`` is sdk's."""
    from sdk import RetryPolicy

    return RetryPolicy(
        max_attempts=3, max_elapsed=10.0, initial_backoff=0.2, max_backoff=1.0, jitter=0.1
    )


def describe_retry(policy: RetryPolicy, *, interactive: bool) -> str:
    """``retry: up to 3 attempts, 0.2–1 s apart (the tester's short policy)``."""
    attempts = f"{policy.max_attempts} attempt{'s' if policy.max_attempts != 1 else ''}"
    apart = f"{policy.initial_backoff:g}–{policy.max_backoff:g} s apart"
    whose = "the tester's short policy" if interactive else "as configured"
    return f"retry: up to {attempts}, {apart} ({whose})"


def new_event_ids() -> dict[str, str]:
    """A fresh ``messageId`` and ``timestamp`` (one pair per message sent)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"messageId": f"destkit-{uuid.uuid4()}", "timestamp": now}


def payload_text(
    spec: TestEventSpec,
    *,
    route: bool,
    ids: Mapping[str, str],
    stamp: Mapping[str, Any] | None = None,
    drop_user: bool = False,
) -> str:
    """The test event for ``spec`` as pretty JSON; raises ``sdk.InputError`` (one line).

    ``route=False`` keeps the destination out of the integrations object
    (``{"All": false}``), so the event is "filtered at destination". ``drop_user`` leaves
    ``userId`` out (the form's User id is empty: the payload must not keep an old one).
    """
    from sdk.engage import build_test_event

    wire = build_test_event(spec).to_wire()
    if drop_user:
        wire.pop("userId", None)
    if not route:
        wire["integrations"] = {"All": False}
    wire.update(ids)
    wire.update(stamp or {})
    return json.dumps(wire, indent=2, ensure_ascii=False)


def request_as_curl(
    exchange: Exchange,
    destination: Destination[Any] | None = None,
    values: Mapping[str, Any] | None = None,
) -> str | None:
    """The request as curl: masked, or with ``destination`` and its setting ``values``
    unmasked (the secrets are read from the settings only then). None when the settings do
    not validate."""
    from tester_tui.curl import curl_command

    if destination is None:
        return curl_command(exchange.request)
    from sdk import InputError, load_settings, secret_values

    try:
        settings = load_settings(
            destination.settings, dict(values or {}), slug=destination.slug, environ={}
        )
    except InputError:
        return None
    return curl_command(
        exchange.request,
        real_headers=destination.headers_for(settings),
        secrets=secret_values(settings),
    )
