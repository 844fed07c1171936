# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the braze_canvas docs page (``destkit docs braze_canvas`` adds it under "Notes")."""

NOTES = """\
A **journey** destination: the Braze side of journey-to-journey "Send to Destination". When a
user reaches a journey step connected to it (a track `Audience Entered` carrying the step key,
or an identify with the key trait `true`), the connector enters the user into a Braze Canvas
through API-triggered entry, `POST /canvas/trigger/send`, passing the source journey's context
as the recipient's `canvas_entry_properties`. Audience entries enter the Canvas the same way.

Reference followed (checked 2026-11):
[Send Canvas messages using API-triggered delivery](https://www.braze.com/docs/api/endpoints/messaging/send_messages/post_send_triggered_canvases/),
the [recipients object](https://www.braze.com/docs/api/objects_filters/recipient_object/),
the [Canvas entry properties / context object](https://www.braze.com/docs/api/objects_filters/context_object/),
[Export Canvas details](https://www.braze.com/docs/api/endpoints/export/canvas/get_canvas_details/),
[errors](https://www.braze.com/docs/api/errors/) and [rate limits](https://www.braze.com/docs/api/api_limits/).
Braze errors are mapped by the helper shared with the `braze` connector (`connectors/braze/_api.py`).

### Event -> request

```json
POST /canvas/trigger/send
Authorization: Bearer <api_key>
{
  "canvas_id": "<canvas_id>",
  "recipients": [
    {
      "external_user_id": "u1",
      "canvas_entry_properties": {
        "source_journey": "First Purchase", "source_step": "...", "offer_code": "WELCOME10",
        "...": "every entry of context.journey_context (the source journey's context)",
        "j_o_first_purchase__opened_email_dje83h": true,
        "...": "the event's other properties (track) or traits (identify)",
        "personas": {"computation_class": "audience", "computation_id": "aud_...",
                     "computation_key": "j_o_first_purchase__opened_email_dje83h",
                     "namespace": "spa_...", "space_id": "spa_..."}
      }
    }
  ],
  "broadcast": false
}
```

| Segment event | result |
|---|---|
| track `Audience Entered` with the step (or audience) key | one recipient, as above |
| identify with the key trait `true` (or `"true"`) | the same; traits become the properties |
| no `userId` | recipient `{"user_alias": {"alias_name": anonymousId, "alias_label": alias_label}}` (the API takes `external_user_id` or `user_alias`, never both) |
| audience exit (`Audience Exited`, key `false`) | **filtered at the destination**, never sent: a Canvas entry is one-time and there is nothing to undo. The lifecycle records `enter_canvas: <key>: an audience exit does not enter a Canvas` (the action raises `sdk.SkipEvent`). |
| exit of a journey step (`j_o_` key `false`) | refused with `ListRemovalRefused`, never sent: journeys never emit one, so one is a mistake worth seeing |
| any other event (plain track, identify without a key, page...) | filtered at the destination |
| credentials check | `GET /canvas/details?canvas_id=...`: checks the key, the permission, that the Canvas exists, and that it is neither archived nor inactive |

### How it corresponds to the seed's "Send to Destination" rules

| Braze's Send to Destination step | this connector |
|---|---|
| real-time entry: users enter as soon as they reach the step, ignoring a scheduled entry window | each entry event is sent when it is delivered (batched only with entries already waiting, at most 50); API-triggered entry does not wait for a schedule |
| a one-time entry point at the **first step**; no linking into a later step | `/canvas/trigger/send` always starts the Canvas at its first step; exits are never sent |
| users must meet the destination's entry and audience criteria, evaluated at that moment | not decided here: Braze evaluates each recipient against the Canvas's own entry/audience criteria (and only users known to Braze enter, `send_to_existing_only` defaulting to `true`); ineligible users simply do not enter, which is not an error |
| the source context is always passed to the destination | the source journey's context (below), the step key, `context.personas` and the event's properties/traits, as `canvas_entry_properties` (or `context`) |
| users also continue in the source journey | nothing to do: the connector never changes the source journey |
| the destination may be a draft or idle Canvas | **differs**: through the API, an archived, stopped or paused Canvas enters no one. Braze answers `201` with a `notice`; the connector reports it as `IntegrationError: Braze entered no one: <notice>`, and the credentials check warns before the first send |

### The source journey's context

Seed 000: "The context of the source Canvas is always passed to the destination Canvas." When a
journey sends a user on to another journey (`send_to_journey`), every event the destination
journey's steps emit carries the source context in `context.journey_context`
(`sdk.journeys._payloads.emit`): `source_space_id`, `source_journey`, `source_step`,
`source_step_id`, `source_step_key`, `entered_at`, and the `send_to_journey` step's own
`context` entries (`offer_code: WELCOME10`). The connector puts each entry at the top level of
the recipient's `canvas_entry_properties` (or `context`), where the Canvas reads it as
`{{canvas_entry_properties.${offer_code}}}` / `{{context.${offer_code}}}`.

On a name clash the event's own properties or traits win over a source-context entry, and the step
key (`true`) and `personas` win over both. A `journey_context` that is not an object is refused
before sending (`InvalidEvent: context.journey_context: must be an object ...`). Events of a
journey the user entered directly carry no `journey_context`: nothing is added.

### Limits

- **50 recipients per request** (Braze's documented maximum); more entries go out in several
  requests. Braze dedupes a recipient listed twice in one request.
- **250,000 requests per hour** (about 69 per second), shared by non-broadcast calls to
  `/messages/send`, `/campaigns/trigger/send` and `/canvas/trigger/send`.
- Entry properties are limited to 50 KB by Braze; Segment's 32 KB message limit keeps them under it.

### Errors

| Braze answer | result |
|---|---|
| `201 {"dispatch_id", "message": "success"}` | delivered |
| `201` with a `notice` (Canvas archived, stopped or paused) | `IntegrationError` (not retried): nobody entered |
| `400` (e.g. invalid Canvas ID, too many recipients) | `PayloadValidationError` for the batch, quoting Braze's `message` |
| `401` / `403` | `InvalidAuthentication` (wrong key or instance / missing permission or inactive account) |
| `404` | `IntegrationError` (invalid URL: check `rest_endpoint`) |
| `429` | `RateLimited`, waiting `Retry-After`, else `X-RateLimit-Retry-After`, else until `X-RateLimit-Reset` |
| `5xx` (not `501`), network errors | retried with backoff |

Per-recipient failures are not reported by this endpoint: a request succeeds or fails as a whole.
"""
