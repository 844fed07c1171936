"""The list-destination plumbing (``sdk.connector.ListAction``): which list a key goes to, add
and remove, add-only journeys, identifiers read once, every left-out identifier a lifecycle note.
A whole list connector on it is the few lines of ``ToyList`` below."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
import respx
from pydantic import Field, ValidationInfo, field_validator

import sdk
from sdk.connector import (
    ListAction,
    ListMember,
    ListUser,
    Skipped,
    check_list_id,
    check_list_map,
    normalize_and_hash,
)

URL = "https://toy.test"


class ToySettings(sdk.DestinationSettings):
    list_id: str | None = Field(default=None, description="Default list.")
    list_map: dict[str, str] = Field(default_factory=dict, description="Key -> list.")

    @field_validator("list_id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return check_list_id(value, "toy list id")

    @field_validator("list_map")
    @classmethod
    def _map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return check_list_map(
            value, info.data.get("list_id"), what="toy list id", default_setting="list_id"
        )


class ToyList(ListAction[ToySettings, str]):
    name = "toy_list"
    list_setting = "list_id"
    map_setting = "list_map"
    batch = sdk.BatchLimits(max_events=100)

    def identifiers(self, user: ListUser, settings: ToySettings, skipped: Skipped) -> str | None:
        email = user.get("email")
        if email is None:
            return None
        try:
            return normalize_and_hash("email", email)
        except sdk.InvalidIdentifier as exc:
            skipped.take("email", exc)
            return None

    async def perform(self, ctx: sdk.Context[ToySettings], payload: ListMember[str]) -> None:
        await self.perform_batch(ctx, [payload])

    async def perform_batch(
        self, ctx: sdk.Context[ToySettings], payloads: Sequence[ListMember[str]]
    ) -> None:
        first = payloads[0]
        await ctx.http.post(
            f"/lists/{first.list_id}/{first.operation}", json=[p.record for p in payloads]
        )


TOY = sdk.Destination(
    name="Toy",
    slug="toy_list",
    kind=sdk.DestinationKind.LIST,
    settings=ToySettings,
    actions=[ToyList()],
    base_url=URL,
)


def _audience() -> sdk.Audience:
    return sdk.Space("spa_t").audience("Big Spenders", destinations=["Toy"])


def _send(events: list[Any], settings: dict[str, Any]) -> list[sdk.Lifecycle]:
    with sdk.Delivery(TOY, settings, sleep=lambda s: None) as delivery:
        return delivery.send_many(events)


@respx.mock(assert_all_called=True)
def test_keys_choose_lists_and_adds_never_share_a_batch_with_removals(
    respx_mock: respx.MockRouter,
) -> None:
    add_vip = respx_mock.post(f"{URL}/lists/7/add").mock(return_value=httpx.Response(200))
    add_default = respx_mock.post(f"{URL}/lists/1/add").mock(return_value=httpx.Response(200))
    remove = respx_mock.post(f"{URL}/lists/1/remove").mock(return_value=httpx.Response(200))
    vip = sdk.Space("spa_t").audience("VIP", destinations=["Toy"])
    events = [
        _audience().event("track", user_id="u1", extra={"email": "a@x.io"}).to_wire(),
        vip.event("identify", user_id="u2", extra={"email": "b@x.io"}).to_wire(),
        _audience()
        .event("track", user_id="u3", entered=False, extra={"email": "c@x.io"})
        .to_wire(),
    ]
    lifecycles = _send(events, {"list_id": "1", "list_map": {"vip": "7"}})
    assert all(lc.delivered for lc in lifecycles)
    sha = normalize_and_hash
    assert json.loads(add_default.calls.last.request.content) == [sha("email", "a@x.io")]
    assert json.loads(add_vip.calls.last.request.content) == [sha("email", "b@x.io")]
    assert json.loads(remove.calls.last.request.content) == [sha("email", "c@x.io")]
    assert lifecycles[0].payload == {
        "list_id": "1",
        "operation": "add",
        "key": "big_spenders",
        "identifiers": sha("email", "a@x.io"),
    }


def test_a_journey_removal_is_refused_by_the_action_itself() -> None:
    step = sdk.Space("spa_t").step("Onboarding", "Welcome", destinations=["Toy"])
    entered = step.event("track", user_id="u1", extra={"email": "a@x.io"})
    exited = entered.model_copy(
        update={"event": "Audience Exited", "properties": {step.key: False}}
    )
    settings = sdk.load_settings(ToySettings, {"list_id": "1"})
    with pytest.raises(sdk.ListRemovalRefused, match="journeys are add-only"):
        ToyList().map(exited, settings)


def test_left_out_identifiers_are_notes_and_none_left_is_one_line() -> None:
    settings = sdk.load_settings(ToySettings, {"list_id": "1"})
    action = ToyList()
    bad = _audience().event("track", user_id="u1", extra={"email": "a\u200d@x.io"})
    with pytest.raises(sdk.InvalidIdentifier) as caught:
        action.map(bad, settings)
    assert str(caught.value) == "email: contains an invisible character (U+200D) inside"
    missing = _audience().event("track", user_id="u1")
    with pytest.raises(sdk.InvalidEvent, match=r"^traits\.email: is missing"):
        action.map(missing, settings)
    member = ListMember("1", "add", "k", "digest", skipped={"phone": "has no country code"})
    assert action.payload_notes(member) == [
        "traits.phone: left out of the list upload: has no country code"
    ]


def test_a_key_without_a_list_names_both_settings() -> None:
    settings = sdk.load_settings(ToySettings, {"list_map": {"vip": "7"}})
    event = _audience().event("track", user_id="u1", extra={"email": "a@x.io"})
    with pytest.raises(sdk.InvalidEvent) as caught:
        ToyList().map(event, settings)
    assert str(caught.value) == (
        "context.personas.computation_key: 'big_spenders' has no list_map entry and no "
        "list_id is set"
    )


@pytest.mark.parametrize(
    ("settings", "rule"),
    [
        ({}, "set list_id (one toy list id for every key) or map at least one"),
        ({"list_id": "abc"}, "must be a toy list id (digits only)"),
        ({"list_map": {"vip": "x7"}}, "'vip' must map to a toy list id (digits only)"),
    ],
)
def test_list_settings_are_checked_at_load(settings: dict[str, Any], rule: str) -> None:
    with pytest.raises(sdk.InvalidSettings, match=rule.replace("(", r"\(").replace(")", r"\)")):
        sdk.load_settings(ToySettings, settings)


def test_the_users_country_comes_from_the_address_then_the_location() -> None:
    event = _audience().event("track", user_id="u1", extra={"address": {"country": "GB"}})
    assert ListUser.of(event).country == "GB"
    wire = _audience().event("track", user_id="u1").to_wire()
    wire["context"]["location"] = {"country": "DE"}
    assert ListUser.of(sdk.parse_message(wire)).country == "DE"
    assert ListUser.of(_audience().event("track", user_id="u1")).country is None
