"""The contract suite catches broken connectors, each with a message that says what is wrong."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

import sdk
from sdk import (
    Action,
    AnyMessage,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    PayloadValidationError,
    RetryableError,
    Subscription,
)
from sdk.testing import CHECKS, Contract, decoded_body, run_contract


class KeySettings(DestinationSettings):
    api_key: SecretStr


class PlainKeySettings(DestinationSettings):
    api_key: str  # wrong on purpose: a credential typed as plain text


class Forward(Action[Any, dict[str, Any]]):
    name = "forward"
    subscribe = Subscription.of("track", "identify", "page", "screen", "group", "alias")

    def map(self, event: AnyMessage, settings: Any) -> dict[str, Any]:
        return event.to_wire()

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/events", json={"events": [payload]})

    async def perform_batch(self, ctx: Context[Any], payloads: Sequence[dict[str, Any]]) -> None:
        await ctx.http.post("/v1/events", json={"events": list(payloads)})


class RetriesEverything(Forward):
    """Broken: turns a 400 into a retryable error."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        try:
            await super().perform(ctx, payload)
        except PayloadValidationError as exc:
            raise RetryableError(f"will try again: {exc.message}") from None


class LogsItsKey(Forward):
    """Broken: logs the api key."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        logging.getLogger("acme").warning(
            "calling with key %s", ctx.settings.api_key.get_secret_value()
        )
        await super().perform(ctx, payload)


class BigBatches(Forward):
    """Broken: declares batches larger than the vendor allows."""

    batch = BatchLimits(max_events=100)


class IgnoresChunking(Forward):
    """Broken: hoards payloads across batches and sends them all in one request."""

    batch = BatchLimits(max_events=10)

    async def perform_batch(self, ctx: Context[Any], payloads: Sequence[dict[str, Any]]) -> None:
        hoard = ctx.state.setdefault("hoard", [])
        hoard.extend(payloads)
        await ctx.http.post("/v1/events", json={"events": list(hoard)})


def _destination(
    action: Action[Any, Any], settings: type[DestinationSettings] = KeySettings
) -> Destination[Any]:
    return Destination(
        name="Acme",
        slug="acme",
        kind=DestinationKind.EVENT,
        settings=settings,
        actions=[action],
        base_url="https://api.acme.test",
        headers=lambda s: {
            "X-Api-Key": s.api_key.get_secret_value()
            if isinstance(s.api_key, SecretStr)
            else s.api_key
        },
    )


def _count(request: httpx.Request) -> int:
    body = decoded_body(request)
    return len(body["events"]) if isinstance(body, dict) else 1


def _results(contract: Contract) -> dict[str, sdk.testing.CheckResult]:
    return {r.check: r for r in run_contract(contract)}


def test_a_good_connector_passes_every_check() -> None:
    good = Forward()
    contract = Contract(
        _destination(good), settings={"api_key": "acme-key-123456"}, count_events=_count
    )
    results = _results(contract)
    failed = {k: r.message for k, r in results.items() if r.status == "failed"}
    assert failed == {}
    assert results["retries"].status == "passed"
    assert results["no_secret_leaks"].status == "passed"
    assert results["journey_list_add_only"].status == "skipped"  # an event destination


def test_a_connector_that_retries_a_400_fails_the_retry_check() -> None:
    contract = Contract(_destination(RetriesEverything()), settings={"api_key": "acme-key-123456"})
    result = _results(contract)["retries"]
    assert result.status == "failed"
    assert "HTTP 400 is not retryable but was tried" in result.message


def test_a_connector_whose_key_is_not_secret_fails_the_settings_check() -> None:
    contract = Contract(
        _destination(Forward(), PlainKeySettings), settings={"api_key": "acme-key-123456"}
    )
    result = _results(contract)["settings_model"]
    assert result.status == "failed"
    assert "'api_key' looks like a credential but is not typed SecretStr" in result.message


def test_a_connector_that_logs_its_key_fails_the_leak_check() -> None:
    contract = Contract(_destination(LogsItsKey()), settings={"api_key": "acme-key-123456"})
    result = _results(contract)["no_secret_leaks"]
    assert result.status == "failed"
    assert "appears in a log line" in result.message
    assert "acme-key-123456" not in result.message


def test_a_connector_over_the_vendor_batch_limit_fails_the_batch_check() -> None:
    contract = Contract(
        _destination(BigBatches()), settings={"api_key": "acme-key-123456"}, vendor_batch_limit=75
    )
    result = _results(contract)["batch_limits"]
    assert result.status == "failed"
    assert "declares batches of 100 events but the vendor's limit is 75" in result.message


def test_a_connector_that_ignores_chunking_fails_the_batch_check() -> None:
    contract = Contract(
        _destination(IgnoresChunking()),
        settings={"api_key": "acme-key-123456"},
        count_events=_count,
    )
    result = _results(contract)["batch_limits"]
    assert result.status == "failed"
    assert "over max_events=10" in result.message


def test_a_list_connector_is_held_to_add_only_journeys() -> None:
    class AddToList(Action[KeySettings, dict[str, Any]]):
        name = "sync"
        subscribe = Subscription.of("track", "identify", membership=True)

        def map(self, event: AnyMessage, settings: KeySettings) -> dict[str, Any]:
            membership = sdk.membership_of(event)
            assert membership is not None
            return {
                "op": "add" if membership.member else "remove",
                "user": event.user_id,
                "list": membership.key,
            }

        async def perform(self, ctx: Context[KeySettings], payload: dict[str, Any]) -> None:
            await ctx.http.post("/lists", json=payload)

    destination = Destination(
        name="Lists",
        slug="lists",
        kind=DestinationKind.LIST,
        settings=KeySettings,
        actions=[AddToList()],
        base_url="https://lists.test",
    )
    results = _results(Contract(destination, settings={"api_key": "list-key-123456"}))
    assert results["journey_list_add_only"].status == "passed"
    assert results["actions_send"].status == "passed"


def test_every_check_is_named_and_described() -> None:
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names))
    assert all(check.description for check in CHECKS)


def test_destkit_contract_writes_valid_junit(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.xml"
    from sdk.cli import main

    code = main(["contract", "sandbox", "--junit", str(out)])
    assert code == 0
    tree = ET.parse(out)
    suite = tree.getroot().find("testsuite")
    assert suite is not None
    assert suite.get("name") == "contract.sandbox"
    assert int(suite.get("tests", "0")) == len(CHECKS)
    assert suite.get("failures") == "0"
    printed = capsys.readouterr().out
    assert "PASS" in printed and "passed" in printed


def test_destkit_contract_unknown_connector_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    from sdk.cli import main

    assert main(["contract", "no-such-thing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no connector named" in err[0]
