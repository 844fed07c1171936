"""Klaviyo: Segment events become Klaviyo events and profiles; Engage audience and journey
membership becomes Klaviyo list membership.

API followed: Klaviyo REST API, revision ``2026-10-15`` (the ``revision`` header, a setting),
https://developers.klaviyo.com/en/reference/api_overview, checked 2026-11: Create Event
(``POST /api/events/``, 202 with no body), Create or Update Profile
(``POST /api/profile-import/``, 200/201 with the profile), Bulk Import Profiles
(``POST /api/profile-bulk-import-jobs/``, 202), Get Profiles (``GET /api/profiles/`` with
``filter=any(email,[...])``), Remove Profiles from List
(``DELETE /api/lists/{id}/relationships/profiles/``) and Get Accounts (``GET /api/accounts/``).
Every request carries ``Authorization: Klaviyo-API-Key <private key>``, ``revision`` and the
JSON:API content type; rate limits are per endpoint (events 350/s burst, 3,500/min steady) and a
429 carries ``Retry-After``.

What each Segment call becomes is tabled in ``docs/connectors/klaviyo.md``: track -> event,
page/screen -> ``Viewed Page``/``Viewed Screen`` events, identify -> profile import, membership ->
list add (bulk import job) or removal (lookup, then remove; journeys are add-only), group and
alias -> refused with the reason (Klaviyo has no group object, and its merge call takes profile
ids). test_authentication: ``GET /api/accounts/``.

A phone written without a calling code takes the user's own country (``traits.address.country``,
``context.location.country``), else ``phone_country_code``; Klaviyo wants E.164.
"""

from __future__ import annotations

from typing import Any

from connectors.klaviyo._api import API_URL, KlaviyoSettings, headers, profile_identifiers, send
from connectors.klaviyo._list_sync import SyncList
from connectors.klaviyo._notes import NOTES
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    Context,
    Destination,
    DestinationKind,
    Identify,
    InvalidEvent,
    Page,
    Screen,
    SkipEvent,
    Subscription,
    Track,
)
from sdk.connector import IDENTIFIER_FIELDS, ListUser, Skipped

__all__ = ["KlaviyoSettings", "destination"]

NAME = "Klaviyo"
#: Profile attributes Klaviyo names itself, from the Segment trait that carries them.
_PROFILE_TRAITS = {
    "first_name": ("first_name", "firstName"),
    "last_name": ("last_name", "lastName"),
    "organization": ("company", "organization"),
    "title": ("title",),
    "image": ("avatar", "image"),
}
_LOCATION = {
    "address1": "street",
    "address2": "street2",
    "city": "city",
    "country": "country",
    "region": "state",
    "zip": "postal_code",
}
_IDENTIFIER_TRAITS = frozenset({"email", "phone", "address", "id", "userId", "user_id"})
_PAGE_FIELDS = ("url", "path", "title", "referrer", "search")

Payload = dict[str, Any]


def _profile(event: AnyMessage, settings: KlaviyoSettings) -> tuple[Payload, list[str]]:
    """The profile attributes Klaviyo identifies the user by, and notes on what was left out."""
    skipped = Skipped()
    attributes: Payload = profile_identifiers(ListUser.of(event), settings, skipped)
    notes = [
        f"{IDENTIFIER_FIELDS.get(name, name)}: left out of the profile: {rule}"
        for name, rule in skipped.rules.items()
    ]
    if not attributes:
        raise InvalidEvent(
            "traits.email", "is missing, and so are traits.phone, userId and anonymousId"
        )
    return attributes, notes


