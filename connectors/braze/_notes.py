# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the braze docs page (``destkit docs braze`` adds it under "Notes")."""

NOTES = """\
An **event** destination. Identify calls update Braze user profiles (attributes) and track calls
record Braze custom events, both through Braze's Track users endpoint, `POST /users/track`,
batched. A journey step or audience reaches Braze as a boolean custom attribute (identify) or as
a custom event with the key as a property (track), so Canvases and segments can use it.

Reference followed (checked 2026-11): [Track users](https://www.braze.com/docs/api/endpoints/user_data/post_user_track/),
the [user attributes](https://www.braze.com/docs/api/objects_filters/user_attributes_object/),
[event](https://www.braze.com/docs/api/objects_filters/event_object/) and
[user alias](https://www.braze.com/docs/api/objects_filters/user_alias_object/) objects,
[errors and responses](https://www.braze.com/docs/api/errors/) and
[rate limits](https://www.braze.com/docs/api/api_limits/).

### Event -> request

| Segment event | Braze request |
|---|---|
| identify | `POST /users/track` `{"attributes": [{"external_id": userId, ...traits}]}` |
| identify of a journey step / audience | the key as a boolean attribute: `{"external_id": "u1", "j_o_first_purchase__opened_email_dje83h": true}` |
| identify, audience exit | the audience key set to `false` |
| track (any name, `Audience Entered`/`Exited` too) | `{"events": [{"external_id", "name": event, "time": ISO 8601, "app_id"?, "properties"}]}` |
| track of a journey step / audience | properties hold the key (`true`/`false`) and `personas` (`context.personas`) |
| no `userId` | `"user_alias": {"alias_name": anonymousId, "alias_label": alias_label}` instead of `external_id`; attributes objects add `"_update_existing_only": false` so Braze creates the alias-only profile |
| exit of a journey step (`j_o_` key `false`) | refused with `ListRemovalRefused`, never sent: a journey never removes a user |
| page / screen | a custom event `{"events": [{"external_id", "name": "Viewed Pricing Page", "time", "app_id"?, "properties": {...context.page, "name", "category", ...properties}}]}`; `Viewed <name> Screen` for a screen, `Loaded a Page`/`Loaded a Screen` without a name |
| group | the custom attribute `{"attributes": [{"external_id", "ab_segment_group_<groupId>": true}]}` (Braze's Segment partner page, https://www.braze.com/docs/partners/segment/, documents this name and value); the group's traits describe the group, and Braze has no group object: left out with a note naming them |
| alias (`alias_merge: identify`, the default) | `POST /users/identify` `{"aliases_to_identify": [{"external_id": userId, "user_alias": {"alias_name": previousId, "alias_label": alias_label}}]}`: the alias-only profile an anonymous user got is merged into the identified one |
| alias (`alias_merge: alias_new`) | `POST /users/alias/new` `{"user_aliases": [{"external_id": userId, "alias_name": previousId, "alias_label": alias_label}]}` |
| track `Order Completed` / `Product Purchased` | the event as above, plus one purchase object a product in the same request: `{"purchases": [{"external_id", "time", "app_id"?, "product_id" (product_id, else sku, else id), "currency" (`properties.currency` upper-cased, `USD` when absent), "price", "quantity"?, "properties"?: other product fields}]}`; a `Product Purchased` without `products` is one purchase of its own properties |
| credentials check | `POST /users/track` with `{}`: `400` "Valid data must be provided..." means the key was accepted, `401` that it was not |

Traits named by Segment's spec become Braze standard attributes: `firstName` -> `first_name`,
`lastName` -> `last_name`, `birthday` -> `dob` (`YYYY-MM-DD`), `avatar` -> `image_url`,
`address.city` -> `home_city`, `address.country` -> `country`. Every other trait is a custom
attribute of the same name; `external_id`/`user_alias` always come from the message. The docs'
`"true"` string arrives as the boolean `true`.

Two of those standard attributes take only some values ([user attributes object](https://www.braze.com/docs/api/objects_filters/user_attributes_object/),
"Braze user profile fields"):

| trait | sent to Braze | left out (and named in the lifecycle payload's `dropped`) |
|---|---|---|
| `gender` | converted to Braze's letters: `male`/`man`/`m` -> `"M"`, `female`/`woman`/`f` -> `"F"`, `other`/`non-binary` -> `"O"`, `not applicable` -> `"N"`, `prefer not to say` -> `"P"` (any case, `_`/`-` read as spaces); `null` passes through (removes the attribute) | anything else, `unknown` included (the REST object lists no letter for it; `null` means unknown there, but sending `null` would erase a gender Braze already has). Not sent as a custom attribute either: `gender` is a reserved name and any other name would be a guess |
| `address.country` (or a `country` trait) | a 2-letter ISO-3166-1 alpha-2 code, upper-cased: `us` -> `US`, `U.S.` -> `US`, `UK` -> `GB`; `null` passes through | a country name (`United Kingdom`) or a 3-letter code: names are not translated |

`dropped` is part of the lifecycle record only (`{"gender": "not a gender Braze takes (M, F, O, N, P): left out"}`), never sent, and never quotes the value. The event, still delivered, also gets a lifecycle note (`notes`: `trait gender: not a gender Braze takes (M, F, O, N, P): left out`), shown by the event tester and `destkit send`.

A product without a `product_id`/`sku`/`id` or without a numeric `price` is not a purchase
Braze takes: it is left out with a note (`properties.products[2]: no numeric price: not sent as
a Braze purchase`). An order holds at most 74 purchases (75 objects with its event, in one
request); later products are left out with a note. An order whose `currency` is not a 3-letter
ISO 4217 code sends no purchases (its event still goes), with a note: pricing them in USD would
record wrong revenue. A purchase Braze refuses in its non-fatal
`errors` (`input_array: "purchases"`) is noted on the order, which stays delivered: its event was
recorded. An identify without a `language` trait takes Braze's `language` (ISO-639-1) from
`context.locale` (`fr-CA` -> `fr`).

What a Braze object has no room for is said once here rather than on every event: an event
object takes `time`, `app_id` and `properties` only, so `context` (device, os, ip, campaign)
is not sent with track, page and screen calls. Everything a call carries that an object could
take but does not (a trait Braze refuses, a product that is no purchase, a group's traits) is a
lifecycle note.

### Limits

- **75 objects per request in all** (attributes, events and purchases share one batch; a batch
  whose orders carry more is sent in as many requests as it needs). Braze documents 75
  attributes, 75 events and 75 purchases per request; staying at 75 in total respects that and
  the older "75 per request" reading, and keeps one batch per burst of events.
- **1,000 requests per second** (3,000 per three seconds), the documented base limit.
- Attribute and event property names must be 1-255 characters without a leading `$`; a message
  that breaks this fails before sending with a one-line error naming the field
  (`traits.$plan: Braze attribute names must be ...`).
- Segment's 32 KB message limit keeps event properties under Braze's 50 KB.

### Errors

| Braze answer | result |
|---|---|
| `201 {"message": "success"}`, `202 {"message": "queued"}` | delivered |
| `201 {"message": "success", "errors": [{"type", "input_array", "index"}]}` | partial success: Braze still processes "any data not affected by an error". `index` counts within its own `input_array`. An `events` error fails that event (`PayloadValidationError`, not retried: the event was not recorded). An `attributes` error whose `type` quotes one attribute that was sent (`'plan' is not valid`) leaves the identify **delivered** (Braze applied its other attributes); the refused attribute is noted in that event's lifecycle `notes` (`Braze applied attributes[1] except the attribute plan: 'plan' is not valid`; also logged as a warning) and stays in the recorded response. An `attributes` error about the object's identity (`'external_id' or 'braze_id' or 'user_alias' is required`) or naming no attribute sent fails that identify. An error that names no sent object is left in the recorded response. |
| `400` (fatal: bad syntax, "Valid data must be provided...", "Max Input Length Exceeded") | the whole batch fails with `PayloadValidationError`, quoting `message` and the error types |
| `401` | `InvalidAuthentication` (wrong key, or a key of another instance: check `rest_endpoint`) |
| `403` | `InvalidAuthentication` (key without `users.track`, or account inactive) |
| `404` | `IntegrationError` (invalid URL: check `rest_endpoint`) |
| `429` | `RateLimited`, waiting `Retry-After`, else `X-RateLimit-Retry-After`, else until `X-RateLimit-Reset` (epoch seconds) |
| `5xx` (not `501`), network errors | retried with backoff (`Retry-After` honoured) |

Response bodies are redacted before they are quoted; the API key never appears in a lifecycle.
"""
