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
(the ``userId``). An identifier that cannot be normalised is left out and named in the payload's
``skipped``; a user with no usable identifier is refused before any request.

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
import logging
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    BatchResult,
    Context,
    DeliveryError,
    Destination,
    DestinationKind,
    DestinationSettings,
    IntegrationError,
    InvalidAuthentication,
    InvalidEvent,
    InvalidIdentifier,
    PayloadValidationError,
    RateLimited,
    Response,
    RetryableError,
    Subscription,
    classify_status,
    membership_of,
    parse_retry_after,
)
from sdk.connector import (
    IdentifierKind,
    normalize,
    normalize_and_hash,
    normalize_date_of_birth,
    sha256_hex,
)
from sdk.engage import user_identifiers

__all__ = ["FacebookCustomAudiencesSettings", "destination"]

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"
#: "You can add an unlimited number of records for an audience, but only a maximum of 10000 at
#: a time" (Custom Audience Users reference).
MAX_USERS_PER_REQUEST = 10_000
#: Users in one upload session (one batch of the runtime, whose contract holds a batch to the
#: vendor's per-request maximum): requests of ``batch_size`` users share its session.
MAX_USERS_PER_SESSION = MAX_USERS_PER_REQUEST

MatchKey = Literal[
    "EMAIL",
    "PHONE",
    "FN",
    "LN",
    "CT",
    "ST",
    "ZIP",
    "COUNTRY",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "MADID",
    "EXTERN_ID",
]
#: Meta's schema keys, in the order a request lists them.
SCHEMA_ORDER: tuple[MatchKey, ...] = (
    "EMAIL",
    "PHONE",
    "FN",
    "LN",
    "CT",
    "ST",
    "ZIP",
    "COUNTRY",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "MADID",
    "EXTERN_ID",
)

# Graph API error codes (Handling Errors; Marketing API Rate Limiting and Error Codes).
_AUTH_CODES = frozenset({102, 190})
_AUTH_SUBCODES = frozenset(range(458, 468))
_PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
_THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
_TRANSIENT_CODES = frozenset({1, 2, 368})
_INVALID_PARAMETER = 100
_PARAM_IN_MESSAGE = re.compile(r"\b[Pp]aram(?:eter)?\s+([A-Za-z_][\w.\[\]]*)")
_DIGITS = re.compile(r"^[0-9]+$")


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

    @field_validator("audience_id")
    @classmethod
    def _audience_id_digits(cls, value: str | None) -> str | None:
        if value is not None and not _DIGITS.match(value.strip()):
            raise ValueError("must be a custom audience id (digits only)")
        return value.strip() if value is not None else None

    @field_validator("audience_map")
    @classmethod
    def _audience_map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for key, audience in value.items():
            if not key or not _DIGITS.match(str(audience).strip()):
                raise ValueError(f"{key!r} must map to a custom audience id (digits only)")
        if not value and not info.data.get("audience_id"):
            raise ValueError(
                "set audience_id (one custom audience for every key) or map at least one "
                "computation key to a custom audience id here"
            )
        return {key: str(audience).strip() for key, audience in value.items()}


@dataclass(frozen=True, slots=True)
class AudienceMember:
    """One user to add to, or remove from, one custom audience."""

    audience_id: str
    operation: Literal["add", "remove"]
    #: The computation key that chose the audience.
    key: str
    #: Meta schema key -> the normalised (and, but for MADID/EXTERN_ID, hashed) value.
    row: dict[str, str]
    #: Identifiers left out because they could not be normalised: name -> rule broken.
    skipped: dict[str, str] = field(default_factory=dict)
    #: The event's messageId: what makes one upload session different from another.
    message_id: str = ""


