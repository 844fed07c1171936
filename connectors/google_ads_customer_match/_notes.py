# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the google_ads_customer_match docs page (``destkit docs google_ads_customer_match`` adds it under "Notes")."""

NOTES = """\
A **list** destination. Users who enter an Engage audience or a journey's "Send to destinations"
step are added to a Google Ads Customer Match user list; users who leave an audience are removed.
Journey lists are add-only: a removal for a journey step is refused and never sent. Each batch is
one offline user data job: created, filled with operations, then run.

Reference followed (checked 2026-11): Google Ads API REST `v26`,
[OfflineUserDataJobService](https://developers.google.com/google-ads/api/rest/reference/rest/v26/customers.offlineUserDataJobs)
(`create`, `addOperations`, `run`),
[Customer Match](https://developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match)
(normalising, hashing, limits), [partial failures](https://developers.google.com/google-ads/api/docs/best-practices/partial-failures),
[quotas](https://developers.google.com/google-ads/api/docs/best-practices/quotas) and the OAuth 2.0
refresh-token flow (`https://oauth2.googleapis.com/token`).

### Event -> request

| Segment event | Google Ads requests |
|---|---|
| track `Audience Entered` `{KEY: true}`, or identify `{KEY: true}` (audience or journey step) | a job of `create` operations |
| track `Audience Exited` `{KEY: false}`, or identify `{KEY: false}` (audiences) | a job of `remove` operations |
| exit of a journey step (`j_o_` key `false`) | refused with `ListRemovalRefused`, never sent |
| any other event | filtered at the destination (no action subscribes) |
| credentials check | token, then `GET /v26/customers:listAccessibleCustomers` |

A job, for the users of one batch (one list; adds and removals apart):

1. `POST https://oauth2.googleapis.com/token`, form `grant_type=refresh_token&client_id=...&client_secret=...&refresh_token=...`
   -> `{"access_token", "expires_in"}`: only when no token is cached for this delivery, or the
   cached one expires within a minute, or the API just answered 401.
2. `POST /v26/customers/{customer_id}/offlineUserDataJobs:create`
   `{"job": {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": {"userList": "customers/{customer_id}/userLists/{list_id}", "consent": {...}}}}`
   -> `{"resourceName": "customers/.../offlineUserDataJobs/..."}`.
3. `POST /v26/{resourceName}:addOperations`
   `{"operations": [{"create": {"userIdentifiers": [{"hashedEmail": ...}, {"hashedPhoneNumber": ...}, {"addressInfo": {...}}]}}], "enablePartialFailure": true}`,
   as many calls as needed for `operations_per_request` operations and 100,000 identifiers each.
4. `POST /v26/{resourceName}:run` `{}` (skipped when every operation failed).

Every API call carries `Authorization: Bearer <access token>`, `developer-token` and, when set,
`login-customer-id`. Google processes the job asynchronously (it may take hours).

Identifiers by `upload_key_type` (read from event traits, track properties, then `context.traits`):

| key type | UserIdentifier | from | normalised |
|---|---|---|---|
| CONTACT_INFO | `hashedEmail` | `email` | trimmed, lowercased, SHA-256 (removing gmail dots is "not required") |
| | `hashedPhoneNumber` | `phone` | E.164 with `+` (`+14155550100`), SHA-256 |
| | `addressInfo` | `first_name`, `last_name`, `address.country`, `address.postal_code` | all four or none: `hashedFirstName`/`hashedLastName` trimmed and lowercased then SHA-256, `countryCode` (`US`) and `postalCode` in clear |
| CRM_ID | `thirdPartyUserId` | `userId` | trimmed |
| MOBILE_ADVERTISING_ID | `mobileId` | `context.device.advertisingId` | lowercase UUID |

A phone written without a calling code (neither `+` nor `00`) takes the calling code of the
user's own country (`traits.address.country`, else `context.location.country`, as an ISO 3166-1
alpha-2 code) before the connector-wide `phone_country_code`; with neither it is left out.
Invisible characters (byte-order mark, zero-width space or joiner, left-to-right or right-to-left
mark, NUL and the other format and control characters) are stripped at the ends of a value as
white space is; inside an email, phone, advertising id or external id they leave the identifier
out, never hashed into a digest that matches nobody (names, cities and states keep letters only).

Google documents removing the periods of gmail.com / googlemail.com addresses as not required for
Customer Match ("they'll still be accepted"), so addresses are hashed with their periods.

An identifier that cannot be normalised (or an incomplete address) is left out, listed in the
lifecycle payload's `skipped` and noted in the lifecycle's `notes`, naming the field and the rule
(`traits.address: left out of the list upload: needs first_name, last_name,
address.postal_code too (Google matches all four)`); a user with no usable identifier fails
before any request with a one-line error naming the field (`context.device.advertisingId: is
required: ...`). The list plumbing is the SDK's `sdk.connector.ListAction`.

### Limits

- At most **100,000 identifiers per `addOperations` request** and **20 per UserData** (the
  connector sends at most 3); about **10,000 per call recommended**, the default.
- `batch_size` users per job (10,000 by default); lists and adds/removals never share a job.
- The token, job creation and run calls are plumbing: the contract counts users only in
  `addOperations` requests (`is_auxiliary`).

### Errors

| Google answer | destkit error | retried |
|---|---|---|
| `200` `addOperations` with `partialFailureError` | each operation at `operations[i]` (from `location.fieldPathElements`) fails with `PayloadValidationError` naming the field path and error code (`operations[1].create.user_identifiers[0].hashed_email: The SHA256 encoded value is malformed. (offlineUserDataJobError=INVALID_SHA256_FORMAT)`); the rest are run; an error not pinned on an operation fails every operation of that request | no |
| `401 UNAUTHENTICATED` | token refreshed once and the call repeated; a second 401 is `InvalidAuthentication` | no |
| token endpoint `400`/`401` `{"error": "invalid_grant" ...}` | `InvalidAuthentication` ("OAuth token refresh refused: invalid_grant (...)") | no |
| `403 PERMISSION_DENIED` (developer token not approved, no access to the account) | `InvalidAuthentication` ("permission refused: ...") | no |
| `429 RESOURCE_EXHAUSTED` | `RateLimited`, waiting `quotaErrorDetails.retryDelay` or `Retry-After` | yes |
| `400 INVALID_ARGUMENT`, `404 NOT_FOUND`, `FAILED_PRECONDITION` | `PayloadValidationError` with the field path (`job.customer_match_user_list_metadata.user_list: ...`) | no |
| `CONCURRENT_MODIFICATION`, `INTERNAL_ERROR`, `TRANSIENT_ERROR` codes | `RetryableError` | yes |
| any other error, or a non-JSON answer | by HTTP status: 5xx and 429 retried, 401/403 `InvalidAuthentication`, other 4xx `PayloadValidationError` | 5xx/429 |

A retried batch creates a new job: a job whose operations were not all added is never run.
Messages carry the gRPC status, the first `GoogleAdsError` (and how many more) and the
`requestId`, on one line. The developer token, client secret, refresh token and the access token
obtained at run time never appear in a lifecycle record (form body, headers and token answer
are masked).
"""
