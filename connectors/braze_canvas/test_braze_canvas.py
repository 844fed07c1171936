"""Braze Canvas connector: exact /canvas/trigger/send requests, the one-time entry rules,
batching to 50 recipients, Braze's answers, and the contract."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import respx

import sdk
from connectors.braze_canvas import destination
from connectors.braze_canvas.contract import CANVAS_DETAILS, contract
from sdk.testing import ContractTests

KEY = "brz-canvas-key-4b8f0c6e"
CANVAS = "cnv-2f6a9d0e-5b1c-4f7e-9a3d-8c2e1b7f4a60"
BASE = "https://rest.iad-01.braze.com"
URL = f"{BASE}/canvas/trigger/send"
SETTINGS = {"api_key": KEY, "canvas_id": CANVAS}
SENT = {"dispatch_id": "dsp_1", "message": "success"}


class TestBrazeCanvasContract(ContractTests):
    contract = contract


def _space() -> sdk.Space:
    return sdk.Space("spa_src")


def _step(space: sdk.Space | None = None) -> sdk.JourneyStep:
    space = space or _space()
    return space.step("First Purchase", "Opened Email", destinations=["Braze Canvas"])


def _send(events: list[Any], settings: dict[str, Any] | None = None) -> list[sdk.Lifecycle]:
    with sdk.Delivery(destination, settings or SETTINGS, sleep=lambda s: None) as delivery:
        return delivery.send_many(events)


def _body(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


def _personas(step: sdk.JourneyStep) -> dict[str, str]:
    return {
        "computation_class": "audience",
        "computation_id": step.audience_id,
        "computation_key": step.key,
        "namespace": "spa_src",
        "space_id": "spa_src",
    }


# -- entries ---------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_journey_step_entry_enters_the_canvas_with_the_source_context(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    [lifecycle] = _send([step.event("track", user_id="u1", extra={"order_id": "o-9"})])
    assert lifecycle.delivered
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert _body(route) == {
        "canvas_id": CANVAS,
        "recipients": [
            {
                "external_user_id": "u1",
                "canvas_entry_properties": {
                    "order_id": "o-9",
                    step.key: True,
                    "personas": _personas(step),
                },
            }
        ],
        "broadcast": False,
    }
    assert KEY not in lifecycle.to_json()


# -- the source journey's context ("The context of the source Canvas is always passed") ------

SOURCE_CONTEXT = {
    "source_space_id": "spa_src",
    "source_journey": "First Purchase",
    "source_step": "Send to Loyalty Welcome",
    "source_step_id": "stp_send_to_loyalty",
    "source_step_key": "j_o_first_purchase__send_to_loyalty_welcome_abc123",
    "entered_at": "2026-11-02T09:00:00Z",
    "offer_code": "WELCOME10",
}


@pytest.mark.parametrize("field", ["canvas_entry_properties", "context"])
@pytest.mark.parametrize("call", ["track", "identify"])
@respx.mock(assert_all_called=True)
def test_the_source_journey_context_reaches_the_canvas(
    call: str, field: str, respx_mock: respx.MockRouter
) -> None:
    # sdk.journeys._payloads.emit puts it in context.journey_context for a user that another
    # journey sent on; Braze reads it as {{canvas_entry_properties.${offer_code}}}.
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    event = step.event(call, user_id="u1", extra={"plan": "pro"})  # type: ignore[arg-type]
    event.context["journey_context"] = dict(SOURCE_CONTEXT)
    [lifecycle] = _send([event], {**SETTINGS, "entry_properties_field": field})
    assert lifecycle.delivered
    [recipient] = _body(route)["recipients"]
    assert recipient == {
        "external_user_id": "u1",
        field: {
            **SOURCE_CONTEXT,
            "plan": "pro",
            step.key: True,
            "personas": _personas(step),
        },
    }


@respx.mock(assert_all_called=True)
def test_the_key_personas_and_event_values_win_over_the_source_context(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    event = step.event("track", user_id="u1", extra={"offer_code": "FROM-EVENT"})
    event.context["journey_context"] = {
        **SOURCE_CONTEXT,
        "personas": "from the source",
        step.key: "from the source",
    }
    [lifecycle] = _send([event])
    assert lifecycle.delivered
    properties = _body(route)["recipients"][0]["canvas_entry_properties"]
    assert properties["offer_code"] == "FROM-EVENT"
    assert properties[step.key] is True
    assert properties["personas"] == _personas(step)
    assert properties["source_journey"] == "First Purchase"


def test_a_journey_context_that_is_not_an_object_is_refused() -> None:
    step = _step()
    wire = step.event("track", user_id="u1").to_wire()
    wire["context"]["journey_context"] = "First Purchase"
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        [lifecycle] = _send([wire])
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidEvent"
    assert lifecycle.error.message == (
        "context.journey_context: must be an object (the source journey's context)"
    )


@respx.mock(assert_all_called=True)
def test_journey_to_journey_send_carries_the_source_context_end_to_end(
    respx_mock: respx.MockRouter,
) -> None:
    # A journey file: Canvas 1 sends the user on to Canvas 2, whose first step enters the
    # Braze Canvas; the preview's payloads are delivered as the event tester does.
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    journeys = {
        "space": {"id": "spa_j2j"},
        "journeys": [
            {
                "name": "Canvas 1",
                "status": "active",
                "entry": {"event": "Signed Up"},
                "steps": [
                    {
                        "type": "send_to_journey",
                        "name": "Send to Canvas 2",
                        "journey": "Canvas 2",
                        "context": {"offer_code": "WELCOME10"},
                    }
                ],
            },
            {
                "name": "Canvas 2",
                "status": "draft",
                "entry": {"type": "real_time", "event": "Order Completed"},
                "steps": [
                    {
                        "type": "send_to_destinations",
                        "name": "Enter Braze Canvas",
                        "destinations": [{"name": "Braze Canvas", "events": ["track"]}],
                    }
                ],
            },
        ],
    }
    user = {
        "user_id": "u-ordered",
        "as_of": "2026-11-02T09:00:00Z",
        "events": [
            {"event": "Signed Up", "timestamp": "2026-10-31T09:00:00Z"},
            {"event": "Order Completed", "timestamp": "2026-11-01T09:00:00Z"},
        ],
    }
    result = sdk.preview(journeys, user, journey="Canvas 1")
    lifecycles = sdk.send_preview(result, {"Braze Canvas": SETTINGS}, sleep=lambda s: None)
    assert [lc.outcome for lc in lifecycles] == [sdk.Outcome.DELIVERED]
    [recipient] = _body(route)["recipients"]
    properties = recipient["canvas_entry_properties"]
    assert properties["offer_code"] == "WELCOME10"
    assert properties["source_journey"] == "Canvas 1"
    assert properties["source_step"] == "Send to Canvas 2"
    assert properties["source_space_id"] == "spa_j2j"
    assert properties["source_step_key"].startswith("j_o_canvas_1__send_to_canvas_2_")
    assert properties["entered_at"] == "2026-11-02T09:00:00Z"
    assert properties["personas"]["space_id"] == "spa_j2j"
    assert properties[properties["personas"]["computation_key"]] is True


@respx.mock(assert_all_called=True)
def test_an_identify_with_the_key_trait_true_enters_too(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    wire = step.event("identify", user_id="u2", extra={"email": "u2@example.com"}).to_wire()
    wire["traits"][step.key] = "true"  # the docs' string form
    [lifecycle] = _send([wire])
    assert lifecycle.delivered
    [recipient] = _body(route)["recipients"]
    assert recipient == {
        "external_user_id": "u2",
        "canvas_entry_properties": {
            "email": "u2@example.com",
            step.key: True,
            "personas": _personas(step),
        },
    }


@respx.mock(assert_all_called=True)
def test_context_field_for_the_current_canvas_editor(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    _send([step.event("track", user_id="u1")], {**SETTINGS, "entry_properties_field": "context"})
    [recipient] = _body(route)["recipients"]
    assert set(recipient) == {"external_user_id", "context"}
    assert recipient["context"][step.key] is True


@respx.mock(assert_all_called=True)
def test_users_without_a_user_id_are_recipients_by_user_alias(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    [lifecycle] = _send(
        [step.event("track", anonymous_id="anon-3")], {**SETTINGS, "alias_label": "seg_anon"}
    )
    assert lifecycle.delivered
    [recipient] = _body(route)["recipients"]
    assert recipient["user_alias"] == {"alias_name": "anon-3", "alias_label": "seg_anon"}
    assert "external_user_id" not in recipient
    assert "send_to_existing_only" not in recipient  # Braze refuses it with aliases


@respx.mock(assert_all_called=True)
def test_an_audience_entry_enters_the_canvas(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    audience = _space().audience("Big Spenders", destinations=["Braze Canvas"])
    [lifecycle] = _send([audience.event("track", user_id="u5")])
    assert lifecycle.delivered
    properties = _body(route)["recipients"][0]["canvas_entry_properties"]
    assert properties["big_spenders"] is True
    assert properties["personas"]["computation_key"] == "big_spenders"


# -- what is never sent ----------------------------------------------------------------------


@pytest.mark.parametrize("call", ["track", "identify"])
def test_audience_exits_are_filtered_with_a_reason(call: str) -> None:
    audience = _space().audience("Big Spenders", destinations=["Braze Canvas"])
    event = audience.event(call, user_id="u1", entered=False)  # type: ignore[arg-type]
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        [lifecycle] = _send([event])
    assert not route.called
    assert lifecycle.outcome is sdk.Outcome.FILTERED
    assert lifecycle.routing is not None
    assert "an audience exit does not enter a Canvas" in lifecycle.routing["reason"]


@pytest.mark.parametrize("call", ["track", "identify"])
def test_a_journey_step_exit_is_refused_and_never_sent(call: str) -> None:
    step = _step()
    wire = step.event(call, user_id="u1").to_wire()  # type: ignore[arg-type]
    if call == "track":
        wire["event"] = "Audience Exited"
        wire["properties"][step.key] = False
    else:
        wire["traits"][step.key] = False
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        [lifecycle] = _send([wire])
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"
    assert "add-only" in lifecycle.error.message


def test_events_that_are_not_entries_are_filtered() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        lifecycles = _send(
            [
                {"type": "track", "event": "Order Completed", "userId": "u"},
                {"type": "identify", "userId": "u", "traits": {"plan": "pro"}},
                {"type": "page", "userId": "u", "name": "Home"},
            ]
        )
    assert not route.called
    assert all(lc.outcome is sdk.Outcome.FILTERED for lc in lifecycles)


def test_a_broken_personas_context_is_a_one_line_error() -> None:
    wire = _step().event("track", user_id="u1").to_wire()
    del wire["context"]["personas"]["space_id"]
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        [lifecycle] = _send([wire])
    assert not route.called
    assert lifecycle.error is not None
    assert lifecycle.error.message.startswith("context.personas.space_id:")


# -- batching --------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_recipients_are_batched_50_per_request(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(201, json=SENT))
    step = _step()
    lifecycles = _send([step.event("track", user_id=f"u{n}") for n in range(120)])
    assert all(lc.delivered for lc in lifecycles)
    sizes = sorted(len(_body(route, i)["recipients"]) for i in range(len(route.calls)))
    assert sizes == [20, 50, 50]
    users = sorted(
        r["external_user_id"]
        for i in range(len(route.calls))
        for r in _body(route, i)["recipients"]
    )
    assert users == sorted(f"u{n}" for n in range(120))
    assert all(_body(route, i)["canvas_id"] == CANVAS for i in range(len(route.calls)))


# -- Braze's answers -------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_paused_canvas_notice_is_a_failure_not_a_delivery(
    respx_mock: respx.MockRouter,
) -> None:
    notice = "The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect."
    respx_mock.post(URL).mock(return_value=httpx.Response(201, json={**SENT, "notice": notice}))
    [lifecycle] = _send([_step().event("track", user_id="u1")])
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert len(lifecycle.attempts) == 1
    assert lifecycle.error is not None and lifecycle.error.cls == "IntegrationError"
    assert lifecycle.error.message == f"Braze entered no one: {notice}"


@pytest.mark.parametrize(
    ("status", "body", "cls", "words"),
    [
        (400, {"message": "Invalid Canvas ID"}, "PayloadValidationError", "Invalid Canvas ID"),
        (
            400,
            {"message": "The max number of external_ids and aliases per request was exceeded"},
            "PayloadValidationError",
            "max number",
        ),
        (401, {"message": "Invalid API Key"}, "InvalidAuthentication", "api_key"),
        (403, {"message": "Access Denied"}, "InvalidAuthentication", "permission"),
    ],
)
def test_braze_errors_map_to_the_taxonomy(
    status: int, body: dict[str, str], cls: str, words: str
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(status, json=body))
        [lifecycle] = _send([_step().event("track", user_id="u1")])
    assert lifecycle.outcome is sdk.Outcome.FAILED_PERMANENT
    assert len(lifecycle.attempts) == 1
    assert lifecycle.error is not None and lifecycle.error.cls == cls
    assert words in lifecycle.error.message


@respx.mock(assert_all_called=True)
def test_429_waits_for_the_rate_limit_window(respx_mock: respx.MockRouter) -> None:
    reset = int(time.time()) + 20
    respx_mock.post(URL).mock(
        side_effect=[
            httpx.Response(
                429, json={"message": "Rate Limited"}, headers={"X-RateLimit-Reset": str(reset)}
            ),
            httpx.Response(201, json=SENT),
        ]
    )
    [lifecycle] = _send([_step().event("track", user_id="u1")])
    assert lifecycle.delivered
    assert 15 <= lifecycle.attempts[1].wait_before_s <= 21


# -- credentials check -----------------------------------------------------------------------


def _check(answer: httpx.Response) -> tuple[sdk.Lifecycle, httpx.Request]:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{BASE}/canvas/details").mock(return_value=answer)
        with sdk.Delivery(destination, SETTINGS) as delivery:
            lifecycle = delivery.test_authentication()
        return lifecycle, route.calls.last.request


def test_authentication_reads_the_canvas_details() -> None:
    lifecycle, request = _check(httpx.Response(200, json=CANVAS_DETAILS))
    assert lifecycle.delivered
    assert request.url.params["canvas_id"] == CANVAS
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("answer", "cls", "start"),
    [
        (
            httpx.Response(401, json={"message": "Invalid API Key"}),
            "InvalidAuthentication",
            "Braze",
        ),
        (httpx.Response(403, json={"message": "Access Denied"}), "InvalidAuthentication", "Braze"),
        (
            httpx.Response(400, json={"message": "Invalid Canvas ID"}),
            "PayloadValidationError",
            "canvas_id:",
        ),
        (
            httpx.Response(200, json={**CANVAS_DETAILS, "archived": True}),
            "IntegrationError",
            "canvas_id: the Canvas is archived",
        ),
        (
            httpx.Response(200, json={**CANVAS_DETAILS, "enabled": False, "draft": True}),
            "IntegrationError",
            "canvas_id: the Canvas is not active",
        ),
    ],
)
def test_authentication_failures_say_what_is_wrong(
    answer: httpx.Response, cls: str, start: str
) -> None:
    lifecycle, _ = _check(answer)
    assert not lifecycle.delivered
    assert lifecycle.error is not None and lifecycle.error.cls == cls
    assert lifecycle.error.message.startswith(start)
    assert KEY not in lifecycle.to_json()


def test_canvas_id_is_required() -> None:
    with pytest.raises(sdk.InvalidSettings, match=r"^canvas_id: is required$"):
        sdk.load_settings(destination.settings, {"api_key": KEY})


def test_sandbox_receives_the_trigger_over_loopback() -> None:
    from sdk.testing import Sandbox

    step = _step()
    with Sandbox() as server:
        with sdk.Delivery(destination, {**SETTINGS, "endpoint": server.url}) as delivery:
            lifecycle = delivery.send(step.event("identify", user_id="u1"))
        assert lifecycle.delivered
        received = server.requests[-1]
        assert received.path == "/canvas/trigger/send"
        body = json.loads(received.body)
        assert body["recipients"][0]["canvas_entry_properties"][step.key] is True
