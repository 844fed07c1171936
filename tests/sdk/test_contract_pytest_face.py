"""The pytest face of the contract suite, as an outside project sees it: a ``ContractTests``
subclass in a plain test module is collected as one test per check, and a broken connector fails
with the name of the check it breaks."""

from __future__ import annotations

import pytest

from sdk.testing import CHECKS

pytest_plugins = ["pytester"]

OUTSIDE_PROJECT = """
import logging
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Subscription,
)
from sdk.testing import Contract, ContractTests

SECRET = "outside-key-5f0c1d2e"


class AcmeSettings(DestinationSettings):
    api_key: SecretStr


class Forward(Action[AcmeSettings, dict[str, Any]]):
    name = "forward"
    subscribe = Subscription.of("track", "identify", "page", "screen", "group", "alias")
    batch = BatchLimits(max_events=25)

    def map(self, event: AnyMessage, settings: AcmeSettings) -> dict[str, Any]:
        return event.to_wire()

    async def perform(self, ctx: Context[AcmeSettings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/events", json={"events": [payload]})

    async def perform_batch(
        self, ctx: Context[AcmeSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/events", json={"events": list(payloads)})


class LeaksItsKey(Forward):
    async def perform(self, ctx: Context[AcmeSettings], payload: dict[str, Any]) -> None:
        logging.getLogger("acme").info("key=%s", ctx.settings.api_key.get_secret_value())
        await super().perform(ctx, payload)


async def ping(ctx: Context[AcmeSettings]) -> None:
    await ctx.http.get("/v1/me")


def acme(slug: str, action: Action[AcmeSettings, Any]) -> Destination[AcmeSettings]:
    return Destination(
        name=slug.title(),
        slug=slug,
        kind=DestinationKind.EVENT,
        settings=AcmeSettings,
        actions=[action],
        base_url="https://api.acme.test",
        headers=lambda s: {"X-Api-Key": s.api_key.get_secret_value()},
        authentication=Authentication(scheme="custom", test=ping),
    )


class TestGoodContract(ContractTests):
    contract = Contract(acme("good", Forward()), settings={"api_key": SECRET})


class TestLeakyContract(ContractTests):
    contract = Contract(acme("leaky", LeaksItsKey()), settings={"api_key": SECRET})
"""


def test_contract_tests_run_in_an_outside_project(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_acme_contract=OUTSIDE_PROJECT)
    # The SVG snapshot plugin keeps one temporary folder per process: an in-process run must
    # leave it alone, or the outer session loses it.
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-rA")
    per_class = len(CHECKS)
    # journey_list_add_only is skipped for an event destination, in each class.
    result.assert_outcomes(passed=2 * per_class - 3, failed=1, skipped=2)
    output = result.stdout.str()
    for check in CHECKS:
        if check.name != "journey_list_add_only":
            assert f"PASSED test_acme_contract.py::TestGoodContract::test_{check.name}" in output
    assert "FAILED test_acme_contract.py::TestLeakyContract::test_no_secret_leaks" in output
    failure = [line for line in result.stdout.lines if line.startswith("[leaky] ")]
    assert len(failure) == 1
    assert failure[0].startswith("[leaky] no_secret_leaks: a secret setting appears in a log line")
    assert "outside-key-5f0c1d2e" not in failure[0]  # the report itself masks it
