"""Engage membership -> Klaviyo list membership, on the SDK's list plumbing.

- Adds: one ``POST /api/profile-bulk-import-jobs/`` per batch (at most 10,000 profiles, 5 MB),
  which creates or updates each profile and adds it to the list named in the job's
  ``relationships.lists``.
- Removals (audiences only; journeys are add-only): the profiles are looked up by email, then by
  external id (``GET /api/profiles/?filter=any(email,[...])``, 100 values a page), and removed
  with ``DELETE /api/lists/{id}/relationships/profiles/`` (at most 1,000 ids a request). A user
  Klaviyo does not know is noted ("nothing to remove"), not failed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from connectors.klaviyo._api import KlaviyoSettings, profile_identifiers, send
from sdk import BatchLimits, BatchResult, Context
from sdk.connector import ListAction, ListMember, ListUser, Skipped

__all__ = ["SyncList"]

#: "Each job can contain up to 10,000 profiles" (Bulk Import Profiles), payload up to 5 MB.
MAX_PROFILES_PER_JOB = 10_000
MAX_JOB_BYTES = 4_500_000  # under 5 MB, leaving room for the envelope
#: "Remove Profiles from List": up to 1,000 profile ids per request.
MAX_IDS_PER_REMOVAL = 1_000
#: Values in one ``any(...)`` filter (and profiles in one page).
LOOKUP_PAGE = 100

Profile = dict[str, str]


class SyncList(ListAction[KlaviyoSettings, Profile]):
    """Add users entering an audience or journey step to a Klaviyo list; remove users leaving
    an audience."""

    name = "sync_list"
    description = (
        "Add users entering an audience or journey step to a Klaviyo list (profile bulk "
        "import); remove users leaving an audience."
    )
    list_setting = "list_id"
    map_setting = "list_map"
    record_user_as = "profile"

    def batch_limits(self, settings: KlaviyoSettings) -> BatchLimits:
        return BatchLimits(max_events=MAX_PROFILES_PER_JOB, max_bytes=MAX_JOB_BYTES)

    def identifiers(
        self, user: ListUser, settings: KlaviyoSettings, skipped: Skipped
    ) -> Profile | None:
        found = profile_identifiers(user, settings, skipped)
        found.pop("anonymous_id", None)  # not an identifier a list import matches on
        return found or None

    def missing(self, settings: KlaviyoSettings) -> tuple[str, str]:
        return ("traits.email", "is missing, and so are traits.phone and userId")

    async def perform(self, ctx: Context[KlaviyoSettings], payload: ListMember[Profile]) -> None:
        result = await self._sync(ctx, [payload])
        for text in result.notes.get(0, []):
            ctx.note(text)

    async def perform_batch(
        self, ctx: Context[KlaviyoSettings], payloads: Sequence[ListMember[Profile]]
    ) -> BatchResult | None:
        result = await self._sync(ctx, list(payloads))
        return result if result.notes or result.errors else None

    async def _sync(
        self, ctx: Context[KlaviyoSettings], members: list[ListMember[Profile]]
    ) -> BatchResult:
        if members[0].operation == "add":
            await _import(ctx, members)
            return BatchResult(len(members))
        return await _remove(ctx, members)


async def _import(ctx: Context[KlaviyoSettings], members: list[ListMember[Profile]]) -> None:
    body = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {"data": [{"type": "profile", "attributes": m.record} for m in members]}
            },
            "relationships": {"lists": {"data": [{"type": "list", "id": members[0].list_id}]}},
        }
    }
    await send(ctx, "POST", "/api/profile-bulk-import-jobs/", body)


async def _lookup(ctx: Context[KlaviyoSettings], field: str, values: list[str]) -> dict[str, str]:
    """Klaviyo profile ids by ``field`` value (``email`` or ``external_id``)."""
    ids: dict[str, str] = {}
    for start in range(0, len(values), LOOKUP_PAGE):
        chunk = values[start : start + LOOKUP_PAGE]
        params = {
            "filter": f"any({field},{json.dumps(chunk, separators=(',', ':'))})",
            "page[size]": str(LOOKUP_PAGE),
            "fields[profile]": field,
        }
        answer = (await send(ctx, "GET", "/api/profiles/", params=params)).json()
        data = answer.get("data") if isinstance(answer, dict) else None
        for profile in data if isinstance(data, list) else []:
            attributes: Any = profile.get("attributes") if isinstance(profile, dict) else None
            value = attributes.get(field) if isinstance(attributes, dict) else None
            if isinstance(value, str) and isinstance(profile.get("id"), str):
                ids[value.lower() if field == "email" else value] = profile["id"]
    return ids


async def _remove(ctx: Context[KlaviyoSettings], members: list[ListMember[Profile]]) -> BatchResult:
    result = BatchResult(len(members))
    found: dict[int, str] = {}
    for field in ("email", "external_id"):
        wanted = [
            (i, value)
            for i, m in enumerate(members)
            if i not in found and (value := m.record.get(field)) is not None
        ]
        if not wanted:
            continue
        ids = await _lookup(ctx, field, [value for _, value in wanted])
        for index, value in wanted:
            key = value.lower() if field == "email" else value
            if key in ids:
                found[index] = ids[key]
    for index in range(len(members)):
        if index not in found:
            result.note(
                index,
                "Klaviyo has no profile with this email or external_id: nothing to remove",
            )
    profile_ids = sorted(set(found.values()))
    path = f"/api/lists/{members[0].list_id}/relationships/profiles/"
    for start in range(0, len(profile_ids), MAX_IDS_PER_REMOVAL):
        chunk = profile_ids[start : start + MAX_IDS_PER_REMOVAL]
        await send(ctx, "DELETE", path, {"data": [{"type": "profile", "id": i} for i in chunk]})
    return result
