"""The sample events a contract's checks send: generated for the destination's kind, plus the
contract's own, and which of them the connector takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sdk._errors import SkipEvent
from sdk.connector._destination import DestinationKind
from sdk.connector._settings import load_settings
from sdk.engage._personas import membership_of
from sdk.engage._spaces import Space
from sdk.spec._messages import parse_message
from sdk.testing._contract_model import Contract, ContractViolation

__all__ = ["CONTRACT_SPACE", "sample_events"]

CONTRACT_SPACE = "spa_contract"


def _identity_traits(user: str) -> dict[str, Any]:
    return {
        "email": f"  {user.upper()}@Example.COM ",
        "phone": "+1 (415) 555-0100",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }


def sample_events(contract: Contract) -> list[dict[str, Any]]:
    """Sample events for the destination's kind, routed to it, plus the contract's own."""
    destination = contract.destination
    space = Space(CONTRACT_SPACE)
    step = space.step("Contract Journey", "Contract Step", destinations=[destination.name])
    audience = space.audience("Contract Audience", destinations=[destination.name])
    user = "contract-user-1"
    context_traits = _identity_traits(user)
    events: list[dict[str, Any]] = []
    for call in ("track", "identify"):
        for source in (step, audience):
            event = source.event(call, user_id=user, extra=_identity_traits(user))
            wire = event.to_wire()
            wire["context"]["traits"] = context_traits
            events.append(wire)
    exited = audience.event("track", user_id=user, entered=False, extra=_identity_traits(user))
    exited_wire = exited.to_wire()
    exited_wire["context"]["traits"] = context_traits
    events.append(exited_wire)
    if destination.kind is DestinationKind.EVENT:
        plain: dict[str, Any] = {
            "userId": user,
            "context": {"traits": context_traits},
            "integrations": {},
        }
        events.append(
            {
                **plain,
                "type": "track",
                "event": "Order Completed",
                "properties": {"revenue": 42.5, "currency": "USD"},
            }
        )
        events.append({**plain, "type": "identify", "traits": {"plan": "pro", **context_traits}})
        events.append({**plain, "type": "page", "name": "Home"})
        events.append({**plain, "type": "screen", "name": "Home"})
        events.append({**plain, "type": "group", "groupId": "g-1", "traits": {"name": "Acme"}})
        events.append({**plain, "type": "alias", "previousId": "anon-1"})
    events.extend(dict(sample) for sample in contract.samples)
    return events


def _takes(contract: Contract, event: Mapping[str, Any]) -> bool:
    message = parse_message(event)
    action = contract.destination.action_for(message)
    if action is None:
        return False
    membership = membership_of(message)
    if membership is not None and membership.is_journey and not membership.member:
        return False  # journeys are add-only: the runtime refuses these for every kind
    try:
        settings = load_settings(
            contract.destination.settings,
            {**contract.settings, "endpoint": "https://contract.test"},
        )
        action.map(message, settings)
    except SkipEvent:
        return False  # the action declines it on purpose (recorded as filtered)
    except Exception:
        return True  # let the checks that send it report what goes wrong
    return True


def _accepted_samples(contract: Contract) -> list[dict[str, Any]]:
    return [event for event in sample_events(contract) if _takes(contract, event)]


def _first_sample(contract: Contract) -> dict[str, Any]:
    samples = _accepted_samples(contract)
    if not samples:
        raise ContractViolation("no sample event is accepted by any action")
    return samples[0]
