"""Google Ads Customer Match: add and remove users of an Engage audience or journey step on a
Customer Match user list, through an offline user data job.

API followed: Google Ads API REST ``v26``, OfflineUserDataJobService
(https://developers.google.com/google-ads/api/rest/reference/rest/v26/customers.offlineUserDataJobs)
and the Customer Match guide
(https://developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match),
checked 2026-11, with the OAuth 2.0 refresh-token flow (https://oauth2.googleapis.com/token), the
partial-failure guide and the quota guide. What the connector relies on:

- Token: ``POST https://oauth2.googleapis.com/token`` (form: ``grant_type=refresh_token``,
  ``client_id``, ``client_secret``, ``refresh_token``) -> ``{"access_token", "expires_in"}``,
  cached for the delivery and fetched again, once, when the API answers 401 UNAUTHENTICATED.
  Every API call carries ``Authorization: Bearer``, ``developer-token`` and, when set,
  ``login-customer-id``. The token URL is ``oauth_url`` when set; else ``{endpoint}/token``
  only when ``endpoint`` is a loopback host (``localhost``, ``127.0.0.0/8``, ``::1``: the
  sandbox or a local fake, which serve both); else Google's, even with an ``endpoint``: a
  proxy or gateway set as ``endpoint`` must not receive the refresh token and client secret.
- Per batch (one user list, adds or removals):
  ``POST /{v}/customers/{cid}/offlineUserDataJobs:create`` with ``{"job": {"type":
  "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": {"userList":
  "customers/{cid}/userLists/{id}", "consent"?}}}`` -> ``resourceName``; then
  ``POST /{v}/{resourceName}:addOperations`` with ``{"operations": [{"create"|"remove":
  {"userIdentifiers": [...]}}], "enablePartialFailure": true}`` in requests of at most
  ``operations_per_request`` operations and 100,000 identifiers (at most 20 per UserData;
  about 10,000 per call recommended); then ``POST /{v}/{resourceName}:run``.
- ``partialFailureError`` in a 200 answer of ``addOperations`` (a ``google.rpc.Status`` whose
  ``details`` hold ``GoogleAdsFailure`` ``errors[]`` with ``errorCode``, ``message`` and
  ``location.fieldPathElements``): the operation at ``operations[i]`` fails with
  ``PayloadValidationError`` naming the field path; the others are run.
- Errors ``{"error": {"code", "message", "status", "details": [GoogleAdsFailure]}}``:
  UNAUTHENTICATED -> token refreshed once, then ``InvalidAuthentication``; PERMISSION_DENIED ->
  ``InvalidAuthentication``; RESOURCE_EXHAUSTED / 429 -> ``RateLimited`` (``quotaErrorDetails
  .retryDelay`` or ``Retry-After``); INVALID_ARGUMENT, NOT_FOUND -> ``PayloadValidationError``
  with the field path; CONCURRENT_MODIFICATION, INTERNAL, UNAVAILABLE -> retried. The token
  endpoint's ``{"error": "invalid_grant", ...}`` -> ``InvalidAuthentication``.

Identifiers by the list's ``upload_key_type``. CONTACT_INFO: ``hashedEmail`` (trim, lowercase;
removing gmail dots is "not required"), ``hashedPhoneNumber`` (E.164 with ``+``), and
``addressInfo`` (``hashedFirstName``, ``hashedLastName`` trimmed and lowercased, ``countryCode``
and ``postalCode`` in clear) when all four are known; all SHA-256 hex. CRM_ID:
``thirdPartyUserId`` (the ``userId``). MOBILE_ADVERTISING_ID: ``mobileId``
(``context.device.advertisingId``). A bad identifier is left out and named in the payload's
``skipped``; a user with none is refused before any request.

Which list: ``user_list_map`` (computation key -> user list id) first, else ``user_list_id``.
Neither the step key nor ``context.personas`` has a place in the API: the key chooses the list.

| event | request |
|---|---|
| track ``Audience Entered`` / identify ``{KEY: true}`` | job with ``create`` operations |
| track ``Audience Exited`` / identify ``{KEY: false}`` | job with ``remove`` operations |
| exit from a journey step (``j_o_`` key) | none: ``ListRemovalRefused`` (add-only) |
| batched (per list, adds apart from removals) | ``:create``, ``:addOperations`` x n, ``:run`` |
| test_authentication | token, then ``GET /{v}/customers:listAccessibleCustomers`` |
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
import unicodedata
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

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
    is_sha256_hex,
    normalize,
    normalize_and_hash,
    sha256_hex,
)
from sdk.engage import user_identifiers

__all__ = ["GoogleAdsCustomerMatchSettings", "destination"]

log = logging.getLogger(__name__)

ADS_URL = "https://googleads.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_API_VERSION = "v26"
#: "each AddOfflineUserDataJobOperations request can accommodate a maximum of 100,000
#: identifiers across all UserData objects"; "up to 10,000 identifiers per call" recommended.
MAX_IDENTIFIERS_PER_REQUEST = 100_000
RECOMMENDED_PER_REQUEST = 10_000
#: "the number of user_identifiers ... in a UserData object can be 20" (this connector sends 3).
MAX_IDENTIFIERS_PER_USER = 20
#: Seconds before an access token's expiry at which it is refreshed anyway.
TOKEN_MARGIN = 60.0

_TOKEN_STATE = "google_ads_customer_match.access_token"
_LOCK_STATE = "google_ads_customer_match.token_lock"
_DIGITS = re.compile(r"^[0-9]+$")
_RETRYABLE_CODES = ("CONCURRENT_MODIFICATION", "INTERNAL_ERROR", "TRANSIENT_ERROR")

UploadKeyType = Literal["CONTACT_INFO", "CRM_ID", "MOBILE_ADVERTISING_ID"]
ConsentStatus = Literal["GRANTED", "DENIED", "UNSPECIFIED"]


def _customer_id(value: str) -> str:
    digits = value.strip().replace("-", "")
    if not _DIGITS.match(digits):
        raise ValueError("must be a Google Ads customer id: 10 digits, dashes allowed")
    return digits


class GoogleAdsCustomerMatchSettings(DestinationSettings):
    """Settings of the Google Ads Customer Match destination."""

    developer_token: SecretStr = Field(description="Google Ads API developer token.")
    client_id: str = Field(description="OAuth 2.0 client id.")
    client_secret: SecretStr = Field(description="OAuth 2.0 client secret.")
    refresh_token: SecretStr = Field(
        description="OAuth 2.0 refresh token (scope https://www.googleapis.com/auth/adwords)."
    )
    customer_id: str = Field(description="Google Ads account that owns the user lists.")
    login_customer_id: str | None = Field(
        default=None, description="Manager account to act through (login-customer-id header)."
    )
    user_list_id: str | None = Field(
        default=None,
        description="Customer Match user list that receives every key without a "
        "user_list_map entry.",
    )
    user_list_map: dict[str, str] = Field(
        default_factory=dict,
        description="Computation key (audience key or journey step key) -> user list id.",
    )
    upload_key_type: UploadKeyType = Field(
        default="CONTACT_INFO",
        description="What the lists match on: CONTACT_INFO (email, phone, address), CRM_ID "
        "(userId) or MOBILE_ADVERTISING_ID (context.device.advertisingId).",
    )
    api_version: str = Field(
        default=DEFAULT_API_VERSION, pattern=r"^v[0-9]+$", description="Google Ads API version."
    )
    phone_country_code: str | None = Field(
        default=None,
        pattern=r"^\+?[1-9][0-9]{0,2}$",
        description="Country calling code for phone numbers written without one (like 1).",
    )
    consent_ad_user_data: ConsentStatus | None = Field(
        default=None, description="Job-level consent for ad user data (EEA users)."
    )
    consent_ad_personalization: ConsentStatus | None = Field(
        default=None, description="Job-level consent for ad personalization (EEA users)."
    )
    oauth_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+",
        description="OAuth token URL; default https://oauth2.googleapis.com/token, or "
        "{endpoint}/token when endpoint is a loopback address (localhost, 127.0.0.0/8, ::1).",
    )
    batch_size: int = Field(
        default=RECOMMENDED_PER_REQUEST,
        ge=1,
        le=MAX_IDENTIFIERS_PER_REQUEST,
        description="Users per offline user data job.",
    )
    operations_per_request: int = Field(
        default=RECOMMENDED_PER_REQUEST,
        ge=1,
        le=MAX_IDENTIFIERS_PER_REQUEST,
        description="Operations per addOperations call (10,000 recommended).",
    )

    @field_validator("customer_id")
    @classmethod
    def _cid(cls, value: str) -> str:
        return _customer_id(value)

    @field_validator("login_customer_id")
    @classmethod
    def _login_cid(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else _customer_id(value)

    @field_validator("user_list_id")
    @classmethod
    def _list_id(cls, value: str | None) -> str | None:
        if value is not None and not _DIGITS.match(value.strip()):
            raise ValueError("must be a user list id (digits only)")
        return value.strip() if value is not None else None

    @field_validator("user_list_map")
    @classmethod
    def _list_map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for key, list_id in value.items():
            if not key or not _DIGITS.match(str(list_id).strip()):
                raise ValueError(f"{key!r} must map to a user list id (digits only)")
        if not value and not info.data.get("user_list_id"):
            raise ValueError(
                "set user_list_id (one user list for every key) or map at least one "
                "computation key to a user list id here"
            )
        return {key: str(list_id).strip() for key, list_id in value.items()}


@dataclass(frozen=True, slots=True)
class ListMember:
    """One user to add to, or remove from, one Customer Match user list."""

    user_list_id: str
    operation: Literal["add", "remove"]
    #: The computation key that chose the list.
    key: str
    #: The ``UserData`` object: ``{"userIdentifiers": [...]}``.
    user_data: dict[str, Any]
    #: Identifiers left out because they could not be normalised: name -> rule broken.
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def identifiers(self) -> int:
        """How many user identifiers this user adds to a request."""
        return len(self.user_data["userIdentifiers"])


# -- identifiers -------------------------------------------------------------------------------


def _hashed_name(value: str, field_name: str) -> str:
    """Google: names trimmed and lowercased, then SHA-256 (punctuation is kept, unlike Meta)."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidIdentifier(field_name, "is empty")
    if is_sha256_hex(text):
        return text.lower()
    return sha256_hex(text.lower())


