"""One offline user data job per batch: ``:create``, ``:addOperations`` in requests of at most
``operations_per_request`` operations and 100,000 identifiers, then ``:run``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.google_ads_customer_match._answers import partial_failures
from connectors.google_ads_customer_match._oauth import call
from sdk import BatchResult, Context, IntegrationError
from sdk.connector import ListMember

__all__ = ["MAX_IDENTIFIERS_PER_REQUEST", "_chunks", "_upload"]

#: "each AddOfflineUserDataJobOperations request can accommodate a maximum of 100,000
#: identifiers across all UserData objects".
MAX_IDENTIFIERS_PER_REQUEST = 100_000
UserData = dict[str, Any]


def _chunks(
    members: list[ListMember[UserData]], per_request: int
) -> Iterator[tuple[int, list[ListMember[UserData]]]]:
    """(offset, members) chunks of at most ``per_request`` operations and 100,000 identifiers."""
    start, count = 0, 0
    chunk: list[ListMember[UserData]] = []
    for index, member in enumerate(members):
        if chunk and (
            len(chunk) >= per_request
            or count + len(member.record["userIdentifiers"]) > MAX_IDENTIFIERS_PER_REQUEST
        ):
            yield start, chunk
            start, chunk, count = index, [], 0
        chunk.append(member)
        count += len(member.record["userIdentifiers"])
    if chunk:
        yield start, chunk


async def _upload(ctx: Context[Any], members: list[ListMember[UserData]]) -> BatchResult:
    """One offline user data job for members sharing a user list and an operation."""
    settings = ctx.settings
    version, cid = settings.api_version, settings.customer_id
    metadata: dict[str, Any] = {"userList": f"customers/{cid}/userLists/{members[0].list_id}"}
    consent = {
        name: value
        for name, value in (
            ("adUserData", settings.consent_ad_user_data),
            ("adPersonalization", settings.consent_ad_personalization),
        )
        if value is not None
    }
    if consent:
        metadata["consent"] = consent
    job = {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": metadata}
    created = await call(
        ctx, "POST", f"/{version}/customers/{cid}/offlineUserDataJobs:create", {"job": job}
    )
    answer = created.json()
    resource = answer.get("resourceName") if isinstance(answer, dict) else None
    if not isinstance(resource, str) or not resource.startswith(f"customers/{cid}/"):
        raise IntegrationError(
            "offlineUserDataJobs:create answered without a resourceName for this customer",
            status=created.status_code,
        )
    result = BatchResult(len(members))
    verb = "create" if members[0].operation == "add" else "remove"
    for offset, chunk in _chunks(members, settings.operations_per_request):
        body = {
            "operations": [{verb: member.record} for member in chunk],
            "enablePartialFailure": True,
        }
        response = await call(ctx, "POST", f"/{version}/{resource}:addOperations", body)
        for index, error in partial_failures(response, len(chunk)):
            result.fail(offset + index, error)
    if result.failed == len(members):
        return result  # nothing left to run
    await call(ctx, "POST", f"/{version}/{resource}:run", {})
    return result
