"""Braze Canvas: when a user reaches a journey step, enter them into a Braze Canvas through
API-triggered entry -- the Braze side of journey-to-journey "Send to Destination".

API followed: Braze REST API, Send Canvas messages using API-triggered delivery,
``POST /canvas/trigger/send``
(https://www.braze.com/docs/api/endpoints/messaging/send_messages/post_send_triggered_canvases/),
checked 2026-11, with the recipients object
(https://www.braze.com/docs/api/objects_filters/recipient_object/), the Canvas entry
properties / context object (50 KB at most), Export Canvas details ``GET /canvas/details``,
errors (https://www.braze.com/docs/api/errors/) and rate limits
(https://www.braze.com/docs/api/api_limits/):

- ``Authorization: Bearer <REST API key>`` with the ``canvas.trigger.send`` permission
  (``canvas.details`` for the credentials check).
- ``recipients`` holds up to 50 objects; each names its user by ``external_user_id`` *or*
  ``user_alias`` (only one) and carries its own ``canvas_entry_properties``. The Canvas editor
  now calls them ``context`` (``{{context.${name}}}``); the ``entry_properties_field`` setting
  chooses the name sent.
- ``broadcast: false`` with explicit recipients; ``send_to_existing_only`` is left to its default
  (``true``; Braze does not allow it with user aliases): users unknown to Braze do not enter.
- Non-broadcast calls share 250,000 requests per hour with ``/messages/send`` and
  ``/campaigns/trigger/send``.
- ``201`` ``{"dispatch_id", "message": "success"}``; when the Canvas is archived, stopped or
  paused Braze still answers ``201`` with a ``notice`` and enters no one: that is reported as a
  failure naming the notice, not as a delivery.

| event | request |
|---|---|
| track ``Audience Entered`` (step or audience) | ``POST /canvas/trigger/send`` (below) |
| identify with the key trait ``true`` | the same |
| no ``userId`` | recipient ``{"user_alias": {"alias_name": anonymousId, "alias_label"}}`` |
| entries, batched | one request per 50 recipients |
| audience exit (``Audience Exited`` / key ``false``) | filtered: an entry is one-time |
| exit of a journey step (``j_o_`` key ``false``) | refused (``ListRemovalRefused``), never sent |
| test_authentication | ``GET /canvas/details?canvas_id=...`` (key, permission, Canvas) |

The request: ``{"canvas_id": canvas_id, "recipients": [{"external_user_id": userId,
"canvas_entry_properties": {...}}], "broadcast": false}``.

``canvas_entry_properties`` carries the source journey's context ("The context of the source
Canvas is always passed to the destination Canvas", Send to Destination FAQ): the entries of
``context.journey_context`` (what a user entered into this journey by another one brings along:
``source_space_id``, ``source_journey``, ``source_step``, ``source_step_id``,
``source_step_key``, ``entered_at`` and the send_to_journey step's own ``context``), each at the
top level, so the Canvas reads them as ``{{canvas_entry_properties.${source_journey}}}`` (or
``{{context.${...}}}``); then the event's properties (track) or traits (identify), which win over
a journey-context entry of the same name; then the step key as ``true`` and ``personas``
(``computation_class``, ``computation_id``, ``computation_key``, ``namespace``, ``space_id``),
which nothing overrides. The context object is limited to 50 KB by Braze; Segment's 32 KB
message limit keeps it under that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from connectors.braze._api import BrazeSettings, auth_headers, braze_error, post, rest_base_url
from connectors.braze_canvas._notes import NOTES
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    IntegrationError,
    InvalidEvent,
    PayloadValidationError,
    SkipEvent,
    Subscription,
    membership_of,
)

__all__ = ["BrazeCanvasSettings", "destination"]

#: Braze: the ``recipients`` array may contain up to 50 objects.
MAX_RECIPIENTS = 50
#: Non-broadcast trigger calls: 250,000 requests per hour, shared with other send endpoints.
REQUESTS_PER_SECOND = 250_000 / 3600


class BrazeCanvasSettings(BrazeSettings):
    """Settings of the Braze Canvas destination."""

    canvas_id: str = Field(
        min_length=1,
        description="API identifier of the destination Canvas (its entry schedule must be "
        "API-triggered).",
    )
    entry_properties_field: Literal["canvas_entry_properties", "context"] = Field(
        default="canvas_entry_properties",
        description="Name of the per-recipient properties object: canvas_entry_properties "
        "(original Canvas editor) or context (current Canvas editor).",
    )


class EnterCanvas(Action[BrazeCanvasSettings, dict[str, Any]]):
    """A user who reaches the step enters the Canvas, with the step's context."""

    name = "enter_canvas"
    description = (
        "Enter users who reach a journey step (or enter an audience) into a Braze Canvas through "
        "API-triggered entry, up to 50 recipients per request."
    )
    subscribe = Subscription.of("track", "identify", membership=True)
    batch = BatchLimits(max_events=MAX_RECIPIENTS)

    def map(self, event: AnyMessage, settings: BrazeCanvasSettings) -> dict[str, Any]:
        membership = membership_of(event)
        if membership is None:
            raise InvalidEvent(
                "context.personas", "is required: only journey and audience entries enter a Canvas"
            )
        if not membership.member:
            # Journey-step exits never get here (the runtime refuses them: journeys are
            # add-only); an audience exit has nothing to do in a one-time Canvas entry.
            raise SkipEvent(f"{membership.key}: an audience exit does not enter a Canvas")
        recipient: dict[str, Any]
        if event.user_id:
            recipient = {"external_user_id": event.user_id}
        elif event.anonymous_id:
            recipient = {
                "user_alias": {
                    "alias_name": event.anonymous_id,
                    "alias_label": settings.alias_label,
                }
            }
        else:  # unreachable for a parsed message; kept so bad input never crashes
            raise PayloadValidationError("userId: is required (or anonymousId, sent as user_alias)")
        journey_context = event.context.get("journey_context")
        if journey_context is not None and not isinstance(journey_context, Mapping):
            raise InvalidEvent(
                "context.journey_context", "must be an object (the source journey's context)"
            )
        # The source journey's context first, so the event's own values and the step's key
        # and personas always win over an entry of the same name.
        properties = {**(journey_context or {}), **membership.values}
        properties[membership.key] = True  # "true" arrives as the string in the docs' examples
        properties["personas"] = membership.personas.to_dict()
        recipient[settings.entry_properties_field] = properties
        return recipient

    async def perform(self, ctx: Context[BrazeCanvasSettings], payload: dict[str, Any]) -> None:
        await _trigger(ctx, [payload])

    async def perform_batch(
        self, ctx: Context[BrazeCanvasSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await _trigger(ctx, payloads)


async def _trigger(ctx: Context[BrazeCanvasSettings], recipients: Sequence[dict[str, Any]]) -> None:
    body = {"canvas_id": ctx.settings.canvas_id, "recipients": list(recipients), "broadcast": False}
    response = await post(ctx, "/canvas/trigger/send", body)
    data = response.data if isinstance(response.data, Mapping) else {}
    notice = data.get("notice")
    if isinstance(notice, str) and notice.strip():
        # Braze accepted the call but will not enter anyone (archived, stopped or paused).
        raise IntegrationError(
            f"Braze entered no one: {' '.join(notice.split())[:200]}", status=response.status_code
        )


async def _test_authentication(ctx: Context[BrazeCanvasSettings]) -> None:
    response = await ctx.http.get(
        "/canvas/details", params={"canvas_id": ctx.settings.canvas_id}, raise_for_status=False
    )
    error = braze_error(response, ctx.redactor)
    if error is not None and response.status_code == 400:
        raise PayloadValidationError(f"canvas_id: {error.message}", status=400)
    if error is not None:
        raise error
    details = response.data if isinstance(response.data, Mapping) else {}
    if details.get("archived") is True:
        raise IntegrationError("canvas_id: the Canvas is archived; Braze ignores trigger requests")
    if details.get("enabled") is False:
        raise IntegrationError(
            "canvas_id: the Canvas is not active (a draft or paused); Braze accepts trigger "
            "requests but enters no one until it is launched or resumed"
        )


destination: Destination[BrazeCanvasSettings] = Destination(
    name="Braze Canvas",
    slug="braze_canvas",
    kind=DestinationKind.JOURNEY,
    settings=BrazeCanvasSettings,
    actions=[EnterCanvas()],
    description="Enters users who reach a journey step into a Braze Canvas (API-triggered entry).",
    base_url=rest_base_url,
    headers=auth_headers,
    authentication=Authentication(scheme="bearer", test=_test_authentication),
    rate_limit=REQUESTS_PER_SECOND,
    api_version="Braze REST API, POST /canvas/trigger/send (checked 2026-11)",
    docs_url="https://www.braze.com/docs/api/endpoints/messaging/send_messages/post_send_triggered_canvases/",
    notes=NOTES,
)
