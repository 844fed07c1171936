# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the webhook docs page (``destkit docs webhook`` adds it under "Notes")."""

NOTES = """\
An **event** destination: every message, unchanged, as JSON to a URL you own; optionally batched
and signed per [Standard Webhooks](https://www.standardwebhooks.com/) (v1).

### Event -> request

| event | request |
|---|---|
| any message, `batch_size` = 1 | `{method} {url}`, the message as a JSON object |
| messages, `batch_size` > 1 | `{method} {url}`, a JSON array of up to `batch_size` messages |
| journey step / audience | the message as Engage sends it: `properties`/`traits` `{KEY: true}`, `context.personas`, `integrations` |
| exit of a journey step | refused (`ListRemovalRefused`), never sent: journeys are add-only |
| credentials check | `{method} {url}` with `{"type": "destkit.ping"}`; any 2xx passes |

### Signing

Headers `webhook-id`, `webhook-timestamp` (unix seconds) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. The `webhook-id` is the
message's `messageId` (so a retry carries the same id and receivers can deduplicate); a batch, or
a messageId Standard Webhooks cannot sign (one with `.` or white space), gets
`msg_<digest of the messageIds>`, equally stable across retries. Receivers verify with any
Standard Webhooks library, or with `sdk.connector._signing.verify(secret, headers, body)` (constant-time,
5-minute tolerance). Tested against the specification's published test vector.

### Errors

Statuses follow the SDK defaults: 408, 423, 429 and 5xx (but 501) are retried, honouring
`Retry-After`; other 4xx fail at once with the response recorded in the lifecycle.
"""
