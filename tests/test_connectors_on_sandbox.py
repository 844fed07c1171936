"""Every shipped connector, end to end over real loopback HTTP against the sandbox destination.

The contract suite proves each connector against its vendor's recorded answers (respx); this
proves the same sample events leave the process as real HTTP requests, arrive whole at a real
server, and come back as delivered lifecycles with no secret in them.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

import sdk
from sdk.testing import Contract, Sandbox, sample_events
from sdk.testing._contract_samples import _takes

CONNECTORS = sorted(
    destination.slug for destination in sdk.all_destinations() if destination.slug != "sandbox"
)


def _contract(slug: str) -> Contract:
    module = importlib.import_module(f"connectors.{slug}.contract")
    contract = module.contract
    assert isinstance(contract, Contract)
    return contract


@pytest.fixture(scope="module")
def server() -> Any:
    with Sandbox() as sandbox:
        yield sandbox


def test_every_shipped_connector_is_covered() -> None:
    assert {"webhook", "segment", "braze", "braze_canvas", "amplitude", "mixpanel"} <= set(
        CONNECTORS
    )
    assert {"facebook_custom_audiences", "google_ads_customer_match"} <= set(CONNECTORS)
    assert sdk.connector._registry.broken_connectors() == {}


@pytest.mark.parametrize("slug", CONNECTORS)
def test_sample_events_are_delivered_to_the_sandbox(slug: str, server: Sandbox) -> None:
    contract = _contract(slug)
    events = [event for event in sample_events(contract) if _takes(contract, event)]
    assert events, f"{slug}: no sample event is taken"
    settings = {**contract.settings, "endpoint": server.url}
    if slug == "webhook":
        settings["url"] = server.url
    before = len(server.requests)
    with sdk.Delivery(contract.destination, settings) as delivery:
        lifecycles = delivery.send_many(events)
    failed = [
        (lc.event.get("type"), lc.outcome.value, lc.error) for lc in lifecycles if not lc.delivered
    ]
    assert not failed, f"{slug}: {failed}"
    assert len(server.requests) > before, f"{slug}: nothing reached the sandbox"
    record = json.dumps([lc.to_dict() for lc in lifecycles])
    for secret in sdk.secret_values(delivery.settings):
        assert secret not in record, f"{slug}: a secret is in the lifecycle record"
