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
(``context.device.advertisingId``). A phone written without a calling code takes the user's own
country (``traits.address.country``, ``context.location.country``), else ``phone_country_code``.
A bad identifier is left out, named in the payload's ``skipped`` and noted in the lifecycle
(field and rule); a user with none is refused before any request. The list plumbing (which
list, add/remove, add-only journeys, notes) is ``sdk.connector.ListAction``; this module keeps
Google's API calls, ``_oauth`` the token flow and ``_answers`` Google's answers.

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

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from connectors.google_ads_customer_match._jobs import MAX_IDENTIFIERS_PER_REQUEST, _chunks, _upload
from connectors.google_ads_customer_match._notes import NOTES
from connectors.google_ads_customer_match._oauth import TOKEN_URL, call
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
    clean_text,
    hasher,
    is_sha256_hex,
    normalize,
    normalize_and_hash,
    sha256_hex,
)

__all__ = [
    "MAX_IDENTIFIERS_PER_REQUEST",
    "TOKEN_URL",
    "GoogleAdsCustomerMatchSettings",
    "ListMember",
    "_chunks",
    "destination",
]

ADS_URL = "https://googleads.googleapis.com"
DEFAULT_API_VERSION = "v26"
#: "up to 10,000 identifiers per call" recommended.
RECOMMENDED_PER_REQUEST = 10_000
#: "the number of user_identifiers ... in a UserData object can be 20" (this connector sends 3).
MAX_IDENTIFIERS_PER_USER = 20

_DIGITS = re.compile(r"^[0-9]+$")

UploadKeyType = Literal["CONTACT_INFO", "CRM_ID", "MOBILE_ADVERTISING_ID"]
ConsentStatus = Literal["GRANTED", "DENIED", "UNSPECIFIED"]
#: A member's record: the ``UserData`` object, ``{"userIdentifiers": [...]}``.
UserData = dict[str, Any]


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
        return check_list_id(value, "user list id")

    @field_validator("user_list_map")
    @classmethod
    def _list_map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return check_list_map(
            value,
            info.data.get("user_list_id"),
            what="user list id",
            default_setting="user_list_id",
        )


# -- identifiers -------------------------------------------------------------------------------


def _hashed_name(value: str, field_name: str) -> str:
    """Google: names trimmed and lowercased, then SHA-256 (punctuation is kept, unlike Meta)."""
    text = unicodedata.normalize("NFC", clean_text(value, field_name))
    if is_sha256_hex(text):
        return text.lower()
    return sha256_hex(text.lower())


def _postal_code(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", clean_text(value, "zip")).split())


def _address(user: ListUser, skipped: Skipped) -> dict[str, str] | None:
    """``addressInfo`` when first name, last name, country and postal code are all known."""
    first, last, zip_code = user.get("first_name"), user.get("last_name"), user.get("zip")
    country = user.get("country")
    parts = {
        "first_name": first,
        "last_name": last,
        "address.country": country,
        "address.postal_code": zip_code,
    }
    missing = [name for name, value in parts.items() if value is None]
    if missing or first is None or last is None or country is None or zip_code is None:
        if country or zip_code:
            skipped.add("address", f"needs {', '.join(missing)} too (Google matches all four)")
        return None
    try:
        return {
            "hashedFirstName": _hashed_name(first, "first_name"),
            "hashedLastName": _hashed_name(last, "last_name"),
            "countryCode": normalize(IdentifierKind.COUNTRY, country).upper(),
            "postalCode": _postal_code(zip_code),
        }
    except InvalidIdentifier as exc:
        skipped.add("address", f"{exc.field}: {exc.rule}")
        return None


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


#: ``normalize_and_hash(EMAIL, value, hashed=True)``, looked up once.
_hashed_email = hasher(IdentifierKind.EMAIL, hashed=True)


class SyncUserList(ListAction[GoogleAdsCustomerMatchSettings, UserData]):
    """Add entering users to the Customer Match list, remove exiting ones (audiences only)."""

    name = "sync_user_list"
    description = (
        "Add users entering an audience or journey step to a Customer Match user list; remove "
        "users leaving an audience."
    )
    list_setting = "user_list_id"
    map_setting = "user_list_map"
    record_list_as = "user_list_id"
    record_user_as = "user_data"

    def batch_limits(self, settings: GoogleAdsCustomerMatchSettings) -> BatchLimits:
        return BatchLimits(max_events=settings.batch_size)

    def identifiers(
        self, user: ListUser, settings: GoogleAdsCustomerMatchSettings, skipped: Skipped
    ) -> UserData | None:
        """The ``UserData`` of the user for the list's upload key type."""
        identifiers: list[dict[str, Any]] = []
        kind = settings.upload_key_type
        if kind == "CRM_ID":
            user_id = user.get("user_id")
            if user_id is not None:
                try:
                    external = normalize(IdentifierKind.EXTERNAL_ID, user_id)
                except InvalidIdentifier as exc:
                    skipped.take("user_id", exc)
                else:
                    identifiers.append({"thirdPartyUserId": external})
        elif kind == "MOBILE_ADVERTISING_ID":
            ad_id = user.get("mobile_ad_id")
            if ad_id is not None:
                try:
                    identifiers.append({"mobileId": normalize(IdentifierKind.MOBILE_AD_ID, ad_id)})
                except InvalidIdentifier as exc:
                    skipped.take("mobile_ad_id", exc)
        else:
            email, phone = user.get("email"), user.get("phone")
            if email is not None:
                try:
                    identifiers.append({"hashedEmail": _hashed_email(email)})
                except InvalidIdentifier as exc:
                    skipped.take("email", exc)
            if phone is not None:
                try:
                    hashed = normalize_and_hash(
                        IdentifierKind.PHONE,
                        phone,
                        hashed=True,
                        country=user.country,
                        default_country_code=settings.phone_country_code,
                    )
                    identifiers.append({"hashedPhoneNumber": hashed})
                except InvalidIdentifier as exc:
                    skipped.take("phone", exc)
            address = _address(user, skipped)
            if address is not None:
                identifiers.append({"addressInfo": address})
        assert len(identifiers) <= MAX_IDENTIFIERS_PER_USER
        return {"userIdentifiers": identifiers} if identifiers else None

    def missing(self, settings: GoogleAdsCustomerMatchSettings) -> tuple[str, str]:
        return _MISSING[settings.upload_key_type]

    async def perform(
        self, ctx: Context[GoogleAdsCustomerMatchSettings], payload: ListMember[UserData]
    ) -> None:
        result = await _upload(ctx, [payload])
        if result.errors:
            raise result.errors[0]

    async def perform_batch(
        self, ctx: Context[GoogleAdsCustomerMatchSettings], payloads: Sequence[ListMember[UserData]]
    ) -> BatchResult | None:
        result = await _upload(ctx, list(payloads))
        return result if result.errors else None


async def _test_authentication(ctx: Context[GoogleAdsCustomerMatchSettings]) -> None:
    await call(ctx, "GET", f"/{ctx.settings.api_version}/customers:listAccessibleCustomers")


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
    notes=NOTES,
)
