"""Mixpanel: track calls imported as events, identify calls as user-profile ``$set`` updates.

API followed: Mixpanel Ingestion API (https://developer.mixpanel.com/reference/ingestion-api;
source: the ``mixpanel/docs`` OpenAPI ``ingestion.openapi.yaml``, "Import Events", "User
Profile Limits" and "400 Bad Request"), checked 2026-11:

- ``POST /import?strict=1`` (``&project_id=`` with a service account) takes a JSON array of
  ``{"event", "properties": {"time", "distinct_id", "$insert_id", ...}}``; at most 2,000 events
  per request; the size cap is 2 MB (the documented 413 says "request exceeds max limit of
  2097152 bytes"; a newer page says 10 MB: destkit keeps to 2 MB); ``time`` in s or ms since
  epoch, not before 1971-01-01 nor more than one hour in the future ("400 Bad Request":
  "Mixpanel rejects events dated before 1971-01-01 or more than one hour in the future,
  measured on Mixpanel's servers"; the future rule is checked on this machine's clock);
  fewer than 255 properties per event; ``$insert_id`` at most 36
  bytes of letters, digits and ``-`` (other message ids are hashed: the first 36 hex digits of
  their SHA-256, stable across retries); placeholder ids (``null``, ``anonymous``, ``0``...)
  are refused;
- authentication of ``/import``: a service account (HTTP Basic ``username:secret`` plus
  ``project_id``), the project's API secret (Basic, secret as username) or the project token
  (Basic, token as username);
- strict-mode ``400``: ``{"code": 400, "error", "failed_records": [{"index", "$insert_id" |
  "insert_id", "field", "message"}], "num_records_imported"}``: Mixpanel ingests the valid
  events, so only the named ones fail; ``401``/``403`` bad credentials; ``413`` too large
  (split); ``429`` rate limited (back off from 2 s, doubling to 60 s, with jitter);
  ``5xx`` retried;
- ``POST /engage?verbose=1`` (``#profile-set``) takes a JSON array of ``{"$token",
  "$distinct_id", "$set"}``, at most 2,000 updates per request; it answers ``200`` even for
  invalid data, with ``{"status": 1|0, "error"}``: a refused batch is bisected to find the
  refused updates (``$set`` is idempotent, so sending an update twice is harmless).

| event | request |
|---|---|
| track | ``POST /import?strict=1``: ``[{"event": name, "properties": {...}}]`` |
| track ``Audience Entered``/``Exited`` | same; ``properties``: ``{KEY: bool, "personas": {...}}`` |
| identify | ``POST /engage?verbose=1``: ``[{"$token", "$distinct_id", "$set": traits}]`` |
| page / screen | ``/import``: ``Viewed <name> Page``/``Screen`` with the page's properties |
| group | ``POST /groups`` ``$set`` traits, and ``/engage`` ``$union`` ``{group_key: [groupId]}`` |
| alias | ``/import``: ``$identify`` (simplified ID merge) or ``$merge`` (original) |
| track ``Order Completed``/``Product Purchased`` | the event, and ``/engage`` ``$append`` |
| identify with an audience/journey key | same; ``$set`` holds the key as a boolean |
| a journey exit (``j_o_`` key false) | refused with ``ListRemovalRefused`` (add-only) |

Event ``properties`` are the track properties plus ``time`` (ms), ``distinct_id`` (userId, else
anonymousId), ``$insert_id`` (the messageId), ``$user_id``, ``$device_id`` (anonymousId) and
``ip`` (``context.ip``); a profile update carries ``$distinct_id`` (userId, else anonymousId)
and ``$ip`` (``context.ip``).

Traits ``email``, ``phone``, ``name``, ``firstName``/``first_name``, ``lastName``/``last_name``,
``avatar`` and ``createdAt``/``created`` become Mixpanel's reserved ``$email``, ``$phone``,
``$name``, ``$first_name``, ``$last_name``, ``$avatar``, ``$created``.

Residency: ``us`` -> ``https://api.mixpanel.com``, ``eu`` -> ``https://api-eu.mixpanel.com``,
``in`` -> ``https://api-in.mixpanel.com``. The Ingestion API has no credentials-check call, so
there is no ``test_authentication``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.mixpanel._api import (
    BASE_URLS,
    ENVELOPE_BYTES,
    MAX_REQUEST_BYTES,
    MAX_UPDATES,
    RESERVED_TRAITS,
    MixpanelSettings,
    engage,
    result_of,
)
from connectors.mixpanel._calls import (
    AliasEvent,
    GroupProfile,
    ViewedPage,
    transaction_of,
)
from connectors.mixpanel._event import (
    EventFields,
    Identity,
    ImportAction,
    MixpanelEvent,
    event_of,
    identity_of,
    insert_id,
)
from connectors.mixpanel._notes import NOTES
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    BatchResult,
    Context,
    Destination,
    DestinationKind,
    Identify,
    InvalidEvent,
    RetryPolicy,
    Subscription,
    Track,
    membership_values,
)
from sdk.mapping import ORDER_EVENTS, LooseNumber, first_of, mapped

__all__ = ["MixpanelSettings", "destination", "insert_id"]


class ImportFields(EventFields):
    """The fields of an imported Mixpanel event."""

    event: str = mapped("$.event", required=True, description="The event name.")
    properties: dict[str, Any] = mapped("$.properties", default_factory=dict)
    amount: LooseNumber = mapped(
        first_of("$.properties.revenue", "$.properties.total", "$.properties.value"),
        description="Order Completed / Product Purchased: the $transactions $amount.",
    )


class ProfileFields(Identity):
    """The fields of a Mixpanel profile ``$set``."""

    traits: dict[str, Any] = mapped(
        "$.traits", default_factory=dict, description="Sent as $set (Segment's names reserved)."
    )


class ImportEvent(ImportAction):
    """A track call imported as a Mixpanel event (``/import``, strict mode)."""

    name = "import_event"
    description = "Import a track call as a Mixpanel event (POST /import, strict mode)."
    subscribe = Subscription.of("track")
    fields = ImportFields

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> MixpanelEvent:
        assert isinstance(event, Track)
        fields: ImportFields = self.resolve(event)
        properties = dict(fields.properties)
        _values, membership = membership_values(event)
        if membership is not None:
            properties[membership.key] = membership.member
            properties["personas"] = membership.personas.to_dict()
        imported = event_of(fields, fields.event, properties)
        if fields.event in ORDER_EVENTS:
            return transaction_of(imported, settings, fields.amount, fields.time)
        return imported


class SetProfile(Action[MixpanelSettings, dict[str, Any]]):
    """An identify call ``$set``s the traits on the user's Mixpanel profile (``/engage``)."""

    name = "set_profile"
    description = "Set user-profile properties from an identify call (POST /engage, $set)."
    subscribe = Subscription.of("identify")
    fields = ProfileFields
    batch = BatchLimits(max_events=MAX_UPDATES, max_bytes=MAX_REQUEST_BYTES - ENVELOPE_BYTES)

    def map(self, event: AnyMessage, settings: MixpanelSettings) -> dict[str, Any]:
        assert isinstance(event, Identify)
        fields: ProfileFields = self.resolve(event)
        distinct_id, _user_id, _anonymous_id = identity_of(fields)
        traits = dict(fields.traits)
        _values, membership = membership_values(event)
        if membership is not None:
            traits[membership.key] = membership.member
        # context.personas has no room on a profile: the next computation would overwrite
        # it. The key itself is the profile property.
        for reserved, names in RESERVED_TRAITS:
            for name in names:
                if name in traits:
                    value = traits.pop(name)
                    traits.setdefault(reserved, value)
        first, last = traits.get("$first_name"), traits.get("$last_name")
        if "$name" not in traits and (isinstance(first, str) or isinstance(last, str)):
            parts = [p for p in (first, last) if isinstance(p, str) and p.strip()]
            if parts:
                traits["$name"] = " ".join(parts)  # Mixpanel shows $name on the profile
        if not traits:
            raise InvalidEvent("traits", "is empty: a Mixpanel profile update needs a property")
        update: dict[str, Any] = {
            "$token": settings.project_token.get_secret_value(),
            "$distinct_id": distinct_id,
            "$set": traits,
        }
        if fields.ip:
            update["$ip"] = fields.ip
        return update

    async def perform(self, ctx: Context[MixpanelSettings], payload: dict[str, Any]) -> None:
        errors = await engage(ctx, [payload])
        if 0 in errors:
            raise errors[0]

    async def perform_batch(
        self, ctx: Context[MixpanelSettings], payloads: Sequence[dict[str, Any]]
    ) -> BatchResult | None:
        return result_of(len(payloads), await engage(ctx, payloads))


destination: Destination[MixpanelSettings] = Destination(
    name="Mixpanel",
    slug="mixpanel",
    kind=DestinationKind.EVENT,
    settings=MixpanelSettings,
    actions=[
        ImportEvent(),
        SetProfile(),
        ViewedPage(),
        GroupProfile(),
        AliasEvent(),
    ],
    description="Imports track, page and screen calls as Mixpanel events (/import, strict "
    "mode; orders append $transactions), sets user-profile properties from identify calls "
    "(/engage $set), group profiles from group calls (/groups) and merges ids on alias.",
    base_url=lambda s: BASE_URLS[s.region],
    authentication=Authentication(scheme="basic"),
    # Mixpanel: back off from 2 s, doubling up to 60 s, with 1-5 s of jitter.
    retry=RetryPolicy(
        max_attempts=6, max_elapsed=180.0, initial_backoff=2.0, max_backoff=60.0, jitter=5.0
    ),
    api_version="Mixpanel Ingestion API (POST /import strict mode, /engage, /groups)",
    docs_url="https://developer.mixpanel.com/reference/import-events",
    notes=NOTES,
)
