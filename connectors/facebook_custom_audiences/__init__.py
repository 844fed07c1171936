"""Facebook Custom Audiences: add and remove users of an Engage audience or journey step on a
Meta customer-file custom audience, matched on hashed identifiers.

API followed: Meta Marketing API, Graph API ``v25.0``, Custom Audience Users edge
(https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users), checked
2026-11, with "Customer File Custom Audiences" (hashing and normalising rules), "Handling Errors"
(https://developers.facebook.com/docs/graph-api/guides/error-handling) and "Marketing API Rate
Limiting". What the connector relies on:

- ``POST /{version}/{audience_id}/users`` adds users, ``DELETE`` on the same edge removes them;
  parameters ``payload`` (``{"schema": [...keys], "data": [[value, ...], ...]}``, one row per
  user, ``""`` where a key has no value, as Meta's multi-key example shows), ``session``
  (``session_id``, ``batch_seq``, ``last_batch_flag``, ``estimated_num_total``) and the
  ``access_token`` (sent in the JSON body, never in the URL); ``appsecret_proof`` when an app
  secret is set. "Only a maximum of 10000 at a time".
- One upload session per batch the runtime hands over (up to 10,000 users of one audience and
  one operation), sent in requests of ``batch_size`` users. Every request of the session
  carries the same ``session_id``, ``batch_seq`` 1, 2, 3... in order, ``last_batch_flag: true``
  on the last request only, and ``estimated_num_total`` = the users in the whole session (the
  session fields of the users edge; the sessions edge, ``/{audience_id}/sessions``, reports
  ``num_received``/``num_invalid_entries`` per ``session_id``). The ``session_id`` is a
  positive 63-bit hash of the operation, the audience id and the batch's message ids: a retry
  of the same batch reuses it, while any other upload (the same user removed, then added
  again, or a later batch) gets a new one. When request k > 1 of a session fails, the users of
  requests 1..k-1 stay delivered and those of k and after fail with that error (retried, when
  retryable, as a new session of their own).
- The answer: ``{"audience_id", "session_id", "num_received", "num_invalid_entries",
  "invalid_entry_samples": {string: string}}``. Invalid entries are not lost: a row whose value
  appears among the samples (or every row when all were invalid, or the one row of a single-user
  call) fails with ``PayloadValidationError``; a count that cannot be pinned on a row is logged as
  a warning and stays visible in the recorded response.
- Errors ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", ...}}``:
  102/190 (and subcodes 458-467) -> ``InvalidAuthentication``; 3, 10, 200-299 (permissions) ->
  ``InvalidAuthentication``; 4, 17, 32, 341, 613 and the business-use-case codes 80000-80014
  (80003 is the custom audience one) -> ``RateLimited``, waiting ``Retry-After`` or
  ``X-Business-Use-Case-Usage``'s ``estimated_time_to_regain_access`` (minutes); 1, 2, 368 and
  ``is_transient: true`` -> ``RetryableError``; 100 -> ``PayloadValidationError`` naming the
  parameter; anything else by its HTTP status.

Identifiers, normalised as Meta asks (``sdk.connector``'s identifier helpers) and SHA-256
hashed except MADID and EXTERN_ID: EMAIL, PHONE (digits with country code, no ``+``), FN, LN, CT,
ST, ZIP, COUNTRY, GEN,
DOBY/DOBM/DOBD (from an ISO ``birthday``), MADID (``context.device.advertisingId``) and EXTERN_ID
(the ``userId``). A phone written without a calling code takes the user's own country
(``traits.address.country``, ``context.location.country``), else ``phone_country_code``. An
identifier that cannot be normalised is left out, named in the payload's ``skipped`` and noted
in the lifecycle (field and rule); a user with no usable identifier is refused before any
request. The list plumbing (which audience, add/remove, add-only journeys, notes) is
``sdk.connector.ListAction``; this module keeps Meta's API calls, ``_graph`` its answers.

Which audience: ``audience_map`` (computation key -> custom audience id) first, else
``audience_id`` (one audience for every key). Neither the step key nor ``context.personas`` has
a place in the users edge: the key only chooses the audience.

| event | request |
|---|---|
| track ``Audience Entered`` / identify ``{KEY: true}`` | ``POST /{v}/{audience_id}/users`` |
| track ``Audience Exited`` / identify ``{KEY: false}`` | ``DELETE /{v}/{audience_id}/users`` |
| exit from a journey step (``j_o_`` key) | none: ``ListRemovalRefused`` (add-only) |
| batched | one call per audience and add/remove, ``batch_size`` (10,000) users |
| test_authentication | ``GET /{v}/{audience_id}?fields=id,name`` (``/{v}/me`` with a map) |
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from connectors.facebook_custom_audiences._graph import (
    graph_error,
    graph_error_body,
    invalid_entries,
)
from connectors.facebook_custom_audiences._notes import NOTES
from sdk import (
    BatchLimits,
    BatchResult,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    InvalidIdentifier,
)
from sdk.connector import (
    Authentication,
    IdentifierKind,
    ListAction,
    ListMember,
    ListUser,
    Skipped,
    check_list_id,
    check_list_map,
    hasher,
    normalize,
    normalize_and_hash,
    normalize_date_of_birth,
    sha256_hex,
)

__all__ = ["FacebookCustomAudiencesSettings", "destination"]

GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"
#: "You can add an unlimited number of records for an audience, but only a maximum of 10000 at
#: a time" (Custom Audience Users reference).
MAX_USERS_PER_REQUEST = 10_000
#: Users in one upload session (one batch of the runtime, whose contract holds a batch to the
#: vendor's per-request maximum): requests of ``batch_size`` users share its session.
MAX_USERS_PER_SESSION = MAX_USERS_PER_REQUEST

MatchKey = Literal[
    "EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY", "GEN", "DOBY", "DOBM", "DOBD",
    "MADID", "EXTERN_ID",
]  # fmt: skip
#: Meta's schema keys, in the order a request lists them.
SCHEMA_ORDER: tuple[MatchKey, ...] = (
    "EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY", "GEN", "DOBY", "DOBM", "DOBD",
    "MADID", "EXTERN_ID",
)  # fmt: skip
#: Meta schema key -> the identifier it comes from, and its kind (the DOB parts come apart).
_KEYS: tuple[tuple[MatchKey, str, IdentifierKind], ...] = (
    ("EMAIL", "email", IdentifierKind.EMAIL),
    ("FN", "first_name", IdentifierKind.FIRST_NAME),
    ("LN", "last_name", IdentifierKind.LAST_NAME),
    ("CT", "city", IdentifierKind.CITY),
    ("ST", "state", IdentifierKind.STATE),
    ("COUNTRY", "country", IdentifierKind.COUNTRY),
    ("GEN", "gender", IdentifierKind.GENDER),
    ("MADID", "mobile_ad_id", IdentifierKind.MOBILE_AD_ID),
    ("EXTERN_ID", "user_id", IdentifierKind.EXTERNAL_ID),
)
_DOB_KEYS: tuple[MatchKey, ...] = ("DOBY", "DOBM", "DOBD")
#: The identifiers of ``_KEYS`` that ``user_identifiers`` lists earlier than ``_KEYS`` does.
_LAST = ("mobile_ad_id", "user_id")
Hasher = Callable[[str], str]
#: A member's record: Meta schema key -> the normalised (and, but for MADID/EXTERN_ID, hashed)
#: value.
Row = dict[str, str]
AudienceMember = ListMember[Row]


class FacebookCustomAudiencesSettings(DestinationSettings):
    """Settings of the Facebook Custom Audiences destination."""

    access_token: SecretStr = Field(
        description="System user access token with the ads_management permission."
    )
    audience_id: str | None = Field(
        default=None,
        description="Customer-file custom audience that receives every key without an "
        "audience_map entry.",
    )
    audience_map: dict[str, str] = Field(
        default_factory=dict,
        description="Computation key (audience key or journey step key) -> custom audience id.",
    )
    api_version: str = Field(
        default=DEFAULT_API_VERSION,
        pattern=r"^v[0-9]+\.[0-9]+$",
        description="Graph API version, like v25.0.",
    )
    app_secret: SecretStr | None = Field(
        default=None,
        description="App secret; when set, every call carries an appsecret_proof.",
    )
    match_keys: list[MatchKey] = Field(
        default_factory=lambda: list(SCHEMA_ORDER),
        min_length=1,
        description="Meta schema keys to send when the user has them.",
    )
    phone_country_code: str | None = Field(
        default=None,
        pattern=r"^\+?[1-9][0-9]{0,2}$",
        description="Country calling code for phone numbers written without one (like 1).",
    )
    batch_size: int = Field(
        default=MAX_USERS_PER_REQUEST,
        ge=1,
        le=MAX_USERS_PER_REQUEST,
        description="Users per request (Meta takes at most 10,000); the requests of one "
        "upload session share its session_id.",
    )

    @cached_property
    def match_keys_set(self) -> frozenset[str]:
        """``match_keys`` as a set, built once per settings rather than once per event."""
        return frozenset(self.match_keys)

    @cached_property
    def key_plan(
        self,
    ) -> tuple[dict[str, tuple[str, Hasher]], tuple[tuple[str, str, Hasher], ...]]:
        """The simple keys wanted, built once per settings and called once per user:
        identifier -> ``(schema key, normalise-and-hash)`` for those ``user_identifiers``
        lists in ``_KEYS``' order, and ``(identifier, schema key, normalise-and-hash)`` for the
        two it lists earlier than ``_KEYS`` does (MADID, EXTERN_ID), added after the rest."""
        wanted = self.match_keys_set
        keys = [(key, source, hasher(kind)) for key, source, kind in _KEYS if key in wanted]
        in_order = {source: (key, run) for key, source, run in keys if source not in _LAST}
        last = tuple((source, key, run) for key, source, run in keys if source in _LAST)
        return in_order, last

    @field_validator("audience_id")
    @classmethod
    def _audience_id_digits(cls, value: str | None) -> str | None:
        return check_list_id(value, "custom audience id")

    @field_validator("audience_map")
    @classmethod
    def _audience_map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return check_list_map(
            value,
            info.data.get("audience_id"),
            what="custom audience id",
            default_setting="audience_id",
        )


class SyncAudience(ListAction[FacebookCustomAudiencesSettings, Row]):
    """Add entering users to the custom audience, remove exiting ones (audiences only)."""

    name = "sync_audience"
    description = (
        "Add users entering an audience or journey step to a Meta custom audience; remove "
        "users leaving an audience."
    )
    list_setting = "audience_id"
    map_setting = "audience_map"
    record_list_as = "audience_id"

    def batch_limits(self, settings: FacebookCustomAudiencesSettings) -> BatchLimits:
        # One batch is one upload session, sent in requests of ``batch_size`` users.
        return BatchLimits(max_events=MAX_USERS_PER_SESSION)

    def identifiers(
        self, user: ListUser, settings: FacebookCustomAudiencesSettings, skipped: Skipped
    ) -> Row | None:
        """Meta's row: each wanted key the user has, normalised and hashed as Meta asks."""
        wanted = settings.match_keys_set
        found = user.found
        row: Row = {}
        in_order, last = settings.key_plan
        # The user's identifiers come in user_identifiers' order: _KEYS' order but for the
        # two ids _KEYS puts last, added after the rest (the row keeps _KEYS' order).
        for source, value in found.items():
            entry = in_order.get(source)
            if entry is not None:
                try:
                    row[entry[0]] = entry[1](value)
                except InvalidIdentifier as exc:
                    skipped.take(source, exc)
        for source, key, normalize_and_hash_one in last:
            value = found.get(source)
            if value is not None:
                try:
                    row[key] = normalize_and_hash_one(value)
                except InvalidIdentifier as exc:
                    skipped.take(source, exc)
        phone = found.get("phone")
        if phone is not None and "PHONE" in wanted:
            try:
                row["PHONE"] = normalize_and_hash(
                    IdentifierKind.PHONE,
                    phone,
                    digits_only=True,
                    country=user.country,
                    default_country_code=settings.phone_country_code,
                )
            except InvalidIdentifier as exc:
                skipped.take("phone", exc)
        zip_code = found.get("zip")
        if zip_code is not None and "ZIP" in wanted:
            # Meta's ZIP rule depends on the country (5 digits in the U.S., the sector in the UK).
            try:
                country = normalize(IdentifierKind.COUNTRY, user.country or "")
            except InvalidIdentifier:
                country = None
            try:
                row["ZIP"] = normalize_and_hash(IdentifierKind.ZIP, zip_code, country=country)
            except InvalidIdentifier as exc:
                skipped.take("zip", exc)
        birthday = found.get("birthday")
        if birthday is not None and wanted.intersection(_DOB_KEYS):
            try:
                parts = normalize_date_of_birth(birthday)
            except InvalidIdentifier as exc:
                skipped.take("birthday", exc)
            else:
                for key, part in zip(_DOB_KEYS, parts, strict=True):
                    if key in wanted:
                        row[key] = sha256_hex(part)
        return row or None

    def missing(self, settings: FacebookCustomAudiencesSettings) -> tuple[str, str]:
        return (
            "traits.email",
            "is missing, and so is every other identifier Meta can match "
            f"({', '.join(settings.match_keys)})",
        )

    async def perform(
        self, ctx: Context[FacebookCustomAudiencesSettings], payload: AudienceMember
    ) -> None:
        result = await _upload(ctx, [payload])
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[FacebookCustomAudiencesSettings], payloads: Sequence[AudienceMember]
    ) -> BatchResult | None:
        result = await _upload(ctx, list(payloads))
        return result if result.errors else None


