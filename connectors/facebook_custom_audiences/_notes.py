# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the facebook_custom_audiences docs page (``destkit docs facebook_custom_audiences`` adds it under "Notes")."""

NOTES = """\
A **list** destination. Users who enter an Engage audience or a journey's "Send to destinations"
step are added to a Meta customer-file custom audience; users who leave an audience are removed.
Journey lists are add-only: a removal for a journey step is refused and never sent. Users are
matched on identifiers normalised as Meta asks and SHA-256 hashed (MADID and EXTERN_ID in clear).

Reference followed (checked 2026-11): Graph API `v25.0`,
[Custom Audience Users](https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users),
[Customer File Custom Audiences](https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences)
(hashing and normalising), [Handling Errors](https://developers.facebook.com/docs/graph-api/guides/error-handling),
[Marketing API error codes](https://developers.facebook.com/docs/marketing-api/error-reference) and
[rate limiting](https://developers.facebook.com/docs/marketing-api/overview/rate-limiting).

### Event -> request

| Segment event | Graph API request |
|---|---|
| track `Audience Entered` `{KEY: true}`, or identify `{KEY: true}` (audience or journey step) | `POST /v25.0/{audience_id}/users` |
| track `Audience Exited` `{KEY: false}`, or identify `{KEY: false}` (audiences) | `DELETE /v25.0/{audience_id}/users` |
| exit of a journey step (`j_o_` key `false`) | refused with `ListRemovalRefused`, never sent |
| any other event | filtered at the destination (no action subscribes) |
| credentials check | `GET /v25.0/{audience_id}?fields=id,name` (`GET /v25.0/me?fields=id` with only a map) |

The body of both calls (JSON):

```json
{
  "payload": {
    "schema": ["EMAIL", "PHONE", "FN", "EXTERN_ID"],
    "data": [["<sha256 email>", "<sha256 phone>", "<sha256 first name>", "user-1"],
             ["<sha256 email>", "", "", "user-2"]]
  },
  "session": {"session_id": 4821930137466052001, "batch_seq": 1, "last_batch_flag": true,
              "estimated_num_total": 2},
  "access_token": "...",
  "appsecret_proof": "..."
}
```

The schema is the keys any user of the request has, in the order above; a user without one of
them has `""` in its place, as Meta's multi-key example shows.

### Upload sessions

Each batch the runtime hands over (up to 10,000 users of one audience and one operation) is one
upload session, sent in requests of `batch_size` users (one request with the defaults). The
`session` object of the users edge is filled as Meta describes it:

| field | value |
|---|---|
| `session_id` | the same on every request of the session: a positive 63-bit hash of the operation (add/remove), the audience id and the batch's `messageId`s |
| `batch_seq` | `1`, `2`, `3`... in the order the session's requests are sent |
| `last_batch_flag` | `true` on the session's last request only |
| `estimated_num_total` | the users in the whole session |

So a retry of the same batch (a 5xx, a throttle) resends the same `session_id` and `batch_seq`,
while any other upload gets its own id: adding a user, removing them and adding them again are
three sessions, although their rows are identical (before, the id was a hash of the rows, so all
three carried one id, each with `last_batch_flag: true`). Meta reports each session's
`num_received`/`num_invalid_entries` on `GET /{audience_id}/sessions` under that id.

If a request after the first one of a session fails, the users of the requests already answered
stay delivered (with their invalid entries, if any), the failed request's users and those not yet
sent fail with its error, and the session's remaining requests are not made; retryable failures are
retried as a new session of their own. A failure of the first request fails the whole batch, which
is retried with the same `session_id`.

Identifiers are read from the event traits, track properties and `context.traits` (first found):

| Meta key | from | normalised (then SHA-256 hex) |
|---|---|---|
| EMAIL | `email` | trimmed, lowercased, must look like `local@domain.tld`; a 64-hex value passes through |
| PHONE | `phone` | digits with country code, no `+`, no trunk zero (`+44 (0)20 7946 0958` -> `442079460958`) |
| FN / LN | `first_name`/`firstName`, `last_name`/`lastName` | lowercase letters only (`Mary-Ann` -> `maryann`) |
| CT / ST | `address.city`, `address.state` | lowercase letters, no spaces; U.S. states as 2-letter codes |
| ZIP | `address.postal_code` | lowercase, no spaces; U.S. first 5 digits, UK area/district/sector |
| COUNTRY | `address.country` | ISO 3166-1 alpha-2, lowercase (`UK` -> `gb`) |
| GEN | `gender` | `m` / `f` |
| DOBY / DOBM / DOBD | `birthday` (ISO date) | `YYYY`, `MM`, `DD` |
| MADID | `context.device.advertisingId` | lowercase UUID, **not hashed** |
| EXTERN_ID | `userId` | trimmed, **not hashed** |

A phone written without a calling code (neither `+` nor `00`) takes the calling code of the
user's own country (`traits.address.country`, else `context.location.country`, as an ISO 3166-1
alpha-2 code) before the connector-wide `phone_country_code`; with neither it is left out.
Invisible characters (byte-order mark, zero-width space or joiner, left-to-right or right-to-left
mark, NUL and the other format and control characters) are stripped at the ends of a value as
white space is; inside an email, phone, advertising id or external id they leave the identifier
out, never hashed into a digest that matches nobody (names, cities and states keep letters only).

An identifier that cannot be normalised is left out, listed in the lifecycle payload's
`skipped` (`{"email": "must look like local@domain.tld, without spaces"}`) and noted in the
lifecycle's `notes`, naming the field and the rule (`traits.email: left out of the list upload:
must look like local@domain.tld, without spaces`); a user with no usable identifier fails before
any request with a one-line error naming the field. The list plumbing (which audience, add or
remove, add-only journeys, the notes) is the SDK's `sdk.connector.ListAction`.

### Limits

- **10,000 users per request** ("only a maximum of 10000 at a time"); adds and removals, and
  different audiences, never share a request (nor a session).
- **10,000 users per session**: the runtime's batch is held to the vendor's per-request maximum,
  so a session spans several requests only when `batch_size` is smaller.
- Meta applies changes asynchronously ("usually take up to 24 hours").
- An add and a removal of the same user in one `send_many` go out in two concurrent requests;
  their order at Meta is not guaranteed.

### Errors

| Meta answer | destkit error | retried |
|---|---|---|
| `200` with `num_invalid_entries` > 0 | the users found in `invalid_entry_samples` (or all, when every entry was invalid, or the only one) fail with `PayloadValidationError` (`payload.data[1]: Invalid hash format`); a count that cannot be pinned on a user is logged as a warning and stays in the recorded response | no |
| `error.code` 102, 190 (expired or invalid token), subcodes 458-467 | `InvalidAuthentication` | no |
| `error.code` 3, 10, 200-299 (permissions) | `InvalidAuthentication` ("permission refused: ...") | no |
| `error.code` 4, 17, 32, 341, 613, 80000-80014 (80003: custom audience throttling) | `RateLimited`, waiting `Retry-After` or `X-Business-Use-Case-Usage`'s `estimated_time_to_regain_access` | yes |
| `error.code` 1, 2, 368, or `is_transient: true` | `RetryableError` | yes |
| `error.code` 100 (invalid parameter, e.g. 1713230 audience upload blocked) | `PayloadValidationError` naming the parameter (`payload[schema]: Graph API error #100/...`) | no |
| any other error, or a non-JSON answer | by HTTP status: 5xx and 429 retried, 401/403 `InvalidAuthentication`, other 4xx `PayloadValidationError` | 5xx/429 |

Messages carry the code, subcode, type, `error_user_title`/`error_user_msg` and `fbtrace_id`, on
one line. The access token and app secret never appear in a lifecycle record: the body field
`access_token` and the query parameter are masked, and so is every occurrence of their values.
"""
