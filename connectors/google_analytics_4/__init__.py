"""Google Analytics 4: track, page and screen calls as GA4 events through the Measurement
Protocol.

API followed: GA4 Measurement Protocol
(https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference), checked
2026-11: ``POST /mp/collect?measurement_id=G-...&api_secret=...`` with a JSON body
``{"client_id", "user_id"?, "timestamp_micros"?, "events": [{"name", "params"}]}``; the
collection server answers 2xx for every request it receives, even one it then drops, so events
are made to follow GA4's rules before sending (``_rules``: names, reserved names, value
lengths, 25 parameters, 200 items) and each thing renamed, cut or dropped is a lifecycle note.
``POST /debug/mp/collect`` (the validation server) answers ``{"validationMessages": [{"fieldPath",
"description", "validationCode"}]}`` without recording anything: ``test_authentication`` sends
one test event there.

The ``api_secret`` travels in the query string: it is a secret setting, so it is masked in
every recorded URL, log line, error and note, like any other secret.

Which Segment call becomes which request, and what it notes, is tabled in
``docs/connectors/google_analytics_4.md``: track -> its event (Segment's ecommerce names as GA4's
recommended events, ``products`` as ``items``), page -> ``page_view``, screen -> ``screen_view``,
identify/group/alias -> refused with the reason.

``client_id``: ``integrations["Google Analytics 4"].clientId``, else the ``anonymousId``, else
the ``userId`` (noted); ``user_id``: the ``userId``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from connectors.google_analytics_4._notes import NOTES
from connectors.google_analytics_4._rules import event_name, event_params
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    InvalidAuthentication,
    InvalidEvent,
    Page,
    PayloadValidationError,
    Screen,
    SkipEvent,
    Subscription,
    Track,
)
from sdk.mapping import LooseText, first_of, mapped

__all__ = ["GoogleAnalytics4Settings", "destination"]

NAME = "Google Analytics 4"
BASE_URLS = {
    "global": "https://www.google-analytics.com",
    "eu": "https://region1.google-analytics.com",
}
_REFUSED = {
    "identify": "GA4's Measurement Protocol records events only: user properties travel with an "
    "event, and there is no profile update to send an identify call as",
    "group": "GA4 has no group or account object, so a group call is not sent",
    "alias": "GA4 has no alias call: user_id on each event links a user's devices",
}

Payload = dict[str, Any]


class GoogleAnalytics4Settings(DestinationSettings):
    """Settings of the Google Analytics 4 destination."""

    measurement_id: str = Field(
        pattern=r"^G-[A-Z0-9]{4,20}$", description="Web data stream measurement id (G-XXXXXXX)."
    )
    api_secret: SecretStr = Field(
        description="Measurement Protocol API secret (Admin > Data Streams > Measurement "
        "Protocol API secrets)."
    )
    region: Literal["global", "eu"] = Field(
        default="global",
        description="Collection server: global, or eu (region1, data collected in the EU).",
    )


_OPTIONS = f'$.integrations["{NAME}"]'


class EventFields(BaseModel):
    """Where a GA4 event's parts come from (each can be re-mapped per destination instance)."""

    client_id: LooseText = mapped(
        first_of(f"{_OPTIONS}.clientId", "$.anonymousId"),
        description="client_id (else the userId stands in, noted).",
    )
    user_id: LooseText = mapped("$.userId", description="user_id.")
    event: LooseText = mapped("$.event", description="track: the event, made a GA4 event name.")
    name: LooseText = mapped("$.name", description="page: page_name; screen: screen_name.")
    properties: dict[str, Any] = mapped(
        "$.properties", default_factory=dict, description="params, by GA4's parameter rules."
    )
    page_location: LooseText = mapped(
        first_of("$.properties.url", "$.context.page.url"), description="page: page_location."
    )
    page_title: LooseText = mapped(
        first_of("$.properties.title", "$.context.page.title"), description="page: page_title."
    )
    page_referrer: LooseText = mapped(
        first_of("$.properties.referrer", "$.context.page.referrer"),
        description="page: page_referrer.",
    )


def _client_id(fields: EventFields, notes: list[str]) -> str:
    if fields.client_id:
        return fields.client_id
    if fields.user_id:
        notes.append("client_id: no anonymousId, so the userId stands in as GA4's client_id")
        return fields.user_id
    raise InvalidEvent("anonymousId", "is required as GA4's client_id (or userId)")