def _address(found: Mapping[str, str], skipped: dict[str, str]) -> dict[str, str] | None:
    """``addressInfo`` when first name, last name, country and postal code are all known."""
    parts = {
        "first_name": found.get("first_name"),
        "last_name": found.get("last_name"),
        "address.country": found.get("country"),
        "address.postal_code": found.get("zip"),
    }
    missing = [name for name, value in parts.items() if value is None]
    if missing:
        if found.get("country") or found.get("zip"):
            skipped["address"] = f"needs {', '.join(missing)} too (Google matches all four)"
        return None
    try:
        return {
            "hashedFirstName": _hashed_name(found["first_name"], "first_name"),
            "hashedLastName": _hashed_name(found["last_name"], "last_name"),
            "countryCode": normalize(IdentifierKind.COUNTRY, found["country"]).upper(),
            "postalCode": _postal_code(found["zip"]),
        }
    except InvalidIdentifier as exc:
        skipped["address"] = f"{exc.field}: {exc.rule}"
        return None


def _postal_code(value: str) -> str:
    code = " ".join(unicodedata.normalize("NFKC", value).split())
    if not code:
        raise InvalidIdentifier("zip", "is empty")
    return code


def _user_data(
    event: AnyMessage, settings: GoogleAdsCustomerMatchSettings
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The user's ``userIdentifiers`` for the list's upload key type, and those left out."""
    found = user_identifiers(event)
    identifiers: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    kind = settings.upload_key_type
    if kind == "CRM_ID":
        if "user_id" in found:
            external = normalize(IdentifierKind.EXTERNAL_ID, found["user_id"])
            identifiers.append({"thirdPartyUserId": external})
        return identifiers, skipped
    if kind == "MOBILE_ADVERTISING_ID":
        if "mobile_ad_id" in found:
            try:
                ad_id = normalize(IdentifierKind.MOBILE_AD_ID, found["mobile_ad_id"])
            except InvalidIdentifier as exc:
                skipped["mobile_ad_id"] = exc.rule
            else:
                identifiers.append({"mobileId": ad_id})
        return identifiers, skipped
    for source, key, identifier_kind, options in (
        ("email", "hashedEmail", IdentifierKind.EMAIL, {}),
        (
            "phone",
            "hashedPhoneNumber",
            IdentifierKind.PHONE,
            {"default_country_code": settings.phone_country_code},
        ),
    ):
        if source not in found:
            continue
        try:
            identifiers.append(
                {key: normalize_and_hash(identifier_kind, found[source], hashed=True, **options)}
            )
        except InvalidIdentifier as exc:
            skipped[source] = exc.rule
    address = _address(found, skipped)
    if address is not None:
        identifiers.append({"addressInfo": address})
    return identifiers, skipped


_MISSING = {
    "CONTACT_INFO": (
        "traits.email",
        "is missing, and so are traits.phone and a full address (first_name, last_name, "
        "address.country, address.postal_code)",
    ),
    "CRM_ID": ("userId", "is required: the user lists match on thirdPartyUserId (CRM_ID)"),
    "MOBILE_ADVERTISING_ID": (
        "context.device.advertisingId",
        "is required: the user lists match on mobileId (MOBILE_ADVERTISING_ID)",
    ),
}


def _list_for(key: str, settings: GoogleAdsCustomerMatchSettings) -> str:
    list_id = settings.user_list_map.get(key) or settings.user_list_id
    if list_id is None:
        raise InvalidEvent(
            "context.personas.computation_key",
            f"{key!r} has no user_list_map entry and no user_list_id is set",
        )
    return list_id


class SyncUserList(Action[GoogleAdsCustomerMatchSettings, ListMember]):
    """Add entering users to the Customer Match list, remove exiting ones (audiences only)."""

    name = "sync_user_list"
    description = (
        "Add users entering an audience or journey step to a Customer Match user list; remove "
        "users leaving an audience."
    )
    subscribe = Subscription.of("track", "identify", membership=True)

    def batch_limits(self, settings: GoogleAdsCustomerMatchSettings) -> BatchLimits:
        return BatchLimits(max_events=settings.batch_size)

    def map(self, event: AnyMessage, settings: GoogleAdsCustomerMatchSettings) -> ListMember:
        membership = membership_of(event)
        if membership is None:
            raise InvalidEvent("context.personas", "is required (an Engage membership event)")
        list_id = _list_for(membership.key, settings)
        identifiers, skipped = _user_data(event, settings)
        if not identifiers:
            if skipped:
                name, rule = next(iter(skipped.items()))
                raise InvalidIdentifier(name, rule)
            raise InvalidEvent(*_MISSING[settings.upload_key_type])
        assert len(identifiers) <= MAX_IDENTIFIERS_PER_USER
        return ListMember(
            user_list_id=list_id,
            operation="add" if membership.member else "remove",
            key=membership.key,
            user_data={"userIdentifiers": identifiers},
            skipped=skipped,
        )

    def batch_key(self, payload: ListMember) -> Hashable:
        return (payload.user_list_id, payload.operation)

    def payload_record(self, payload: ListMember) -> Any:
        record: dict[str, Any] = {
            "user_list_id": payload.user_list_id,
            "operation": payload.operation,
            "key": payload.key,
            "user_data": payload.user_data,
        }
        if payload.skipped:
            record["skipped"] = payload.skipped
        return record

    async def perform(
        self, ctx: Context[GoogleAdsCustomerMatchSettings], payload: ListMember
    ) -> None:
        result = await _upload(ctx, [payload])
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[GoogleAdsCustomerMatchSettings], payloads: Sequence[ListMember]
    ) -> BatchResult | None:
        result = await _upload(ctx, list(payloads))
        return result if result.errors else None


# -- OAuth -------------------------------------------------------------------------------------


def _is_loopback(url: str) -> bool:
    """True when ``url``'s host is ``localhost``, in ``127.0.0.0/8`` or ``::1``."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token_url(settings: GoogleAdsCustomerMatchSettings) -> str:
    """Where the refresh token goes: ``oauth_url``; else ``{endpoint}/token`` for a loopback
    ``endpoint`` only (a real proxy must not see the refresh token); else Google's."""
    if settings.oauth_url:
        return settings.oauth_url
    if settings.endpoint and _is_loopback(settings.endpoint):
        return f"{settings.endpoint.rstrip('/')}/token"
    return TOKEN_URL


async def _access_token(
    ctx: Context[GoogleAdsCustomerMatchSettings], *, stale: str | None = None
) -> str:
    """A cached access token; a new one when none is cached, it expires, or ``stale`` (the one
    the API just refused) is still the cached one."""
    lock: asyncio.Lock = ctx.state.setdefault(_LOCK_STATE, asyncio.Lock())
    async with lock:
        cached = ctx.state.get(_TOKEN_STATE)
        if cached is not None:
            token, expires_at = cached
            if token != stale and time.monotonic() < expires_at:
                return str(token)
        settings = ctx.settings
        response = await ctx.http.post(
            _token_url(settings),
            data={
                "grant_type": "refresh_token",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
                "refresh_token": settings.refresh_token.get_secret_value(),
            },
            raise_for_status=False,
        )
        answer = response.json()
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code >= 300 or not isinstance(token, str) or not token:
            raise _token_error(response)
        ctx.add_secret(token)
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 3600.0
        ctx.state[_TOKEN_STATE] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0))
        return token


