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
| page / screen | an event ``Viewed <name> Page``/``Screen`` (``Loaded a Page``/``Screen``) |
| group | the attribute ``ab_segment_group_<groupId>: true`` (Braze's Segment integration) |
| alias | ``POST /users/identify`` (or ``/users/alias/new``: the ``alias_merge`` setting) |
| track ``Order Completed``/``Product Purchased`` | the event, and a purchase object a product |
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

from datetime import datetime
from typing import Any

from connectors.braze._api import auth_headers, braze_error, rest_base_url
from connectors.braze._attributes import attributes_of, check_names, iso
from connectors.braze._calls import (
    AliasUser,
    BrazeTrackAction,
    BrazeTrackSettings,
    BrazeWho,
    GroupUser,
    ViewedPage,
    identity_of,
    purchases_of,
)
from connectors.braze._notes import NOTES
from connectors.braze._track import MAX_OBJECTS, BrazeObject
from sdk import (
    AnyMessage,
    Authentication,
    Context,
    Destination,
    DestinationKind,
    Identify,
    InvalidEvent,
    Subscription,
    Track,
    membership_values,
)
from sdk.mapping import ORDER_EVENTS, LooseText, each, first_of, mapped

__all__ = ["MAX_OBJECTS", "BrazeObject", "BrazeTrackSettings", "destination"]

#: Track events whose products become Braze purchase objects.


class BrazeFields(BrazeWho):
    """The fields of a ``/users/track`` object: who (``external_id``, else a user alias), and
    an identify's attributes or a track's event (and an order's products)."""

    attributes: dict[str, Any] = mapped(
        "$.traits",
        default_factory=dict,
        description="identify: user attributes (Segment's names become Braze's standard ones).",
    )
    language: LooseText = mapped(
        "$.context.locale",
        description="identify: Braze's language (ISO-639-1) when the traits have none.",
    )
    name: str | None = mapped("$.event", description="track: the custom event's name.")
    time: datetime | None = mapped("$.timestamp", description="track: sent as ISO 8601.")
    properties: dict[str, Any] = mapped(
        "$.properties", default_factory=dict, description="track: the event's properties."
    )
    products: list[dict[str, Any]] = mapped(
        each(
            "$.properties.products",
            {
                "product_id": first_of("@.product_id", "@.sku", "@.id"),
                "price": "@.price",
                "quantity": "@.quantity",
                "name": "@.name",
                "category": "@.category",
            },
        ),
        default_factory=list,
        description="Order Completed / Product Purchased: one Braze purchase each.",
    )
    currency: Any = mapped(
        "$.properties.currency",
        description="The purchases' currency, ISO 4217 (USD when absent).",
    )


class TrackUsers(BrazeTrackAction):
    """Identify -> an attributes object; track -> an event object (an order's products ->
    purchase objects too); sent through /users/track."""

    name = "track_users"
    description = (
        "Send identify calls as user attributes and track calls as custom events (an order's "
        "products as purchases too) through /users/track, up to 75 objects per request."
    )
    subscribe = Subscription.of("track", "identify")
    fields = BrazeFields

    def map(self, event: AnyMessage, settings: BrazeTrackSettings) -> BrazeObject:
        assert isinstance(event, (Track, Identify))
        # Journey-step exits never get here: the runtime refuses them (journeys are add-only).
        fields: BrazeFields = self.resolve(event)
        _values, membership = membership_values(event)
        identity = identity_of(fields, settings)
        if isinstance(event, Identify):
            check_names(fields.attributes, "traits", "attribute")
            values = dict(fields.attributes)
            if membership is not None:
                values[membership.key] = membership.member  # the key as a boolean
            attributes, dropped = attributes_of(values)
            if "language" not in attributes and fields.language is not None:
                more, _ = attributes_of({"language": fields.language})
                attributes.update(more)  # a locale that is no language is not a trait: no note
            body = {**attributes, **identity}
            if "user_alias" in identity:
                body["_update_existing_only"] = False
            return BrazeObject("attributes", body, dropped)
        check_names(fields.properties, "properties", "event property")
        properties = dict(fields.properties)
        if membership is not None:
            properties[membership.key] = membership.member
            properties["personas"] = membership.personas.to_dict()
        if not fields.name or fields.time is None:
            raise InvalidEvent("name" if not fields.name else "time", "is required by Braze")
        body = {**identity, "name": fields.name, "time": iso(fields.time)}
        if settings.app_id:
            body["app_id"] = settings.app_id
        if properties:
            body["properties"] = properties
        if fields.name not in ORDER_EVENTS:
            return BrazeObject("events", body)
        products = fields.products
        if not products and fields.name == "Product Purchased":
            products = [_product(fields.properties)]
        base = {k: v for k, v in body.items() if k not in ("name", "properties")}
        purchases, notes = purchases_of(products, fields.currency, base)
        return BrazeObject("events", body, purchases=tuple(purchases), notes=tuple(notes))


def _product(properties: dict[str, Any]) -> dict[str, Any]:
    """A ``Product Purchased`` call's properties as one product."""
    product = dict(properties)
    for key in ("sku", "id"):
        if product.get("product_id") is None and product.get(key) is not None:
            product["product_id"] = product[key]
    product.pop("currency", None)
    return product


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
    actions=[TrackUsers(), ViewedPage(), GroupUser(), AliasUser()],
    description="Identify -> user attributes, track/page/screen -> custom events (orders -> "
    "purchases), group -> an attribute, alias -> /users/identify, via the Braze REST API.",
    base_url=rest_base_url,
    headers=auth_headers,
    authentication=Authentication(scheme="bearer", test=_test_authentication),
    rate_limit=1000.0,  # 3,000 requests per three seconds
    api_version="Braze REST API, POST /users/track, /users/identify, /users/alias/new "
    "(checked 2026-11)",
    docs_url="https://www.braze.com/docs/api/endpoints/user_data/post_user_track/",
    notes=NOTES,
)