def _event_body(
    event: AnyMessage, settings: KlaviyoSettings, metric: str, properties: Payload
) -> tuple[Payload, list[str]]:
    profile, notes = _profile(event, settings)
    attributes: Payload = {
        "properties": properties,
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        "profile": {"data": {"type": "profile", "attributes": profile}},
        "unique_id": event.message_id,
    }
    if event.timestamp is not None:
        attributes["time"] = event.timestamp.isoformat()
    value = properties.get("revenue", properties.get("value"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        attributes["value"] = value
        if isinstance(properties.get("currency"), str):
            attributes["value_currency"] = properties["currency"]
    return {"data": {"type": "event", "attributes": attributes}}, notes


class _Notes(Action[KlaviyoSettings, tuple[str, Payload, list[str]]]):
    """Common ground of the actions below: a payload is (path, body, notes)."""

    def payload_notes(self, payload: tuple[str, Payload, list[str]]) -> list[str]:
        return payload[2]

    def payload_record(self, payload: tuple[str, Payload, list[str]]) -> Any:
        return {"path": payload[0], "body": payload[1]}

    async def perform(
        self, ctx: Context[KlaviyoSettings], payload: tuple[str, Payload, list[str]]
    ) -> None:
        await send(ctx, "POST", payload[0], payload[1])


class TrackEvent(_Notes):
    """A track call as a Klaviyo event of the same metric name."""

    name = "track_event"
    description = "Create a Klaviyo event (metric = the event name) on the user's profile."
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: KlaviyoSettings) -> tuple[str, Payload, list[str]]:
        assert isinstance(event, Track)
        body, notes = _event_body(event, settings, event.event, dict(event.properties))
        return "/api/events/", body, notes


class ViewedPage(_Notes):
    """A page or screen call as a ``Viewed Page`` / ``Viewed Screen`` event."""

    name = "viewed_page"
    description = "Create a Klaviyo 'Viewed Page' or 'Viewed Screen' event."
    subscribe = Subscription.of("page", "screen")

    def map(self, event: AnyMessage, settings: KlaviyoSettings) -> tuple[str, Payload, list[str]]:
        assert isinstance(event, (Page, Screen))
        properties: Payload = dict(event.properties)
        if event.name:
            properties.setdefault("name", event.name)
        page = event.context.get("page")
        if isinstance(event, Page) and isinstance(page, dict):
            for key in _PAGE_FIELDS:
                if key in page:
                    properties.setdefault(key, page[key])
        metric = "Viewed Page" if isinstance(event, Page) else "Viewed Screen"
        body, notes = _event_body(event, settings, metric, properties)
        return "/api/events/", body, notes


#: Why the identity calls Klaviyo has no request for are refused (recorded as the reason).
_REFUSED = {
    "group": "Klaviyo has no account or group object, so a group call is not sent",
    "alias": "Klaviyo merges profiles by email, phone and external_id itself; its merge call "
    "takes Klaviyo profile ids, not a previous user id, so an alias call is not sent",
}


class UpsertProfile(_Notes):
    """An identify call as a profile create-or-update; group and alias, which Klaviyo's API has
    no room for, are refused with the reason."""

    name = "upsert_profile"
    description = (
        "Create or update the Klaviyo profile with the user's traits (group and alias are "
        "refused: Klaviyo has no request for them)."
    )
    subscribe = Subscription.of("identify", "group", "alias")

    def map(self, event: AnyMessage, settings: KlaviyoSettings) -> tuple[str, Payload, list[str]]:
        if event.type in _REFUSED:
            raise SkipEvent(_REFUSED[event.type])
        assert isinstance(event, Identify)
        traits = event.traits
        attributes, notes = _profile(event, settings)
        used: set[str] = set(_IDENTIFIER_TRAITS)
        for name, sources in _PROFILE_TRAITS.items():
            source = next((s for s in sources if isinstance(traits.get(s), str)), None)
            if source is not None:
                attributes[name] = traits[source]
                used.update(sources)
        address = traits.get("address")
        if isinstance(address, dict):
            location = {k: address[v] for k, v in _LOCATION.items() if address.get(v) is not None}
            if location:
                attributes["location"] = location
        properties = {k: v for k, v in traits.items() if k not in used}
        if properties:
            attributes["properties"] = properties
        body = {"data": {"type": "profile", "attributes": attributes}}
        return "/api/profile-import/", body, notes


async def _test_authentication(ctx: Context[KlaviyoSettings]) -> None:
    await send(ctx, "GET", "/api/accounts/")


destination: Destination[KlaviyoSettings] = Destination(
    name=NAME,
    slug="klaviyo",
    kind=DestinationKind.EVENT,
    settings=KlaviyoSettings,
    # The list action comes first: a membership event is list membership, not a plain event.
    actions=[SyncList(), TrackEvent(), ViewedPage(), UpsertProfile()],
    description="Sends events and profiles to Klaviyo, and Engage audience and journey users "
    "to Klaviyo lists.",
    base_url=API_URL,
    headers=headers,
    authentication=Authentication(scheme="api_key", test=_test_authentication),
    api_version="Klaviyo REST API, revision 2026-10-15",
    docs_url="https://developers.klaviyo.com/en/reference/api_overview",
    notes=NOTES,
)
