# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the webhook docs page (``destkit docs webhook`` adds it under "Notes")."""

NOTES = """\
An **event** destination: every message, unchanged, as JSON to a URL you own; optionally batched
and signed per [Standard Webhooks](https://www.standardwebhooks.com/) (v1).

### Credentials in the URL and headers

Many receivers authenticate with the URL itself (a path token, as Slack and Discord do; `?code=`
for Azure Functions; `sig=` for Logic Apps) or with a header (`Ocp-Apim-Subscription-Key`,
`X-Functions-Key`, `X-Auth-Key`). destkit treats them as secrets in every record, error and
screen (`destkit send`, `--json`, the tester): every query value of `url`, every token-like path
segment (8+ characters with a digit, or 20+ characters) and every value of `headers` is masked,
except the headers named in `public_headers`. They are still sent as configured.

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
a messageId that is not a clean header token (one with `.`, white space, a control character,
non-ASCII, or over 256 characters), gets `msg_<digest of the messageIds>`, equally stable across retries (a body reshaped by a `mapping:` override without a `messageId`
is named by a digest of its content). Receivers verify with any
Standard Webhooks library, or with `sdk.connector._signing.verify(secret, headers, body)` (constant-time,
5-minute tolerance). Tested against the specification's published test vector.

### Errors

Statuses follow the SDK defaults: 408, 423, 429 and 5xx (but 501) are retried, honouring
`Retry-After`; other 4xx fail at once with the response recorded in the lifecycle.
"""
