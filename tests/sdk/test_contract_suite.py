"""The contract suite catches broken connectors, each with a message that says what is wrong."""

from __future__ import annotations

import hashlib
import json
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
    Authentication,
    BatchLimits,
    Context,
    DeliveryError,
    Destination,
    DestinationKind,
    DestinationSettings,
    InvalidAuthentication,
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


async def _ping(ctx: Context[Any]) -> None:
    await ctx.http.get("/v1/me")


def _destination(
    action: Action[Any, Any],
    settings: type[DestinationSettings] = KeySettings,
    authentication: Authentication | None = None,
) -> Destination[Any]:
    return Destination(
        name="Acme",
        slug="acme",
        kind=DestinationKind.EVENT,
        settings=settings,
        actions=[action],
        authentication=authentication or Authentication(scheme="custom", test=_ping),
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
    assert results["authentication"].status == "passed"
    assert results["personas_reach_destination"].status == "passed"
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


# -- the checks assert on what reached the API, not only on the lifecycle --------------------


class LoopsOnRejection(Forward):
    """Broken: retries a refused payload inside perform, so the lifecycle shows one attempt."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        for _ in range(4):
            try:
                await super().perform(ctx, payload)
                return
            except PayloadValidationError as exc:
                last = exc
        raise last


class ResendsBacklog(Forward):
    """Broken: keeps failed payloads and sends each again, alone, before the next one."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        backlog: list[dict[str, Any]] = ctx.state.setdefault("backlog", [])
        try:
            for old in backlog:
                await super().perform(ctx, old)
            await super().perform(ctx, payload)
        except DeliveryError:
            if payload not in backlog:
                backlog.append(payload)
            raise


class GivesUpOnGatewayErrors(Forward):
    """Broken: treats 500/502/504 as permanent (only 503 and 429 are retried)."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        try:
            await super().perform(ctx, payload)
        except RetryableError as exc:
            if exc.status in (500, 502, 504):
                raise PayloadValidationError(exc.message, status=exc.status) from None
            raise


class RetriesNotImplemented(Forward):
    """Broken: retries a 501, which will never work."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        try:
            await super().perform(ctx, payload)
        except DeliveryError as exc:
            if exc.status == 501:
                raise RetryableError(exc.message, status=501) from None
            raise


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (LoopsOnRejection(), "HTTP 400 is not retryable but the API received 4 delivery requests"),
        (ResendsBacklog(), "after 503 then 429 the API received 4 delivery requests, not 3"),
        (GivesUpOnGatewayErrors(), "HTTP 500 is retryable"),
        (RetriesNotImplemented(), "HTTP 501 is not retryable but was tried"),
    ],
)
def test_the_retry_check_counts_requests_and_covers_every_status(
    action: Action[Any, Any], expected: str
) -> None:
    contract = Contract(_destination(action), settings={"api_key": "acme-key-123456"})
    result = _results(contract)["retries"]
    assert result.status == "failed"
    assert expected in result.message


def test_retry_faults_skip_auxiliary_requests() -> None:
    class TokenThenPost(Forward):
        async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
            await ctx.http.post("/oauth/token", data={"grant_type": "client_credentials"})
            await super().perform(ctx, payload)

    contract = Contract(
        _destination(TokenThenPost()),
        settings={"api_key": "acme-key-123456"},
        count_events=_count,
        is_auxiliary=lambda request: request.url.path == "/oauth/token",
    )
    assert _results(contract)["retries"].status == "passed"


async def _ping_ignoring_403(ctx: Context[Any]) -> None:
    """Broken: a 403 (a revoked key, say) is taken for valid credentials."""
    try:
        await ctx.http.get("/v1/me")
    except InvalidAuthentication as exc:
        if exc.status != 403:
            raise


def test_the_authentication_check_tries_401_and_403() -> None:
    destination = _destination(
        Forward(), authentication=Authentication(scheme="custom", test=_ping_ignoring_403)
    )
    contract = Contract(destination, settings={"api_key": "acme-key-123456"}, count_events=_count)
    result = _results(contract)["authentication"]
    assert result.status == "failed"
    assert "(HTTP 403) were not reported as InvalidAuthentication" in result.message


class DropsPersonas(Forward):
    """Broken: deletes context.personas (the step key still travels in properties)."""

    def map(self, event: AnyMessage, settings: Any) -> dict[str, Any]:
        wire = event.to_wire()
        wire.get("context", {}).pop("personas", None)
        return wire


