"""Braze: identify calls update user profiles (attributes), track calls record custom events,
both through ``POST /users/track``, batched.

API followed: Braze REST API, Track users ``POST /users/track``
(https://www.braze.com/docs/api/endpoints/user_data/post_user_track/), checked 2026-11, with the
user attributes, event and user alias objects (https://www.braze.com/docs/api/objects_filters/),
errors (https://www.braze.com/docs/api/errors/) and rate limits
(https://www.braze.com/docs/api/api_limits/):

- ``Authorization: Bearer <REST API key>`` (the key needs the ``users.track`` permission); the
  base URL is the instance's REST endpoint (``https://rest.iad-01.braze.com`` ...).
- A request holds up to 75 attributes, 75 events and 75 purchases objects. This connector sends
  at most 75 objects per request *in all* (attributes and events together), which is within the
  documented per-array limits and within the older "75 objects per request" reading.
- 3,000 requests per three seconds (1,000/s) per workspace; a ``429`` carries
  ``X-RateLimit-Reset`` (epoch seconds).
- Every object names its user by ``external_id`` or ``user_alias``. Users without a ``userId``
  get ``{"alias_name": anonymousId, "alias_label": alias_label}``; their attributes objects carry
  ``"_update_existing_only": false`` so Braze creates the alias-only profile (events sent to an
  alias are always "update only" in Braze).
- A ``201`` ``{"message": "success", "errors": [{"type", "input_array", "index"}]}`` is a partial
  success: "any data not affected by an error in the errors array will still be processed"
  (Track users, "Successful message with non-fatal errors"). ``index`` counts within
  ``input_array`` (``attributes`` or ``events``). An event object named there is not recorded:
  that event fails. An attributes object named there had the rest of its attributes applied,
  so when the error's ``type`` names one of the attributes sent (``'gender' is not valid``) the
  identify counts as delivered, and the refused attribute is noted in its lifecycle's ``notes``
  (and logged as a warning; the recorded response keeps the error); an error that names the
  object's identity (``external_id``/``user_alias``/``braze_id``) or no attribute of it fails
  the identify.
  ``202`` ``{"message": "queued"}`` is accepted.

| event | request |
|---|---|
| identify | ``POST /users/track``: ``{"attributes": [{"external_id", ...traits}]}`` |
| identify with a journey/audience key | the key as a boolean custom attribute |
| track (``Audience Entered``/``Exited`` too) | ``{"events": [{"external_id", "name", ...}]}`` |
| track / identify, batched | one ``/users/track`` with both arrays, 75 objects in all |
| exit of a journey step (``j_o_`` key false) | refused (``ListRemovalRefused``), never sent |
| test_authentication | ``POST /users/track`` ``{}``: a ``400`` "no data" = key accepted |

An event object is ``{"external_id", "name", "time" (ISO 8601), "app_id"?, "properties"}``.

Traits map to Braze's standard attributes where Segment's spec names them (``firstName`` ->
``first_name``, ``lastName`` -> ``last_name``, ``birthday`` -> ``dob``, ``avatar`` -> ``image_url``,
``address.city`` -> ``home_city``, ``address.country`` -> ``country``); every other trait is a
custom attribute of the same name. Membership track events also carry ``context.personas`` as
the event property ``personas``.

Two standard attributes take only some values (user attributes object, "Braze user profile
fields"): ``gender`` is "M", "F", "O" (other), "N" (not applicable), "P" (prefer not to say) or
null (unknown), and ``country`` is an ISO-3166-1 alpha-2 code. Segment's free-form ``gender``
(``male``, ``Female``, ``non-binary``, ``prefer not to say``...) is converted to those letters; a
value that is none of them (``unknown`` included: the REST object has no letter for it) is left
out rather than sent as a custom attribute (``gender`` is a reserved name, and another name
would be a guess). A ``country`` that is a 2-letter code (``us``, ``U.S.``, ``UK`` -> ``GB``) is
sent upper-cased; anything else (a country name) is left out. Either way the lifecycle
payload's ``dropped`` names the trait and why (never its value), and so does a note in the
lifecycle's ``notes``. ``null`` passes through: it
removes the attribute, as Braze documents.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from connectors.braze._api import BrazeSettings, auth_headers, braze_error, post, rest_base_url
from connectors.braze._notes import NOTES
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
    InvalidIdentifier,
    PayloadValidationError,
    Subscription,
    Track,
    membership_values,
)
from sdk.connector import normalize_country
from sdk.mapping import mapped

__all__ = ["BrazeObject", "BrazeTrackSettings", "destination"]

log = logging.getLogger(__name__)

#: Objects per ``/users/track`` request, all arrays together (see the module docstring).
MAX_OBJECTS = 75
#: Braze: property and attribute names are 1-255 characters with no leading ``$``.
MAX_NAME_LENGTH = 255
_RENAMED_TRAITS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "birthday": "dob",
    "avatar": "image_url",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Segment's free-form gender -> Braze's letters ("M", "F", "O", "N", "P"; null is unknown).
_GENDERS = {
    "m": "M",
    "male": "M",
    "man": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "o": "O",
    "other": "O",
    "non binary": "O",
    "nonbinary": "O",
    "n": "N",
    "not applicable": "N",
    "p": "P",
    "prefer not to say": "P",
}
_BRAZE_GENDERS = "M, F, O, N, P"
#: Keys of an attributes object that name its user: an error about one fails the identify.
_IDENTITY_KEYS = frozenset({"external_id", "user_alias", "braze_id"})
_QUOTED = re.compile(r"'([^']+)'")
Array = Literal["attributes", "events"]


class BrazeTrackSettings(BrazeSettings):
    """Settings of the Braze destination."""

    app_id: str | None = Field(
        default=None,
        description="Optional app identifier (Settings > APIs and Identifiers) added to events.",
    )


@dataclass(frozen=True, slots=True)
class BrazeObject:
    """One object of a ``/users/track`` request: which array it goes in, and its body."""

    array: Array
    body: dict[str, Any]
    #: Traits left out of the body (name -> why), shown in the lifecycle record only.
    dropped: dict[str, str] = dataclasses.field(default_factory=dict)


class BrazeFields(BaseModel):
    """The fields of a ``/users/track`` object: who (``external_id``, else a user alias), and
    an identify's attributes or a track's event."""

    external_id: str | None = mapped("$.userId", description="The Braze external_id.")
    alias_name: str | None = mapped(
        "$.anonymousId", description="A user alias (with alias_label) when there is no userId."
    )
    attributes: dict[str, Any] = mapped(
        "$.traits",
        default_factory=dict,
        description="identify: user attributes (Segment's names become Braze's standard ones).",
    )
    name: str | None = mapped("$.event", description="track: the custom event's name.")
    time: datetime | None = mapped("$.timestamp", description="track: sent as ISO 8601.")
    properties: dict[str, Any] = mapped(
        "$.properties", default_factory=dict, description="track: the event's properties."
    )


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _check_names(values: Mapping[str, Any], where: str, what: str) -> None:
    for name in values:
        if not name or len(name) > MAX_NAME_LENGTH or name.startswith("$"):
            shown = name[:40] + ("..." if len(name) > 40 else "")
            raise InvalidEvent(
                f"{where}.{shown}",
                f"Braze {what} names must be 1-{MAX_NAME_LENGTH} characters and not start with $",
            )


def _identity(fields: BrazeFields, settings: BrazeSettings) -> dict[str, Any]:
    if fields.external_id:
        return {"external_id": fields.external_id}
    if not fields.alias_name:  # parsing guarantees one with the default mappings
        raise InvalidEvent("external_id", "Braze needs external_id or alias_name")
    return {"user_alias": {"alias_name": fields.alias_name, "alias_label": settings.alias_label}}


def _gender(value: Any) -> str | None:
    """Braze's gender letter for a Segment gender, or ``None`` when there is none."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    return _GENDERS.get(text)