def _page_params(fields: EventFields, notes: list[str]) -> Payload:
    params: Payload = {}
    for target, value in (
        ("page_location", fields.page_location),
        ("page_title", fields.page_title),
        ("page_referrer", fields.page_referrer),
    ):
        if value:
            params[target] = value[:1000]  # page_location may hold 1,000 characters
    rest = {k: v for k, v in fields.properties.items() if k not in ("url", "title", "referrer")}
    if fields.name:
        rest.setdefault("page_name", fields.name)
    params.update(event_params(rest, notes))
    return params


class SendEvent(Action[GoogleAnalytics4Settings, Payload]):
    """A track, page or screen call as one GA4 event; identify, group and alias are refused
    with the reason (GA4 has no request for them)."""

    name = "send_event"
    description = (
        "Send track, page and screen calls as GA4 events (Measurement Protocol); identify, "
        "group and alias are refused: GA4 has no request for them."
    )
    subscribe = Subscription.of("track", "page", "screen", "identify", "group", "alias")
    fields = EventFields

    def map(self, event: AnyMessage, settings: GoogleAnalytics4Settings) -> Payload:
        if event.type in _REFUSED:
            raise SkipEvent(_REFUSED[event.type])
        fields: EventFields = self.resolve(event)
        notes: list[str] = []
        if isinstance(event, Track):
            if not fields.event:
                raise InvalidEvent("event", "is required (the GA4 event's name)")
            name = event_name(fields.event, notes)
            params = event_params(fields.properties, notes)
            personas = event.personas
            if personas and name in ("audience_entered", "audience_exited"):
                for key in ("computation_key", "computation_id", "space_id"):
                    if isinstance(personas.get(key), str):
                        params.setdefault(key, personas[key][:100])
        elif isinstance(event, Page):
            name, params = "page_view", _page_params(fields, notes)
        else:
            assert isinstance(event, Screen)
            params = {"screen_name": fields.name} if fields.name else {}
            params.update(event_params(dict(fields.properties), notes))
            name = "screen_view"
        options = event.integrations.get(NAME) if isinstance(event.integrations, dict) else None
        if isinstance(options, dict) and options.get("sessionId") is not None:
            params.setdefault("session_id", str(options["sessionId"]))
        body: Payload = {"client_id": _client_id(fields, notes)}
        if fields.user_id:
            body["user_id"] = fields.user_id
        if event.timestamp is not None:
            body["timestamp_micros"] = int(event.timestamp.timestamp() * 1_000_000)
        body["events"] = [{"name": name, "params": params}]
        return {"body": body, "notes": notes}

    def payload_notes(self, payload: Payload) -> list[str]:
        return list(payload["notes"])

    def payload_record(self, payload: Payload) -> Any:
        return payload["body"]

    async def perform(self, ctx: Context[GoogleAnalytics4Settings], payload: Payload) -> None:
        await ctx.http.post("/mp/collect", params=_query(ctx.settings), json=payload["body"])


def _query(settings: GoogleAnalytics4Settings) -> dict[str, str]:
    return {
        "measurement_id": settings.measurement_id,
        "api_secret": settings.api_secret.get_secret_value(),
    }


async def _test_authentication(ctx: Context[GoogleAnalytics4Settings]) -> None:
    """One test event to the validation server, which records nothing; its
    ``validationMessages`` say what is wrong."""
    body = {"client_id": "destkit.connection-test", "events": [{"name": "destkit_test"}]}
    response = await ctx.http.post("/debug/mp/collect", params=_query(ctx.settings), json=body)
    answer = response.json()
    messages = answer.get("validationMessages") if isinstance(answer, dict) else None
    if not isinstance(messages, list) or not messages:
        return
    first = messages[0] if isinstance(messages[0], dict) else {}
    field = str(first.get("fieldPath") or "request")
    text = f"GA4 validation: {first.get('description') or 'invalid'}"
    if first.get("validationCode"):
        text += f" ({first['validationCode']})"
    if any(name in field for name in ("measurement_id", "api_secret", "firebase_app_id")):
        raise InvalidAuthentication(f"{field}: {text}")
    raise PayloadValidationError(f"{field}: {text}")


destination: Destination[GoogleAnalytics4Settings] = Destination(
    name=NAME,
    slug="google_analytics_4",
    kind=DestinationKind.EVENT,
    settings=GoogleAnalytics4Settings,
    actions=[SendEvent()],
    description="Sends track, page and screen calls to Google Analytics 4 as events "
    "(Measurement Protocol).",
    base_url=lambda s: BASE_URLS[s.region],
    authentication=Authentication(scheme="api_key", test=_test_authentication),
    api_version="GA4 Measurement Protocol (/mp/collect, /debug/mp/collect)",
    docs_url="https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference",
    notes=NOTES,
)