def _meta_row(
    event: AnyMessage, settings: FacebookCustomAudiencesSettings
) -> tuple[dict[str, str], dict[str, str]]:
    """The user's identifiers as Meta schema key -> value, and those left out (and why)."""
    found = user_identifiers(event)
    wanted = set(settings.match_keys)
    row: dict[str, str] = {}
    skipped: dict[str, str] = {}

    def put(key: str, source: str, kind: IdentifierKind, **options: Any) -> None:
        value = found.get(source)
        if key not in wanted or value is None:
            return
        try:
            row[key] = normalize_and_hash(kind, value, **options)
        except InvalidIdentifier as exc:
            skipped[source] = exc.rule

    put("EMAIL", "email", IdentifierKind.EMAIL)
    put(
        "PHONE",
        "phone",
        IdentifierKind.PHONE,
        digits_only=True,
        default_country_code=settings.phone_country_code,
    )
    put("FN", "first_name", IdentifierKind.FIRST_NAME)
    put("LN", "last_name", IdentifierKind.LAST_NAME)
    put("CT", "city", IdentifierKind.CITY)
    put("ST", "state", IdentifierKind.STATE)
    put("COUNTRY", "country", IdentifierKind.COUNTRY)
    # Meta's ZIP rule depends on the country (first 5 digits in the U.S., the sector in the UK).
    try:
        zip_country = normalize(IdentifierKind.COUNTRY, found["country"])
    except (KeyError, InvalidIdentifier):
        zip_country = None
    put("ZIP", "zip", IdentifierKind.ZIP, country=zip_country)
    put("GEN", "gender", IdentifierKind.GENDER)
    birthday = found.get("birthday")
    if birthday is not None and wanted & {"DOBY", "DOBM", "DOBD"}:
        try:
            parts = dict(
                zip(("DOBY", "DOBM", "DOBD"), normalize_date_of_birth(birthday), strict=True)
            )
        except InvalidIdentifier as exc:
            skipped["birthday"] = exc.rule
        else:
            row.update({key: sha256_hex(value) for key, value in parts.items() if key in wanted})
    put("MADID", "mobile_ad_id", IdentifierKind.MOBILE_AD_ID)
    put("EXTERN_ID", "user_id", IdentifierKind.EXTERNAL_ID)
    return row, skipped


def _audience_for(key: str, settings: FacebookCustomAudiencesSettings) -> str:
    audience = settings.audience_map.get(key) or settings.audience_id
    if audience is None:
        raise InvalidEvent(
            "context.personas.computation_key",
            f"{key!r} has no audience_map entry and no audience_id is set",
        )
    return audience


class SyncAudience(Action[FacebookCustomAudiencesSettings, AudienceMember]):
    """Add entering users to the custom audience, remove exiting ones (audiences only)."""

    name = "sync_audience"
    description = (
        "Add users entering an audience or journey step to a Meta custom audience; remove "
        "users leaving an audience."
    )
    subscribe = Subscription.of("track", "identify", membership=True)

    def batch_limits(self, settings: FacebookCustomAudiencesSettings) -> BatchLimits:
        # One batch is one upload session, sent in requests of ``batch_size`` users.
        return BatchLimits(max_events=MAX_USERS_PER_SESSION)

    def map(self, event: AnyMessage, settings: FacebookCustomAudiencesSettings) -> AudienceMember:
        membership = membership_of(event)
        if membership is None:
            raise InvalidEvent("context.personas", "is required (an Engage membership event)")
        audience = _audience_for(membership.key, settings)
        row, skipped = _meta_row(event, settings)
        if not row:
            if skipped:
                name, rule = next(iter(skipped.items()))
                raise InvalidIdentifier(name, rule)
            raise InvalidEvent(
                "traits.email",
                "is missing, and so is every other identifier Meta can match "
                f"({', '.join(settings.match_keys)})",
            )
        return AudienceMember(
            audience_id=audience,
            operation="add" if membership.member else "remove",
            key=membership.key,
            row=row,
            skipped=skipped,
            message_id=event.message_id,
        )

    def batch_key(self, payload: AudienceMember) -> Hashable:
        return (payload.audience_id, payload.operation)

    def payload_record(self, payload: AudienceMember) -> Any:
        record: dict[str, Any] = {
            "audience_id": payload.audience_id,
            "operation": payload.operation,
            "key": payload.key,
            "identifiers": payload.row,
        }
        if payload.skipped:
            record["skipped"] = payload.skipped
        return record

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
    seed = [first.operation, first.audience_id, sorted(m.message_id for m in members)]
    digest = hashlib.sha256(json.dumps(seed, separators=(",", ":")).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 or 1


async def _upload(
    ctx: Context[FacebookCustomAudiencesSettings], members: list[AudienceMember]
) -> BatchResult:
    """One upload session for members sharing an audience and an operation, in requests of
    ``batch_size`` users that share its ``session_id``."""
    settings = ctx.settings
    first = members[0]
    present = {key for member in members for key in member.row}
    schema: list[str] = [key for key in SCHEMA_ORDER if key in present]
    session_id = _session_id(members)
    size = settings.batch_size
    chunks = [members[start : start + size] for start in range(0, len(members), size)]
    method = "POST" if first.operation == "add" else "DELETE"
    path = f"/{settings.api_version}/{first.audience_id}/users"
    result = BatchResult(len(members))
    for seq, chunk in enumerate(chunks, start=1):
        offset = (seq - 1) * size
        data = [[member.row.get(key, "") for key in schema] for member in chunk]
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
        if response.status_code >= 300 or _graph_error_body(response) is not None:
            error = _graph_error(response)
            if seq == 1:
                raise error  # nothing of the session was taken: the whole batch failed
            for index in range(offset, len(members)):
                result.fail(index, error)
            return result
        for index, problem in _invalid_entries(ctx, response, chunk, data).errors.items():
            result.fail(offset + index, problem)
    return result


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _invalid_entries(
    ctx: Context[FacebookCustomAudiencesSettings],
    response: Response,
    members: list[AudienceMember],
    data: list[list[str]],
) -> BatchResult:
    """Fail the rows Meta counted invalid in one request (indices and ``payload.data[i]`` in
    that request), where the answer lets us tell which they are."""
    result = BatchResult(len(members))
    answer = response.json()
    if not isinstance(answer, dict):
        return result
    invalid = _as_int(answer.get("num_invalid_entries")) or 0
    if invalid <= 0:
        return result
    samples = answer.get("invalid_entry_samples")
    reasons: dict[str, str] = {}
    if isinstance(samples, dict):
        reasons = {str(k).lower(): str(v) for k, v in samples.items()}
    elif isinstance(samples, list):
        reasons = {str(k).lower(): "invalid entry" for k in samples}
    for index, row in enumerate(data):
        for cell in row:
            reason = reasons.get(cell.lower()) if cell else None
            if reason is not None:
                result.fail(index, PayloadValidationError(f"payload.data[{index}]: {reason}"))
                break
    if invalid >= len(members):
        for index in range(len(members)):
            if index not in result.errors:
                result.fail(
                    index,
                    PayloadValidationError(
                        f"payload.data[{index}]: Meta counted every entry of the request invalid"
                    ),
                )
    unexplained = invalid - result.failed
    if unexplained > 0:
        log.warning(
            "%s: Meta counted %d invalid entries in a request of %d users to audience %s; "
            "%d could not be pinned on a user (see the response's invalid_entry_samples)",
            ctx.destination.slug,
            invalid,
            len(members),
            members[0].audience_id,
            unexplained,
        )
    return result


def _graph_error_body(response: Response) -> dict[str, Any] | None:
    data = response.json()
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else None


def _buc_wait(response: Response) -> float | None:
    """Seconds until access is regained, from ``X-Business-Use-Case-Usage`` (minutes)."""
    raw = response.headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except json.JSONDecodeError:
        return None
    minutes = [
        float(entry["estimated_time_to_regain_access"])
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("estimated_time_to_regain_access"), (int, float))
    ]
    return max(minutes) * 60 if minutes and max(minutes) > 0 else None