def _auth_params(settings: FacebookCustomAudiencesSettings) -> dict[str, str]:
    token = settings.access_token.get_secret_value()
    params = {"access_token": token}
    if settings.app_secret is not None:
        proof = hmac.new(
            settings.app_secret.get_secret_value().encode(), token.encode(), hashlib.sha256
        )
        params["appsecret_proof"] = proof.hexdigest()
    return params


def _session_id(members: Sequence[AudienceMember]) -> int:
    """A positive 63-bit id for one upload session: the operation, the audience and the
    batch's message ids. A retry of the same batch gets the same id; any other upload (another
    batch, the same user removed and then added again) gets another."""
    first = members[0]
    seed = [first.operation, first.list_id, sorted(m.message_id for m in members)]
    digest = hashlib.sha256(json.dumps(seed, separators=(",", ":")).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 or 1


async def _upload(
    ctx: Context[FacebookCustomAudiencesSettings], members: list[AudienceMember]
) -> BatchResult:
    """One upload session for members sharing an audience and an operation, in requests of
    ``batch_size`` users that share its ``session_id``."""
    settings = ctx.settings
    first = members[0]
    present = {key for member in members for key in member.record}
    schema: list[str] = [key for key in SCHEMA_ORDER if key in present]
    session_id = _session_id(members)
    size = settings.batch_size
    chunks = [members[start : start + size] for start in range(0, len(members), size)]
    method = "POST" if first.operation == "add" else "DELETE"
    path = f"/{settings.api_version}/{first.list_id}/users"
    result = BatchResult(len(members))
    for seq, chunk in enumerate(chunks, start=1):
        offset = (seq - 1) * size
        data = [[member.record.get(key, "") for key in schema] for member in chunk]
        body: dict[str, Any] = {
            "payload": {"schema": schema, "data": data},
            "session": {
                "session_id": session_id,
                "batch_seq": seq,
                "last_batch_flag": seq == len(chunks),
                "estimated_num_total": len(members),
            },
            **_auth_params(settings),
        }
        response = await ctx.http.request(method, path, json=body, raise_for_status=False)
        if response.status_code >= 300 or graph_error_body(response) is not None:
            error = graph_error(response)
            if seq == 1:
                raise error  # nothing of the session was taken: the whole batch failed
            for index in range(offset, len(members)):
                result.fail(index, error)
            return result
        for index, problem in invalid_entries(ctx, response, first.list_id, data).errors.items():
            result.fail(offset + index, problem)
    return result


async def _test_authentication(ctx: Context[FacebookCustomAudiencesSettings]) -> None:
    settings = ctx.settings
    node = settings.audience_id or "me"
    response = await ctx.http.get(
        f"/{settings.api_version}/{node}",
        params={"fields": "id,name" if settings.audience_id else "id", **_auth_params(settings)},
        raise_for_status=False,
    )
    if response.status_code >= 300 or graph_error_body(response) is not None:
        raise graph_error(response)


destination: Destination[FacebookCustomAudiencesSettings] = Destination(
    name="Facebook Custom Audiences",
    slug="facebook_custom_audiences",
    kind=DestinationKind.LIST,
    settings=FacebookCustomAudiencesSettings,
    actions=[SyncAudience()],
    description="Adds and removes Engage audience and journey users on Meta custom audiences "
    "(hashed customer-file matching).",
    base_url=GRAPH_URL,
    authentication=Authentication(scheme="oauth2", test=_test_authentication),
    api_version="Meta Marketing API, Graph API v25.0 (/{audience_id}/users)",
    docs_url="https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users",
    notes=NOTES,
)
