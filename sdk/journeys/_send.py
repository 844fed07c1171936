"""Delivering a preview: every emitted event to every destination it names (or one step's).

Each destination receives all of the preview's events and its ``integrations`` object decides:
its own are delivered, the others' are filtered at destination. Settings are checked for every
destination before anything is sent. With ``step``, only the events that one step emitted are
sent, to the destinations they name.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from sdk._errors import InvalidJourney, InvalidSettings
from sdk.connector._destination import Destination
from sdk.connector._registry import get_destination
from sdk.connector._settings import env_var_name, load_settings, setting_fields
from sdk.delivery._runtime import AsyncDelivery
from sdk.journeys._payloads import connector_problem
from sdk.journeys._results import Preview, StepRef
from sdk.transport._lifecycle import Lifecycle
from sdk.transport._retry import RetryPolicy

__all__ = ["missing_settings", "send_preview", "send_preview_async"]


def _settings_for(
    destination: Destination[Any], given: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, settings in given.items():
        if name == destination.name or name.lower() in (
            destination.slug.lower(),
            destination.name.lower(),
        ):
            values.update(settings)
    return values


def _destinations(preview: Preview, step: StepRef | None = None) -> list[Destination[Any]]:
    # The same check as the preview's note at the step (connector_problem).
    found: list[Destination[Any]] = []
    for name in preview.destinations_of(step):
        problem = connector_problem(name)
        if problem is not None:
            raise InvalidJourney("destinations", problem)
        found.append(get_destination(name))
    return found


def missing_settings(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    step: StepRef | None = None,
) -> list[str]:
    """Required settings that neither ``settings_by_destination`` nor the environment give,
    as ``"<Destination>.<setting>"``, for every destination the preview sends to (with
    ``step``, ``(journey, path)``: every destination that step's events go to)."""
    given = settings_by_destination or {}
    env = os.environ if environ is None else environ
    missing: list[str] = []
    for destination in _destinations(preview, step):
        values = _settings_for(destination, given)
        for setting in setting_fields(destination.settings):
            if not setting.required or values.get(setting.name) is not None:
                continue
            if env_var_name(destination.slug, setting.name) in env:
                continue
            missing.append(f"{destination.name}.{setting.name}")
    return missing


def _validated(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None,
    step: StepRef | None,
) -> list[tuple[Destination[Any], Any]]:
    missing = missing_settings(preview, settings_by_destination, step=step)
    if missing:
        raise InvalidSettings(", ".join(missing), "required to send this preview")
    planned: list[tuple[Destination[Any], Any]] = []
    for destination in _destinations(preview, step):
        values = _settings_for(destination, settings_by_destination or {})
        try:
            settings = load_settings(destination.settings, values, slug=destination.slug)
        except InvalidSettings as exc:
            raise InvalidSettings(f"{destination.name}.{exc.field}", exc.rule) from None
        planned.append((destination, settings))
    return planned


async def send_preview_async(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_update: Callable[[Lifecycle], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    step: StepRef | None = None,
) -> list[Lifecycle]:
    """Deliver every event of the preview to every destination it names, through
    :class:`~sdk.AsyncDelivery`. Each destination receives all of them and the integrations
    object decides: its own events are delivered, the others' are ``filtered``. Lifecycles come
    back destination by destination, in the preview's order.

    ``step`` (``(journey, path)``, e.g. ``("First Purchase", "steps[1]")``) sends only the
    events that step emitted, to the destinations they name; an ``InvalidJourney`` when it
    emitted none.

    Settings (keyed by destination name or slug) are checked for every destination before
    anything is sent: a missing or bad one is an ``InvalidSettings`` naming it.
    """
    emissions = preview.messages_of(step)
    if step is not None and not emissions:
        raise InvalidJourney("step", f"{step[0]} / {step[1]} sent no events in this preview")
    planned = _validated(preview, settings_by_destination, step)
    messages = [emission.message for emission in emissions]
    lifecycles: list[Lifecycle] = []
    for destination, settings in planned:
        async with AsyncDelivery(
            destination,
            settings,
            retry=retry,
            sleep=sleep,
            on_update=on_update,
            transport=transport,
        ) as delivery:
            lifecycles.extend(await delivery.send_many(messages))
    return lifecycles


def send_preview(
    preview: Preview,
    settings_by_destination: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    on_update: Callable[[Lifecycle], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    step: StepRef | None = None,
) -> list[Lifecycle]:
    """The synchronous twin of :func:`send_preview_async`: same arguments, same result."""
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    if sleep is not None:
        blocking = sleep

        async def async_sleep(seconds: float) -> None:
            blocking(seconds)

    return asyncio.run(
        send_preview_async(
            preview,
            settings_by_destination,
            retry=retry,
            sleep=async_sleep,
            on_update=on_update,
            transport=transport,
            step=step,
        )
    )
