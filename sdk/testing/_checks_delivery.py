"""The checks on what reaches the API for each event: every action sends its samples, routed-away
events make no call, journey lists are add-only, the personas fields arrive, and malformed
events are refused without a request."""

from __future__ import annotations

from typing import Any

from sdk.connector._destination import DestinationKind
from sdk.engage._personas import AUDIENCE_ENTERED, AUDIENCE_EXITED, membership_of
from sdk.engage._spaces import Space
from sdk.spec._messages import Identify, Track, parse_message
from sdk.testing._contract_model import Contract, ContractViolation
from sdk.testing._contract_requests import (
    _delivery_requests,
    _describe_lifecycle,
    _event_markers,
    _request_text,
)
from sdk.testing._contract_samples import CONTRACT_SPACE, _accepted_samples, _identity_traits
from sdk.testing._mockapi import mock_api
from sdk.transport._lifecycle import Outcome

__all__ = [
    "check_actions_send",
    "check_filtered_events",
    "check_journey_list_add_only",
    "check_malformed_events",
    "check_personas_reach_destination",
]

OTHER_DESTINATION = "Some Other Destination"


def check_actions_send(contract: Contract) -> str | None:
    """Every action turns its sample events into requests, and they are delivered."""
    samples = _accepted_samples(contract)
    for action in contract.destination.actions:
        mine = [e for e in samples if contract.destination.action_for(parse_message(e)) is action]
        if not mine:
            raise ContractViolation(
                f"action {action.name!r} ({action.subscribe.describe()}) has no sample event; "
                "add one to the contract's samples"
            )
        for event in mine:
            with mock_api(contract.respond) as api, contract.delivery() as delivery:
                lifecycle = delivery.send(event)
                if not lifecycle.delivered:
                    raise ContractViolation(
                        f"action {action.name!r} did not deliver a sample "
                        f"{event['type']} event: {_describe_lifecycle(lifecycle)}"
                    )
                requests = _delivery_requests(contract, api)
                if not requests:
                    raise ContractViolation(
                        f"action {action.name!r} reported delivery without any request"
                    )
                text = " ".join(_request_text(r) for r in requests)
                if not any(marker in text for marker in _event_markers(event)):
                    raise ContractViolation(
                        f"action {action.name!r} delivered a sample {event['type']} event but "
                        "no request carries it (neither its userId, anonymousId, messageId nor "
                        "its email, plain or SHA-256 hashed)"
                    )
    return None


def check_filtered_events(contract: Contract) -> str | None:
    """Events the integrations object routes elsewhere cause no HTTP call."""
    for event in _accepted_samples(contract):
        routed_away = {**event, "integrations": {"All": False, OTHER_DESTINATION: True}}
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            lifecycle = delivery.send(routed_away)
            if api.requests:
                raise ContractViolation(
                    f"an event routed to {OTHER_DESTINATION!r} only still made "
                    f"{len(api.requests)} request(s)"
                )
            if lifecycle.outcome is not Outcome.FILTERED:
                raise ContractViolation(
                    f"a routed-away event ended {lifecycle.outcome.value}, not filtered"
                )
    return None


def check_journey_list_add_only(contract: Contract) -> str | None:
    """A journey list never receives a removal: it is refused with a clear error, never sent."""
    if contract.destination.kind is not DestinationKind.LIST:
        return "skipped: not a list destination"
    space = Space(CONTRACT_SPACE)
    step = space.step("Contract Journey", "Contract Step", destinations=[contract.destination.name])
    entered = step.event("track", user_id="contract-user-1", extra=_identity_traits("u"))
    assert isinstance(entered, Track)
    removal = entered.model_copy(
        update={"event": AUDIENCE_EXITED, "properties": {**entered.properties, step.key: False}}
    )
    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        lifecycle = delivery.send(removal)
        if api.requests:
            raise ContractViolation(
                f"a journey removal was sent ({len(api.requests)} request(s)); journey lists "
                "are add-only"
            )
        if lifecycle.error is None or lifecycle.error.cls != "ListRemovalRefused":
            raise ContractViolation(
                f"a journey removal was not refused clearly: {_describe_lifecycle(lifecycle)}"
            )
    return None


def check_personas_reach_destination(contract: Contract) -> str | None:
    """The step key and ``context.personas`` reach the destination where its API has room."""
    if not contract.personas_in_request:
        note = f": {contract.personas_note}" if contract.personas_note else ""
        return f"skipped: the connector declares no room for them{note}"
    journey_events = []
    for event in _accepted_samples(contract):
        message = parse_message(event)
        membership = membership_of(message) if isinstance(message, (Track, Identify)) else None
        if membership is not None and membership.is_journey and membership.member:
            journey_events.append((event, membership.key))
    if not journey_events:
        raise ContractViolation("no journey step event is accepted by any action")
    for event, key in journey_events:
        personas = event.get("context", {}).get("personas", {})
        required = contract.required_personas_fields(event["type"])
        what = f"an {event['type']} event" if event["type"] == "identify" else "a track event"
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            delivery.send(event)
            text = " ".join(_request_text(r) for r in _delivery_requests(contract, api))
        if key not in text:
            raise ContractViolation(f"the step key {key} does not reach the destination for {what}")
        missing = [
            name for name in required if not personas.get(name) or str(personas[name]) not in text
        ]
        if missing:
            raise ContractViolation(
                f"context.personas {', '.join(missing)} do not reach the destination for "
                f"{what} (if the API has room for only some, declare the ones it carries in "
                "the Contract's personas_fields)"
            )
    return None


def check_malformed_events(contract: Contract) -> str | None:
    """Malformed events get a clear one-line error and cause no request."""
    bad_events: list[dict[str, Any]] = [
        {"type": "track", "event": AUDIENCE_ENTERED},
        {"type": "teleport", "userId": "u"},
        {"type": "track", "userId": "u"},
        {"type": "identify", "userId": "u", "traits": {"blob": "x" * 40_000}},
    ]
    for event in bad_events:
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            lifecycle = delivery.send(event)
            if api.requests:
                raise ContractViolation(f"a malformed event was sent: {list(event)}")
            error = lifecycle.error
            if lifecycle.outcome is not Outcome.FAILED_PERMANENT or error is None:
                raise ContractViolation(
                    f"a malformed event ended {_describe_lifecycle(lifecycle)}, not failed"
                )
            if "\n" in error.message or ":" not in error.message:
                raise ContractViolation(
                    f"the error for a malformed event is not one line naming the field: "
                    f"{error.message!r}"
                )
    return None