def test_a_connector_that_drops_context_personas_fails_the_personas_check() -> None:
    contract = Contract(
        _destination(DropsPersonas()), settings={"api_key": "acme-key-123456"}, count_events=_count
    )
    result = _results(contract)["personas_reach_destination"]
    assert result.status == "failed"
    assert "context.personas computation_id, space_id do not reach" in result.message
    assert "personas_fields" in result.message


class KeyOnlyOnIdentify(Forward):
    """An API whose profile updates have room for the key only (a user trait)."""

    def map(self, event: AnyMessage, settings: Any) -> dict[str, Any]:
        wire = event.to_wire()
        if wire["type"] == "identify":
            wire.get("context", {}).pop("personas", None)
        return wire


def test_a_contract_may_declare_the_personas_fields_its_api_has_room_for() -> None:
    base = {"api_key": "acme-key-123456"}
    strict = Contract(_destination(KeyOnlyOnIdentify()), settings=base, count_events=_count)
    assert "an identify event" in _results(strict)["personas_reach_destination"].message
    declared = Contract(
        _destination(KeyOnlyOnIdentify()),
        settings=base,
        count_events=_count,
        personas_fields={"identify": ("computation_key",)},
    )
    assert _results(declared)["personas_reach_destination"].status == "passed"
    # ... but what it declares for track is still held to the default.
    dropping = Contract(
        _destination(DropsPersonas()),
        settings=base,
        count_events=_count,
        personas_fields={"identify": ("computation_key",)},
    )
    assert "a track event" in _results(dropping)["personas_reach_destination"].message
    misspelt = Contract(
        _destination(Forward()), settings=base, count_events=_count, personas_fields=["space"]
    )
    result = _results(misspelt)["personas_reach_destination"]
    assert result.status == "failed"
    assert "personas_fields names space, not a context.personas field" in result.message


def test_the_batch_check_counts_events_without_count_events() -> None:
    contract = Contract(_destination(IgnoresChunking()), settings={"api_key": "acme-key-123456"})
    result = _results(contract)["batch_limits"]
    assert result.status == "failed"
    assert "a request carried 20 events, over max_events=10" in result.message
    good = Contract(_destination(Batched()), settings={"api_key": "acme-key-123456"})
    assert _results(good)["batch_limits"].status == "passed"


class Batched(Forward):
    batch = BatchLimits(max_events=10)


class NDJSONBatches(Batched):
    """Batches as newline-delimited JSON: no array the suite could count."""

    async def perform_batch(self, ctx: Context[Any], payloads: Sequence[dict[str, Any]]) -> None:
        hoard = ctx.state.setdefault("hoard", [])
        hoard.extend(payloads)  # broken too, which only count_events can see
        body = "\n".join(json.dumps(p) for p in hoard)
        await ctx.http.post("/v1/ndjson", content=body.encode())


def test_a_batch_the_suite_cannot_count_asks_for_count_events() -> None:
    contract = Contract(_destination(NDJSONBatches()), settings={"api_key": "acme-key-123456"})
    result = _results(contract)["batch_limits"]
    assert result.status == "failed"
    assert "the Contract must declare count_events" in result.message

    def count_lines(request: httpx.Request) -> int:
        return len(request.content.splitlines())

    declared = Contract(
        _destination(NDJSONBatches()),
        settings={"api_key": "acme-key-123456"},
        count_events=count_lines,
    )
    assert "over max_events=10" in _results(declared)["batch_limits"].message


class SendsNothingUseful(Forward):
    """Broken: reports delivery after a request that carries no event."""

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/events", json={})


def test_actions_send_requires_the_event_in_the_request() -> None:
    contract = Contract(_destination(SendsNothingUseful()), settings={"api_key": "acme-key-1234"})
    result = _results(contract)["actions_send"]
    assert result.status == "failed"
    assert "no request carries it" in result.message


def test_actions_send_accepts_hashed_list_rows() -> None:
    class HashedRows(Action[KeySettings, dict[str, Any]]):
        name = "sync"
        subscribe = Subscription.of("track", "identify", membership=True)

        def map(self, event: AnyMessage, settings: KeySettings) -> dict[str, Any]:
            email = str(event.context["traits"]["email"]).strip().lower()
            return {"rows": [[hashlib.sha256(email.encode()).hexdigest()]]}

        async def perform(self, ctx: Context[KeySettings], payload: dict[str, Any]) -> None:
            await ctx.http.post("/lists/1/users", json=payload)

    destination = Destination(
        name="Lists",
        slug="lists",
        kind=DestinationKind.LIST,
        settings=KeySettings,
        actions=[HashedRows()],
        base_url="https://lists.test",
    )
    results = _results(Contract(destination, settings={"api_key": "list-key-123456"}))
    assert results["actions_send"].status == "passed", results["actions_send"].message