def _country(value: Any) -> str | None:
    """An ISO-3166-1 alpha-2 code, upper-cased as Braze's examples write it (``GB``)."""
    if not isinstance(value, str):
        return None
    try:
        return normalize_country(value).upper()
    except InvalidIdentifier:
        return None


def _attributes(traits: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Traits as Braze attributes (Segment's spec names become Braze's standard attributes),
    and the traits left out because Braze's standard field would not take them."""
    attributes: dict[str, Any] = {}
    dropped: dict[str, str] = {}

    def put(source: str, target: str, value: Any) -> None:
        if value is not None and target == "gender":
            letter = _gender(value)
            if letter is None:
                dropped[source] = f"not a gender Braze takes ({_BRAZE_GENDERS}): left out"
                return
            value = letter
        elif value is not None and target == "country":
            code = _country(value)
            if code is None:
                dropped[source] = "not an ISO-3166-1 alpha-2 country code: left out"
                return
            value = code
        attributes[target] = value

    for name, value in traits.items():
        if name == "address" and isinstance(value, Mapping):
            if value.get("city") is not None:
                attributes["home_city"] = value["city"]
            if value.get("country") is not None:
                put("address.country", "country", value["country"])
            continue
        target = _RENAMED_TRAITS.get(name, name)
        if target == "dob" and isinstance(value, str) and _DATE.match(value):
            value = value[:10]  # Braze's dob is YYYY-MM-DD
        put(name, target, value)
    return attributes, dropped


class TrackUsers(Action[BrazeTrackSettings, BrazeObject]):
    """Identify -> an attributes object; track -> an event object; sent through /users/track."""

    name = "track_users"
    description = (
        "Send identify calls as user attributes and track calls as custom events through "
        "/users/track, up to 75 objects per request."
    )
    subscribe = Subscription.of("track", "identify")
    fields = BrazeFields
    # Attributes and events share requests (one batch key), so the limit counts both.
    batch = BatchLimits(max_events=MAX_OBJECTS)

    def map(self, event: AnyMessage, settings: BrazeTrackSettings) -> BrazeObject:
        assert isinstance(event, (Track, Identify))
        # Journey-step exits never get here: the runtime refuses them (journeys are add-only).
        fields: BrazeFields = self.resolve(event)
        _values, membership = membership_values(event)
        identity = _identity(fields, settings)
        if isinstance(event, Identify):
            _check_names(fields.attributes, "traits", "attribute")
            values = dict(fields.attributes)
            if membership is not None:
                values[membership.key] = membership.member  # the key as a boolean
            attributes, dropped = _attributes(values)
            body = {**attributes, **identity}
            if "user_alias" in identity:
                body["_update_existing_only"] = False
            return BrazeObject("attributes", body, dropped)
        _check_names(fields.properties, "properties", "event property")
        properties = dict(fields.properties)
        if membership is not None:
            properties[membership.key] = membership.member
            properties["personas"] = membership.personas.to_dict()
        if not fields.name or fields.time is None:
            raise InvalidEvent("name" if not fields.name else "time", "is required by Braze")
        body = {**identity, "name": fields.name, "time": _iso(fields.time)}
        if settings.app_id:
            body["app_id"] = settings.app_id
        if properties:
            body["properties"] = properties
        return BrazeObject("events", body)

    def payload_notes(self, payload: BrazeObject) -> list[str]:
        return [f"trait {name}: {why}" for name, why in payload.dropped.items()]

    def payload_record(self, payload: BrazeObject) -> Any:
        if payload.dropped:
            return {payload.array: payload.body, "dropped": payload.dropped}
        return {payload.array: payload.body}

    async def perform(self, ctx: Context[BrazeTrackSettings], payload: BrazeObject) -> None:
        result = await _track(ctx, [payload])
        for text in result.notes.get(0, []):
            ctx.note(text)
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[BrazeTrackSettings], payloads: Sequence[BrazeObject]
    ) -> BatchResult:
        return await _track(ctx, payloads)


