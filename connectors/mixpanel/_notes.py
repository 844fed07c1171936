# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the mixpanel docs page (``destkit docs mixpanel`` adds it under "Notes")."""

NOTES = """\
An **event** destination. Track calls are imported as Mixpanel events through
`POST /import` in strict mode, and identify calls `$set` user-profile properties through
`POST /engage`, both batched. A journey step or audience reaches Mixpanel as an event property
(track, with `context.personas`) or as a boolean profile property (identify), so cohorts and
reports can use it.

Reference followed (checked 2026-11): Mixpanel's Ingestion API —
[Import Events](https://developer.mixpanel.com/reference/import-events),
[Set Property](https://developer.mixpanel.com/reference/profile-set),
[User Profile Limits](https://developer.mixpanel.com/reference/user-profile-limits),
[400 Bad Request](https://docs.mixpanel.com/troubleshooting/errors/400-bad-request) — and the
`ingestion.openapi.yaml` behind them (servers, strict-mode and rate-limit answers),
[Identifying users (Simplified)](https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-simplified)
and [reserved properties](https://docs.mixpanel.com/docs/data-structure/property-reference/reserved-properties).

### Event -> request

| Segment event | Mixpanel request |
|---|---|
| track | `POST /import?strict=1&project_id=...`, `Authorization: Basic ...`, body `[{"event": event, "properties": {...properties, "time": ms, "distinct_id", "$insert_id", "$user_id", "$device_id", "ip"}}]` |
| track of a journey step / audience | `properties` hold the key (`true`/`false`) and `personas` (`context.personas`) |
| identify | `POST /engage?verbose=1`, body `[{"$token": project_token, "$distinct_id": userId or anonymousId, "$set": traits, "$ip"?}]` (no `Authorization`: the token authenticates) |
| identify of a journey step / audience | the key as a boolean profile property: `{"$set": {"j_o_first_purchase__opened_email_dje83h": true}}` |
| exit of a journey step (`j_o_` key `false`) | refused with `ListRemovalRefused`, never sent: a journey never removes a user |
| page / screen | `/import` as above, event `Viewed <name> Page` / `Viewed <name> Screen` (`Loaded a Page`/`Loaded a Screen` without a name); `properties`: `context.page` (url, path, title, referrer, search), `name`, `category` and the call's properties |
| track `Order Completed` / `Product Purchased` | the event imported as above, then, once imported, `POST /engage?verbose=1` `[{"$token", "$distinct_id", "$append": {"$transactions": {"$time": "2026-11-03T09:30:15", "$amount": revenue}}}]` for Mixpanel's revenue report (`$amount`: `revenue`, else `total`, else `value`; a `Product Purchased` without them: `price` x `quantity`). Without an amount nothing is appended, with a note; a refused append is a note, the order stays delivered |
| group | `POST /engage?verbose=1` `[{"$token", "$distinct_id", "$union": {group_key: [groupId]}}]` (the user joins the group), then, when the call has traits, `POST /groups?verbose=1` `[{"$token", "$group_key": group_key, "$group_id": groupId, "$set": traits}]`; `group_key` is a setting (`company` by default) and must be a group key of the project |
| alias, `id_merge: simplified` (default) | `/import` event `$identify` with `distinct_id`/`$user_id` userId, `$device_id` and `$anon_distinct_id` previousId: Simplified ID Merge links a `$device_id` to the `$user_id` of the first event carrying both (an alias whose previousId is another user id cannot be merged in this mode) |
| alias, `id_merge: original` | `/import` event `{"event": "$merge", "properties": {"$distinct_ids": [userId, previousId], ...}}` (Merge Identities; accepted through `/import` only) |

- `distinct_id` is the userId, else the anonymousId; `$user_id` (userId) and `$device_id`
  (anonymousId) are added as well, so projects on Simplified ID Merge stitch the two.
- Every imported event also takes Mixpanel's default properties from the context (the call's
  own properties win): `$current_url` (`context.page.url`), `$referrer`, `$os`
  (`context.os.name`), `$browser` (from `context.userAgent`: Edge, Opera, Firefox, Chrome,
  Safari), `$screen_width`/`$screen_height` (`context.screen`), `$locale` (`context.locale`),
  `mp_country_code` (`context.location.country` when a 2-letter code), `mp_lib`/`$lib_version`
  (`context.library`), `utm_source`/`utm_medium`/`utm_campaign`/`utm_term`/`utm_content`
  (`context.campaign`). A `context.location.country` that is not a 2-letter code (a country
  name) is not sent as `mp_country_code`, with a note (`context.location.country: not a
  2-letter country code: not sent as mp_country_code`); Mixpanel geolocates from `ip`.
- `time` is the timestamp in milliseconds since epoch; `ip` and `$ip` come from `context.ip`
  (without it, Mixpanel geolocates the sending server).
- `$insert_id` is the messageId when Mixpanel accepts it (at most 36 letters, digits or `-`, not
  a placeholder, as destkit's own `destkit-<16 hex>-<counter>` ids are); any other messageId
  (a 36-character UUID with a prefix, say) is replaced by the first 36 hex digits of its SHA-256, the same on every retry, so deduplication
  holds.
- Traits `email`, `phone`, `name`, `firstName`/`first_name`, `lastName`/`last_name`, `avatar`,
  `createdAt`/`created` become Mixpanel's reserved `$email`, `$phone`, `$name`, `$first_name`,
  `$last_name`, `$avatar`, `$created`; other traits keep their names. Without a `name` trait,
  `$name` is the first and last name joined. The docs' `"true"` string
  arrives as the boolean `true`. Profile updates carry no `context.personas`: the next
  computation would overwrite it; the key itself is the profile property.

There is no credentials check: the Ingestion API has no call for it.

### Limits

- `/import`: **2,000 events and 2 MB (2,097,152 bytes) per request**; batches stay under both.
  (A newer Mixpanel page says 10 MB; the documented 413 answer says 2 MB, which destkit keeps.)
- `/engage`: **2,000 updates per request**, each under 1 MB (a Segment message is at most 32 KB).
- Events: `time` not before 1971-01-01 and not more than one hour in the future (Mixpanel's
  "400 Bad Request" page: `/import` "rejects events dated before 1971-01-01 or more than one hour
  in the future"; the hour is measured on this machine's clock, Mixpanel measures it on its
  own), fewer than 255 properties; placeholder ids (`null`, `anonymous`, `0`, `true`, `[]`, ...)
  are refused. A timestamp without a UTC offset is read as UTC. These fail before sending with a
  one-line error naming the field (`timestamp: must be on or after 1971-01-01 for Mixpanel`,
  `timestamp: must be no more than one hour in the future for Mixpanel`,
  `userId: is a placeholder value that Mixpanel rejects`). An identify with no traits fails with
  `traits: is empty`.
- Rate limit: 2 GB of JSON per minute (about 30,000 events per second) per project; on 429 the
  runtime backs off from 2 s, doubling up to 60 s, with up to 5 s of jitter, as Mixpanel
  recommends.

### Errors

| Mixpanel answer | result |
|---|---|
| `/import` `200 {"code": 200, "num_records_imported", "status": "OK"}` | delivered |
| `/import` `400 {"failed_records": [{"index", "$insert_id", "field", "message"}], "num_records_imported"}` | Mixpanel ingested the valid events: exactly the named ones fail with `PayloadValidationError` naming the field (`properties.time: ...`), the others are delivered and not sent again. A record without `index` is matched by its insert id. |
| `/import` `400` without `failed_records` | `PayloadValidationError` for the whole batch, not retried |
| `401`, `403` | `InvalidAuthentication` |
| `413 "request exceeds max limit of 2097152 bytes"` | the batch is split in halves, down to a single event; a single event answered 413 fails with `PayloadTooLarge` |
| `429` | `RateLimited`: waits `Retry-After` when given, else the backoff above |
| `5xx` (not `501`), network errors | retried with backoff |
| `/engage` `200 {"status": 1, "error": null}` | delivered |
| `/engage` `200 {"status": 0, "error": ...}` (or a bare `0`) | Mixpanel does not say which update it refused: the batch is sent again in halves until each refused update is alone (at most 32 requests; `$set` is idempotent, so a resent update is harmless); each refused update fails with `PayloadValidationError` (`$set: Mixpanel refused the profile update: ...`) |

Response bodies are redacted before they are quoted; the secrets (`service_account_secret`,
`api_secret`, `project_token`) never appear in a lifecycle: `Authorization` is recorded as
`Basic [REDACTED]` and `$token` as `[REDACTED]`.
"""
