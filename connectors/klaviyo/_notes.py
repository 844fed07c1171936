# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the klaviyo docs page (``destkit docs klaviyo`` adds it under "Notes")."""

NOTES = """\
An **event** destination with list membership. Track, page and screen calls become Klaviyo
events, identify calls create or update the profile, and Engage audience and journey membership
becomes Klaviyo list membership (adds and removals for audiences; journeys are add-only, so a
journey exit is refused and never sent). List membership runs on the SDK's list plumbing
(`sdk.connector.ListAction`): the computation key chooses the list, identifiers are read and
normalised once, and every identifier left out is a lifecycle note.

Reference followed (checked 2026-11): Klaviyo REST API, revision `2026-10-15`
([API overview](https://developers.klaviyo.com/en/reference/api_overview),
[Create Event](https://developers.klaviyo.com/en/reference/create_event),
[Create or Update Profile](https://developers.klaviyo.com/en/reference/create_or_update_profile),
[Bulk Import Profiles](https://developers.klaviyo.com/en/reference/bulk_import_profiles),
[Get Profiles](https://developers.klaviyo.com/en/reference/get_profiles),
[Remove Profiles from List](https://developers.klaviyo.com/en/reference/remove_profiles_from_list),
[Get Accounts](https://developers.klaviyo.com/en/reference/get_accounts)).

Every request carries `Authorization: Klaviyo-API-Key <private key>`, `revision: 2026-10-15` and
`Content-Type`/`Accept: application/vnd.api+json`.

### Segment call -> request

| Segment call | request | what it notes |
|---|---|---|
| track `E` | `POST /api/events/`: metric `E`, `properties`, `time` (timestamp), `value` (`revenue`, else `value`) and `value_currency` (`currency`), `unique_id` (messageId), profile identifiers | each identifier left out, with its rule |
| page | `POST /api/events/`: metric `Viewed Page`, `properties` with `name` and `context.page` `url`, `path`, `title`, `referrer`, `search` | as track |
| screen | `POST /api/events/`: metric `Viewed Screen`, `properties` with `name` | as track |
| identify | `POST /api/profile-import/`: `email`, `phone_number`, `external_id`, `anonymous_id`, `first_name`, `last_name`, `organization` (`company`), `title`, `image` (`avatar`), `location` (`address`), the other traits as `properties` | as track |
| membership entry (track `Audience Entered` / identify `{KEY: true}`) | `POST /api/profile-bulk-import-jobs/` with the profiles and `relationships.lists` (up to 10,000 a job) | identifiers left out |
| audience exit (track `Audience Exited` / identify `{KEY: false}`) | `GET /api/profiles/?filter=any(email,[...])` (then `external_id` for the rest), then `DELETE /api/lists/{id}/relationships/profiles/` with the profile ids (1,000 a request) | a user Klaviyo does not know: "nothing to remove" |
| journey exit | none: `ListRemovalRefused` (journeys are add-only) | |
| group | none: filtered, "Klaviyo has no account or group object, so a group call is not sent" | |
| alias | none: filtered, "Klaviyo merges profiles by email, phone and external_id itself; its merge call takes Klaviyo profile ids, not a previous user id, so an alias call is not sent" | |
| credentials check | `GET /api/accounts/` | |

Identifiers: `email` trimmed and lowercased; `phone_number` in E.164 (a number written without a
calling code takes the user's own country, `traits.address.country` or
`context.location.country`, then `phone_country_code`); `external_id` is the `userId`;
`anonymous_id` the `anonymousId` (events and profiles only). An email or phone with an invisible
character inside (BOM, zero-width space, ZWJ, RTL mark, NUL) is left out and noted, never sent.

### Errors

Klaviyo answers JSON:API errors (`{"errors": [{"status", "code", "title", "detail", "source":
{"pointer"}}]}`); the SDK's status rules classify them (401/403 -> `InvalidAuthentication`, 429
-> `RateLimited` after `Retry-After`, 5xx retried, other 4xx -> `PayloadValidationError`), and the
message names the pointer, code and detail: `/data/attributes/profile/data/attributes/email:
Klaviyo: invalid: Invalid email address`.
"""