async def _track(ctx: Context[BrazeTrackSettings], payloads: Sequence[BrazeObject]) -> BatchResult:
    body: dict[str, list[dict[str, Any]]] = {}
    # Braze counts ``index`` within each input array: remember where each object came from.
    positions: dict[str, list[int]] = {}
    for number, payload in enumerate(payloads):
        body.setdefault(payload.array, []).append(payload.body)
        positions.setdefault(payload.array, []).append(number)
    response = await post(ctx, "/users/track", body)
    result = BatchResult(len(payloads))
    data = response.data if isinstance(response.data, Mapping) else {}
    errors = data.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, Mapping):
            continue
        array, index = error.get("input_array"), error.get("index")
        slots = positions.get(array) if isinstance(array, str) else None
        if slots is None or not isinstance(index, int) or not 0 <= index < len(slots):
            continue  # not attributable to one event; the recorded response shows it
        kind = ctx.redactor.text(" ".join(str(error.get("type", "rejected")).split()))[:200]
        number = slots[index]
        refused = _refused_attribute(payloads[number], kind)
        if refused is not None:
            # Braze processed the rest of this attributes object ("any data not affected by
            # an error ... will still be processed"): the identify was applied but for one
            # attribute, so it is not failed; its note and the recorded response say so.
            note = f"Braze applied {array}[{index}] except the attribute {refused}: {kind}"
            result.note(number, note)
            log.warning("%s: %s", ctx.destination.slug, note)
            continue
        result.fail(
            number,
            PayloadValidationError(
                f"Braze rejected {array}[{index}]: {kind}", status=response.status_code
            ),
        )
    return result


def _refused_attribute(payload: BrazeObject, kind: str) -> str | None:
    """The one attribute of an attributes object that a non-fatal error is about, if its
    ``type`` quotes one that was sent (and not the object's identity); else ``None``."""
    if payload.array != "attributes":
        return None
    named = set(_QUOTED.findall(kind))
    if not named or named & _IDENTITY_KEYS:
        return None
    sent = [name for name in named if name in payload.body]
    return sent[0] if len(sent) == 1 and len(named) == 1 else None


async def _test_authentication(ctx: Context[BrazeTrackSettings]) -> None:
    # Braze has no "who am I" endpoint. An empty /users/track is refused with 400 ("Valid data
    # must be provided ...") once the key is accepted, and with 401 when it is not; it needs
    # only the users.track permission the connector needs anyway, and writes nothing.
    response = await ctx.http.post("/users/track", json={}, raise_for_status=False)
    if response.status_code == 400:
        return
    error = braze_error(response, ctx.redactor)
    if error is not None:
        raise error


destination: Destination[BrazeTrackSettings] = Destination(
    name="Braze",
    slug="braze",
    kind=DestinationKind.EVENT,
    settings=BrazeTrackSettings,
    actions=[TrackUsers()],
    description="Identify -> user attributes, track -> custom events, via Braze /users/track.",
    base_url=rest_base_url,
    headers=auth_headers,
    authentication=Authentication(scheme="bearer", test=_test_authentication),
    rate_limit=1000.0,  # 3,000 requests per three seconds
    api_version="Braze REST API, POST /users/track (checked 2026-11)",
    docs_url="https://www.braze.com/docs/api/endpoints/user_data/post_user_track/",
    notes=NOTES,
)