def _token_error(response: Response) -> DeliveryError:
    status = response.status_code
    answer = response.json()
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        text = f"OAuth token refresh refused: {answer['error']}"
        if answer.get("error_description"):
            text += f" ({answer['error_description']})"
    elif status < 300:
        return InvalidAuthentication("OAuth token endpoint answered without an access_token")
    else:
        text = f"OAuth token refresh failed: HTTP {status} {response.raw.reason_phrase}".strip()
    if status in (400, 401, 403):  # invalid_grant, invalid_client, unauthorized_client...
        return InvalidAuthentication(text, status=status)
    return _by_status(response, text)


def _headers(settings: GoogleAdsCustomerMatchSettings, token: str) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {token}",
        "developer-token": settings.developer_token.get_secret_value(),
    }
    if settings.login_customer_id:
        headers["login-customer-id"] = settings.login_customer_id
    return headers


async def _call(
    ctx: Context[GoogleAdsCustomerMatchSettings],
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> Response:
    """An API call with a fresh token; on 401 the token is refreshed once and the call made
    again; any other error answer raises the taxonomy's error."""
    token = await _access_token(ctx)
    response = await ctx.http.request(
        method, path, json=body, headers=_headers(ctx.settings, token), raise_for_status=False
    )
    if response.status_code == 401:
        token = await _access_token(ctx, stale=token)
        response = await ctx.http.request(
            method, path, json=body, headers=_headers(ctx.settings, token), raise_for_status=False
        )
    if response.status_code >= 300:
        raise _ads_error(response)
    return response


# -- the upload --------------------------------------------------------------------------------


def _chunks(members: list[ListMember], per_request: int) -> Iterator[tuple[int, list[ListMember]]]:
    """(offset, members) chunks of at most ``per_request`` operations and 100,000 identifiers."""
    start, count = 0, 0
    chunk: list[ListMember] = []
    for index, member in enumerate(members):
        if chunk and (
            len(chunk) >= per_request or count + member.identifiers > MAX_IDENTIFIERS_PER_REQUEST
        ):
            yield start, chunk
            start, chunk, count = index, [], 0
        chunk.append(member)
        count += member.identifiers
    if chunk:
        yield start, chunk


async def _upload(
    ctx: Context[GoogleAdsCustomerMatchSettings], members: list[ListMember]
) -> BatchResult:
    """One offline user data job for members sharing a user list and an operation."""
    settings = ctx.settings
    version, cid = settings.api_version, settings.customer_id
    metadata: dict[str, Any] = {"userList": f"customers/{cid}/userLists/{members[0].user_list_id}"}
    consent = {
        name: value
        for name, value in (
            ("adUserData", settings.consent_ad_user_data),
            ("adPersonalization", settings.consent_ad_personalization),
        )
        if value is not None
    }
    if consent:
        metadata["consent"] = consent
    job = {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": metadata}
    created = await _call(
        ctx, "POST", f"/{version}/customers/{cid}/offlineUserDataJobs:create", {"job": job}
    )
    answer = created.json()
    resource = answer.get("resourceName") if isinstance(answer, dict) else None
    if not isinstance(resource, str) or not resource.startswith(f"customers/{cid}/"):
        raise IntegrationError(
            "offlineUserDataJobs:create answered without a resourceName for this customer",
            status=created.status_code,
        )
    result = BatchResult(len(members))
    verb = "create" if members[0].operation == "add" else "remove"
    for offset, chunk in _chunks(members, settings.operations_per_request):
        body = {
            "operations": [{verb: member.user_data} for member in chunk],
            "enablePartialFailure": True,
        }
        response = await _call(ctx, "POST", f"/{version}/{resource}:addOperations", body)
        for index, error in _partial_failures(response, len(chunk)):
            result.fail(offset + index, error)
    if result.failed == len(members):
        return result  # nothing left to run
    await _call(ctx, "POST", f"/{version}/{resource}:run", {})
    return result


def _field_path(location: Any) -> str:
    elements = location.get("fieldPathElements") if isinstance(location, dict) else None
    parts = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict) or not element.get("fieldName"):
            continue
        part = str(element["fieldName"])
        if isinstance(element.get("index"), int):
            part += f"[{element['index']}]"
        parts.append(part)
    return ".".join(parts)


def _failure_errors(status: Any) -> list[dict[str, Any]]:
    """The ``GoogleAdsError`` objects inside a ``google.rpc.Status``'s ``details``."""
    details = status.get("details") if isinstance(status, dict) else None
    return [
        error
        for detail in (details if isinstance(details, list) else [])
        if isinstance(detail, dict) and isinstance(detail.get("errors"), list)
        for error in detail["errors"]
        if isinstance(error, dict)
    ]


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    """(field path, ``message (errorType=CODE)``) of one ``GoogleAdsError``."""
    message = " ".join(str(error.get("message") or "rejected").split())
    code = error.get("errorCode")
    if isinstance(code, dict) and code:
        name, value = next(iter(code.items()))
        message += f" ({name}={value})"
    return _field_path(error.get("location")), message


def _partial_failures(response: Response, size: int) -> list[tuple[int, DeliveryError]]:
    """Per-operation failures from ``partialFailureError`` (indices within the request)."""
    answer = response.json()
    status = answer.get("partialFailureError") if isinstance(answer, dict) else None
    if not isinstance(status, dict) or not (status.get("details") or status.get("code")):
        return []
    failed: dict[int, DeliveryError] = {}
    unplaced: list[str] = []
    for error in _failure_errors(status):
        elements = (error.get("location") or {}).get("fieldPathElements") or []
        index = next(
            (
                element.get("index")
                for element in elements
                if isinstance(element, dict) and element.get("fieldName") == "operations"
            ),
            None,
        )
        path, message = _describe(error)
        if isinstance(index, int) and 0 <= index < size:
            failed.setdefault(index, PayloadValidationError(f"{path}: {message}"))
        else:
            unplaced.append(f"{path or 'request'}: {message}")
    if not failed and not unplaced:  # a status without GoogleAdsFailure details
        unplaced.append(f"request: {' '.join(str(status.get('message') or 'failed').split())}")
    if unplaced:
        # An error Google did not pin on an operation: none of them is known to be good.
        for index in range(size):
            failed.setdefault(index, PayloadValidationError(unplaced[0]))
    return sorted(failed.items())


def _retry_delay(errors: list[dict[str, Any]]) -> float | None:
    for error in errors:
        quota = (error.get("details") or {}).get("quotaErrorDetails") or {}
        delay = quota.get("retryDelay") if isinstance(quota, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return None


def _ads_error(response: Response) -> DeliveryError:
    """The taxonomy's error for a Google Ads API error answer."""
    status = response.status_code
    answer = response.json()
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        problem = classify_status(
            status, response.raw.reason_phrase, body=response.data, headers=response.headers
        )
        return problem or IntegrationError(f"HTTP {status}: unexpected answer", status=status)
    grpc_status = str(error.get("status") or "")
    errors = _failure_errors(error)
    text = f"Google Ads API {grpc_status or status}: "
    path = ""
    if errors:
        path, message = _describe(errors[0])
        text += message
        if len(errors) > 1:
            text += f" (and {len(errors) - 1} more)"
    else:
        text += " ".join(str(error.get("message") or "no message").split())
    request_id = next(
        (d.get("requestId") for d in error.get("details") or [] if isinstance(d, dict)), None
    ) or response.headers.get("request-id")
    if request_id:
        text += f" [request-id {request_id}]"
    codes = " ".join(str(e.get("errorCode")) for e in errors)
    if grpc_status == "UNAUTHENTICATED" or status == 401:
        return InvalidAuthentication(text, status=status)
    if grpc_status == "PERMISSION_DENIED" or status == 403:
        return InvalidAuthentication(f"permission refused: {text}", status=status)
    if grpc_status == "RESOURCE_EXHAUSTED" or status == 429:
        wait = _retry_delay(errors) or parse_retry_after(response.headers.get("retry-after"))
        return RateLimited(text, retry_after=wait, status=status)
    if any(code in codes for code in _RETRYABLE_CODES):
        return RetryableError(text, status=status)
    if grpc_status in ("INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION"):
        return PayloadValidationError(f"{path or 'request'}: {text}", status=status)
    return _by_status(response, text)


def _by_status(response: Response, text: str) -> DeliveryError:
    """An error of the class the HTTP status means (the SDK's rules), worded as ``text``."""
    status = response.status_code
    problem = classify_status(status, response.raw.reason_phrase, headers=response.headers)
    # No problem by status: an error object in a 2xx answer, reported as such.
    return (problem or IntegrationError(text, status=status)).reworded(text)


async def _test_authentication(ctx: Context[GoogleAdsCustomerMatchSettings]) -> None:
    await _call(ctx, "GET", f"/{ctx.settings.api_version}/customers:listAccessibleCustomers")


destination: Destination[GoogleAdsCustomerMatchSettings] = Destination(
    name="Google Ads Customer Match",
    slug="google_ads_customer_match",
    kind=DestinationKind.LIST,
    settings=GoogleAdsCustomerMatchSettings,
    actions=[SyncUserList()],
    description="Adds and removes Engage audience and journey users on Google Ads Customer "
    "Match user lists (offline user data jobs).",
    base_url=ADS_URL,
    authentication=Authentication(scheme="oauth2", test=_test_authentication),
    api_version="Google Ads API REST v26 (OfflineUserDataJobService)",
    docs_url="https://developers.google.com/google-ads/api/docs/remarketing/audience-types/"
    "customer-match",
)
