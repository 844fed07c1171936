# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the segment docs page (``destkit docs segment`` adds it under "Notes")."""

NOTES = """\
An **event** destination that forwards messages to a Segment source through the
[HTTP Tracking API](https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/)
(`POST /v1/batch`, checked 2026-11), so one space or workspace can chain into another.

Messages go as they arrived (same `messageId`, `context.personas`, properties and traits), with
two changes so the receiving workspace treats them as its own:

- **`integrations` is reset for the receiving workspace.** A journey event carries
  `{"All": false, "Segment": true}`; forwarded unchanged, `All: false` would turn off every
  destination of the receiving workspace ("Selecting Destinations" in the reference above: no
  destination is enabled unless named). So `All` and the connector's own `Segment` entry are
  dropped, entries naming other destinations are kept (`"Mixpanel": false` still keeps it out
  of Mixpanel downstream), and an object left empty is left out: the receiving workspace's
  destinations apply their normal rules. `strip_integrations: true` drops the whole object.
- **A top-level `writeKey` is always dropped.** The HTTP API accepts the write key in the body
  as an alternative to Basic auth, so a message copied from an upstream source may carry that
  source's key; it is never forwarded. The receiving source's key goes in the
  `Authorization` header only.

### Event -> request

| event | request |
|---|---|
| any message (track, identify, page, screen, group, alias) | `POST /v1/batch`, `Authorization: Basic base64(write_key:)`, `{"batch": [message, ...], "sentAt": ...}`, each message without `writeKey` and with `integrations` reset (above) |
| journey step entry (track `Audience Entered` / identify with the key trait `true`) | forwarded with its key and `context.personas` |
| audience exit (`Audience Exited` / key `false`) | forwarded (audiences have exits) |
| batching | up to 500 messages and 500 KB per request (Segment's batch limit, less the envelope) |
| a message over 32 KB | refused before any request (`PayloadTooLarge`, naming the size) |
| exit of a journey step | refused (`ListRemovalRefused`), never sent |
| credentials check | `POST /v1/batch` with an empty batch (Segment answers 200 to any key: this proves reachability and shape) |

`messageId` is kept, so the receiving source deduplicates retries.

### Segment's answers

| answer | result |
|---|---|
| `200` | delivered (Segment answers 200 to every request it accepts; events it drops later show in its Debugger only) |
| `400 Bad Request` (a message over 32 KB, a batch over 500 KB, invalid JSON) | `PayloadValidationError`, not retried |
| `429` with `Retry-After` (and `X-RateLimit-Reset`) in seconds | `RateLimited`: retried after the larger of `Retry-After` (capped) and the backoff |
| `5xx` (not `501`), network errors | retried with backoff; the same batch (same `messageId`s) is resent |
"""
