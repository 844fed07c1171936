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
    assert {"klaviyo", "google_analytics_4"} <= set(CONNECTORS)
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


NEW_CONNECTORS = {
    "klaviyo": (["api_key=pk_sandbox_0123456789"], "/api/events/"),
    "google_analytics_4": (
        ["measurement_id=G-SANDBOX1", "api_secret=ga4-sandbox-secret-31"],
        "/mp/collect?measurement_id=G-SANDBOX1&api_secret=[REDACTED]",
    ),
}


@pytest.mark.parametrize("event_type", ["page", "screen", "group", "alias"])
@pytest.mark.parametrize("slug", sorted(NEW_CONNECTORS))
def test_send_shows_the_documented_request_or_a_one_line_refusal(
    slug: str, event_type: str, server: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from sdk.cli import main

    settings, path = NEW_CONNECTORS[slug]
    argv = ["send", "--destination", slug, "--event-type", event_type]
    for setting in [*settings, f"endpoint={server.url}"]:
        argv += ["--setting", setting]
    code = main(argv)
    out = capsys.readouterr().out
    assert "ga4-sandbox-secret-31" not in out and "pk_sandbox_0123456789" not in out
    if event_type in ("page", "screen"):
        assert code == 0, out
        assert f"-> POST {server.url}{path}" in out
        return
    assert code == 3, out
    (routing,) = [line for line in out.splitlines() if line.startswith("Routing")]
    # One line naming why: the vendor's API has no room for this call.
    assert "filtered at destination" in routing and f"{event_type} call" in routing
    assert "-> POST" not in out