def _graph_error(response: Response) -> DeliveryError:
    """The taxonomy's error for a Graph API error answer."""
    status = response.status_code
    error = _graph_error_body(response)
    if error is None:
        problem = classify_status(
            status, response.raw.reason_phrase, body=response.data, headers=response.headers
        )
        return problem or IntegrationError(f"HTTP {status}: unexpected answer", status=status)
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    message = " ".join(str(error.get("message") or "no message").split())
    text = f"Graph API error #{code if code is not None else '?'}"
    if subcode is not None:
        text += f"/{subcode}"
    if error.get("type"):
        text += f" ({error['type']})"
    text += f": {message}"
    if error.get("error_user_title") or error.get("error_user_msg"):
        user = ": ".join(
            str(error[part]) for part in ("error_user_title", "error_user_msg") if error.get(part)
        )
        text += f" ({user})"
    if error.get("fbtrace_id"):
        text += f" [fbtrace_id {error['fbtrace_id']}]"
    if code in _THROTTLE_CODES:
        wait = parse_retry_after(response.headers.get("retry-after")) or _buc_wait(response)
        return RateLimited(text, retry_after=wait, status=status)
    if code in _TRANSIENT_CODES or error.get("is_transient") is True:
        return RetryableError(text, status=status)
    if code in _AUTH_CODES or subcode in _AUTH_SUBCODES:
        return InvalidAuthentication(text, status=status)
    if code in _PERMISSION_CODES:
        return InvalidAuthentication(f"permission refused: {text}", status=status)
    if code == _INVALID_PARAMETER:
        match = _PARAM_IN_MESSAGE.search(message)
        return PayloadValidationError(
            f"{match.group(1) if match else 'payload'}: {text}", status=status
        )
    return _by_status(response, text)


def _by_status(response: Response, text: str) -> DeliveryError:
    """An error of the class the HTTP status means (the SDK's rules), worded as ``text``."""
    status = response.status_code
    problem = classify_status(status, response.raw.reason_phrase, headers=response.headers)
    # No problem by status: an error object in a 2xx answer, reported as such.
    return (problem or IntegrationError(text, status=status)).reworded(text)


async def _test_authentication(ctx: Context[FacebookCustomAudiencesSettings]) -> None:
    settings = ctx.settings
    node = settings.audience_id or "me"
    response = await ctx.http.get(
        f"/{settings.api_version}/{node}",
        params={"fields": "id,name" if settings.audience_id else "id", **_auth_params(settings)},
        raise_for_status=False,
    )
    if response.status_code >= 300 or _graph_error_body(response) is not None:
        raise _graph_error(response)


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
)
