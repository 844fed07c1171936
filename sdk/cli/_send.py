"""``destkit send``: build (or read) one event, deliver it, print its lifecycle.

A bad event is refused before any request (exit 2) however it was made: read from ``--payload``
or built from the arguments (an over-32 KB ``--user-id``, say).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from sdk._documents import read_document
from sdk._errors import InvalidEvent, InvalidSettings, PayloadTooLarge
from sdk._terminal import terminal_safe, terminal_safe_json
from sdk.cli._parser import EXIT_FAILED, EXIT_FILTERED, EXIT_OK
from sdk.connector._registry import get_destination
from sdk.connector._settings import env_var_name, read_settings_file
from sdk.delivery._render import render_lifecycle
from sdk.delivery._runtime import Delivery
from sdk.engage._personas import membership_of
from sdk.engage._spaces import Space
from sdk.engage._testevents import TestEventSpec, TestEventType, build_test_event, new_test_user_id
from sdk.mapping import ACTIONS_KEY, configure_destination
from sdk.spec._messages import (
    Alias,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    message_to_json,
    parse_message,
)
from sdk.transport._lifecycle import Lifecycle, Outcome

__all__ = ["payload_message", "run_send", "sandbox_endpoint", "settings_values"]

AnyMessage = Track | Identify | Page | Screen | Group | Alias


def settings_values(args: argparse.Namespace) -> dict[str, Any]:
    """The settings a command was given: its ``--settings-file``, then its ``--setting``s."""
    values: dict[str, Any] = {}
    if getattr(args, "settings_file", None):
        values.update(read_settings_file(args.settings_file))
    for name, value in getattr(args, "setting", []):
        values[name] = value
    return values


@contextlib.contextmanager
def sandbox_endpoint(slug: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """For the sandbox destination without an endpoint, run the loopback server meanwhile."""
    if slug != "sandbox" or values.get("endpoint") or _env_endpoint(slug):
        yield values
        return
    from sdk.testing._sandbox import Sandbox

    with Sandbox() as server:
        yield {**values, "endpoint": server.url}


def _env_endpoint(slug: str) -> str | None:
    return os.environ.get(env_var_name(slug, "endpoint"))


def payload_message(path: str) -> AnyMessage:
    """The ``--payload`` file as a validated message: a bad one is refused here, before any
    request, as ``payload.<field>: <rule>`` (exit 2)."""
    document = read_document(path, "payload", InvalidSettings, fmt="json")
    if not isinstance(document, dict):  # a JSON string is a value here, not JSON text to parse
        raise InvalidEvent("payload", "must be a JSON object")
    try:
        return parse_message(document)  # also refuses a message over 32 KB as sent
    except (InvalidEvent, PayloadTooLarge) as exc:
        field = "payload" if exc.field == "message" else f"payload.{exc.field}"
        raise type(exc)(field, exc.rule) from None


def _refuse_journey_exit(event: AnyMessage) -> None:
    """A journey never sends an exit (its lists are add-only): refused before any request."""
    membership = membership_of(event)
    if membership is not None and membership.is_journey and not membership.member:
        raise InvalidEvent(
            "event-type",
            f"{membership.key} is a journey step: journeys are add-only and never send "
            "Audience Exited or a removal (use --audience for an exit)",
        )


def _built_event(args: argparse.Namespace, destination_name: str) -> AnyMessage:
    spec = TestEventSpec(
        event_type=TestEventType(args.event_type),
        user_id=args.user_id or new_test_user_id(),
        destination=destination_name,
        journey=args.journey,
        step=args.step,
        audience=args.audience,
        space_id=args.space,
    )
    event = build_test_event(spec)
    # As for --payload: an event the arguments made too big (or unsendable) is bad input.
    message_to_json(event)
    return event


def run_send(args: argparse.Namespace) -> int:
    """Run ``destkit send``; input errors propagate as ``InputError`` (exit 2)."""
    destination = get_destination(args.destination)
    Space(args.space)  # a bad --space is refused even by an event type that does not use it
    values = settings_values(args)
    # A settings file's ``actions:`` (mapping overrides, subscriptions) is checked here, at load.
    destination = configure_destination(destination, values.pop(ACTIONS_KEY, None))
    event = payload_message(args.payload) if args.payload else _built_event(args, destination.name)
    _refuse_journey_exit(event)
    with (
        sandbox_endpoint(destination.slug, values) as settings,
        Delivery(destination, settings) as delivery,
    ):
        lifecycle = delivery.send(event)
    print_lifecycle(lifecycle, as_json=args.json, out=sys.stdout)
    if lifecycle.delivered:
        return EXIT_OK
    return EXIT_FILTERED if lifecycle.outcome is Outcome.FILTERED else EXIT_FAILED


def print_lifecycle(lifecycle: Lifecycle, *, as_json: bool, out: TextIO) -> None:
    """The lifecycle as JSON, or as text with every control character escaped."""
    if as_json:
        print(terminal_safe_json(lifecycle.to_json()), file=out)
    else:
        print(terminal_safe(render_lifecycle(lifecycle), keep_newlines=True), file=out)
