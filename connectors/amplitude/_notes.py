# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the amplitude docs page (``destkit docs amplitude`` adds it under "Notes")."""

NOTES = """\
An **event** destination. Track calls become Amplitude events and identify calls become
`$identify` events that `$set` user properties, all through Amplitude's HTTP V2 API,
`POST /2/httpapi`, batched. A journey step or audience reaches Amplitude as an event property
(track, with `context.personas`) or as a boolean user property (identify), so cohorts and charts
can use it.

Reference followed (checked 2026-11): [HTTP V2 API](https://amplitude.com/docs/apis/analytics/http-v2)
(request keys, upload limits, every response shape) and
[Batch and retry HTTP V2 API requests](https://amplitude.com/docs/apis/analytics/http-api-batching-retries)
("when a 400 response lists rejected events, remove those events and resend the rest").

### Event -> request

Every request is `POST /2/httpapi` with `Content-Type: application/json` and
`{"api_key": ..., "events": [...], "options"?: {...}}`; each Segment event is one element of
`events`.

| Segment event | Amplitude event |
|---|---|
| track | `{"user_id": userId, "device_id": anonymousId, "event_type": event, "time": ms since epoch, "insert_id": messageId, "event_properties": properties}` |
| track of a journey step / audience | `event_properties` hold the key (`true`/`false`) and `personas` (`context.personas`) |
| identify | `{"user_id", "device_id", "time", "insert_id", "event_type": "$identify", "user_properties": {"$set": traits}}` |
| identify of a journey step / audience | the key as a boolean user property: `{"$set": {"j_o_first_purchase__opened_email_dje83h": true}}` |
| exit of a journey step (`j_o_` key `false`) | refused with `ListRemovalRefused`, never sent: a journey never removes a user |
| page / screen | an event `Viewed <name> Page` / `Viewed <name> Screen` (`Loaded a Page`/`Loaded a Screen` without a name, as Amplitude's Segment integration names them); `event_properties`: `context.page` (url, path, title, referrer, search), `name`, `category` and the properties |
| track `Order Completed` (or `Product Purchased` with `products`) | the order's event (without `revenue` of its own when its products carry it), plus one `Product Purchased` event per product with `price`, `quantity` (1 when absent), `productId` (`product_id`/`productId`/`sku`/`id`), `revenueType` (`properties.revenueType`, else `Purchase`), `event_properties` the product, `insert_id` `<messageId>-<n>`; a product without a numeric price has no revenue event and is noted |
| track `Product Purchased` without `products` | one event carrying the revenue keys of its own properties |
| group | an `$identify` event with `"groups": {group_type: groupId}` and `"user_properties": {"$set": {group_type: groupId}}`, then, when the call has traits, `POST /groupidentify` (form: `api_key`, `identification=[{"group_type", "group_value": groupId, "group_properties": {"$set": traits}}]`). `group_type` is a setting (`company` by default); groups need Amplitude's Accounts add-on |
| alias, `usermap` on | `POST https://api.amplitude.com/usermap` (EU: `api.eu.amplitude.com`), form: `api_key`, `mapping=[{"user_id": previousId, "global_user_id": userId}]` (Portfolio's User Mapping API) |
| alias, `usermap` off (default) | refused with the reason (recorded as filtered): Amplitude links a user's devices by `user_id` itself, and mapping one user id to another needs the User Mapping API |

Documented event keys are also filled where the message has them: `session_id`
(`integrations.Amplitude.session_id`, ms since epoch; a fractional one is left out with a note),
`platform` (`context.device.type`: `ios` -> `iOS`, `android` -> `Android`; `Web` when the call
has `context.page`), `ip` (`context.ip`), `app_version`, `os_name`, `os_version`,
`device_brand`, `device_manufacturer`, `device_model`, `carrier`
(`context.network.carrier`), `country`, `region`, `city`, `location_lat`, `location_lng`
(`context.location`), `language` (`context.locale`), `idfa`/`adid`
(`context.device.advertisingId` for iOS/Android devices), and from track properties `revenue`,
`price`, `quantity`, `productId` (`productId`/`product_id`), `revenueType`. `library` is not a
documented HTTP V2 key, so it is not sent. The docs' `"true"` string arrives as the boolean
`true`. A `revenue`, `price` or `quantity` property that is not a number stays in
`event_properties` but is not sent as Amplitude's key, with a note
(`revenue left out: $.properties.revenue is text, not a number`); so does any context value of
the wrong type (`os_name left out: $.context.os.name is a number, not text`),
and an `advertisingId` of a device that is neither iOS nor Android (neither `idfa` nor `adid`) is
left out with a note. Identify events carry no `context.personas`: a user property would be overwritten by the
next computation; the key itself is the user property.

There is no credentials check: the HTTP V2 API has no call for it.

### Limits

- **2,000 events and under 1 MB per request** (Amplitude answers 413 above): batches never hold
  more than `events_per_request` events nor 1,000,000 bytes with the envelope.
- **30 events per second per user or device**: Amplitude answers 429 for throttled ones; they are
  paused 30 s, as Amplitude asks, then sent again.
- **100 requests per second** (the Starter plans' upload limit), enforced by the rate limiter.
- `insert_id` (the messageId) deduplicates for 7 days, so retries never duplicate events.
- Ids shorter than `min_id_length` (5 by default) or one of Amplitude's placeholder ids
  (`null`, `anonymous`, `0`, ...) are **left out of the event**, `userId` and `anonymousId`
  alike: Amplitude's rule is that "if an event contains a device ID or user ID that's too short,
  the ID value is removed from the event" (sent anyway, Amplitude refuses the whole request with
  `400 events_with_invalid_id_lengths`). The lifecycle payload names what was left out, without
  the value: `"dropped": {"user_id": "userId is shorter than 5 characters: left out"}` (the
  `dropped` entry is a record, never sent), and the lifecycle's `notes` say it too
  (`userId is shorter than 5 characters: left out`), shown by the event tester and `destkit send`. Only an event left with neither id fails, before
  sending, with one line naming both fields: `userId, anonymousId: Amplitude needs one of them
  (userId is shorter than 5 characters; anonymousId is missing; set min_id_length to allow
  shorter ids)`. Event names `[Amplitude] ...`,
  `$identify` and `$groupidentify` are reserved (`event: is an event name Amplitude reserves`).

### Errors

Amplitude ingests nothing of a request it answers 400 or 429, so the events it names get their
own result and the others are sent again at once, in the same attempt (each request is one
exchange of the attempt; after 4 requests the rest wait for the next attempt).

| Amplitude answer | result |
|---|---|
| `200 {"code": 200, "events_ingested", ...}` | delivered |
| `400 {"events_with_invalid_fields": {field: [i]}, "events_with_missing_fields": {field: [i]}, "events_with_invalid_id_lengths": {"user_id"/"device_id": [i]}}` | exactly those events fail with `PayloadValidationError` naming the field (`time: has a value Amplitude rejects as invalid ...`, `user_id: has a length Amplitude rejects (HTTP 400 events_with_invalid_id_lengths)`); the rest are sent again. Amplitude lists only the first event per field, so a later bad event is named by the next answer. |
| `400 {"silenced_devices": [device_id], "silenced_events": [i], "throttled_events": [i], "exceeded_daily_quota_devices": {...}}` | silenced events (by index, or by a `device_id` among `silenced_devices`): `IntegrationError`, not retried; throttled ones: paused 30 s; over the daily quota: not retried; the rest are sent again |
| `400 {"error": "Invalid API key"}` | `InvalidAuthentication` for the whole batch |
| `400` with `missing_field` (`api_key`, `events`), or naming no event | `PayloadValidationError` for the whole batch, not retried |
| `413 Payload too large` | the batch is split in halves and each half sent, down to a single event; a single event answered 413 fails with `PayloadTooLarge` |
| `429 {"throttled_users", "throttled_devices", "throttled_events"}` | those users' and devices' events: `RateLimited`, waiting 30 s; the rest are sent again at once |
| `429 {"exceeded_daily_quota_users" / "exceeded_daily_quota_devices"}` | those events: `IntegrationError`, not retried (the quota resets the next day) |
| `429` naming no event | `RateLimited` for the batch, waiting `Retry-After` or 30 s |
| `403` (Amplitude's firewall) | `InvalidAuthentication`, not retried |
| `5xx` (not `501`), network errors | retried with backoff |

Response bodies are redacted before they are quoted; the API key never appears in a lifecycle
(the recorded request body shows `"api_key": "[REDACTED]"`).
"""
