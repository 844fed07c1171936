# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the google_analytics_4 docs page (``destkit docs google_analytics_4`` adds it under "Notes")."""

NOTES = """\
An **event** destination. Track, page and screen calls become GA4 events sent through the
Measurement Protocol. The collection server answers 2xx for everything it receives, even an event
it then drops, so the connector makes each event follow GA4's rules before sending, and every
name it changes, value it cuts or property it leaves out is a lifecycle note naming the field and
the rule.

Reference followed (checked 2026-11): [Measurement Protocol reference](https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference),
[sending events](https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events),
[validating events](https://developers.google.com/analytics/devguides/collection/protocol/ga4/validating-events),
[limitations and reserved names](https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference#limitations)
and the [recommended events](https://developers.google.com/analytics/devguides/collection/ga4/reference/events).

The `measurement_id` must be a web data stream's `G-XXXXXXX` (refused at load otherwise); the
`api_secret` travels in the query string and is masked in every recorded URL, log line, error and
note; `region: eu` sends to `region1.google-analytics.com`.

### Segment call -> request

Every request is `POST /mp/collect?measurement_id=G-...&api_secret=...` with
`{"client_id", "user_id"?, "timestamp_micros", "events": [{"name", "params"}]}`.

| Segment call | GA4 event | what it notes |
|---|---|---|
| track `Order Completed`, `Product Added`, `Product Viewed`, `Checkout Started`, `Signed Up`... | the recommended event: `purchase`, `add_to_cart`, `view_item`, `begin_checkout`, `sign_up` (see `RECOMMENDED` in `_rules.py`); `revenue`/`total` -> `value`, `order_id` -> `transaction_id`, `query` -> `search_term`, `products` -> `items` (`item_id`, `item_name`, `price`, `quantity`, `item_category`, `item_brand`, `item_variant`, `coupon`, `index`) | products without an id or name, items over 200 |
| track `E` (any other) | `E` in GA4's form: snake case, letters/digits/underscores, starting with a letter, at most 40 characters | the rename (`'Video Played!' sent as 'video_played'`) |
| track with a reserved name (`session_start`, `first_visit`...) or prefix (`_`, `firebase_`, `ga_`, `google_`, `gtag.`) | none: refused before sending (`InvalidEvent`, exit 2) | |
| track `Audience Entered` / `Audience Exited` (Engage) | `audience_entered` / `audience_exited` with `computation_key`, `computation_id`, `space_id` | |
| page | `page_view`: `page_location`, `page_title`, `page_referrer` (properties, else `context.page`), `page_name` | as track |
| screen | `screen_view`: `screen_name` | as track |
| identify | none: filtered, "GA4's Measurement Protocol records events only: user properties travel with an event, and there is no profile update to send an identify call as" | |
| group | none: filtered, "GA4 has no group or account object, so a group call is not sent" | |
| alias | none: filtered, "GA4 has no alias call: user_id on each event links a user's devices" | |
| credentials check | `POST /debug/mp/collect` (the validation server, which records nothing) with one test event; its `validationMessages` become the error (`measurement_id: GA4 validation: ... (VALUE_INVALID)`) | |

Parameters (every call's properties): names made legal as event names are (noted when renamed);
reserved prefixes left out (noted); string values cut to 100 characters (noted); objects and
lists other than `products` left out (noted); at most 25 parameters, the rest left out and listed
in one note. `client_id` is `integrations["Google Analytics 4"].clientId`, else the `anonymousId`,
else the `userId` (noted); `user_id` is the `userId`; `integrations["Google Analytics 4"].sessionId`
becomes the `session_id` parameter.
"""
