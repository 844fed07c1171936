"""The sandbox destination: sends to destkit's own loopback server, so the tester, ``destkit send``
and end-to-end tests work on a fresh machine with no credentials.

Requests:

| event | request |
|---|---|
| any message, one at a time | ``POST {endpoint}/v1/event`` with the message as JSON |
| any message, batched | ``POST {endpoint}/v1/batch``: ``{"batch": [...]}``, 100 events, 500 KB |
| test_authentication | ``GET {endpoint}/v1/auth`` |

Every request carries ``Authorization: Bearer <api_key>`` so redaction can be seen at work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, SecretStr

from connectors.sandbox._notes import NOTES
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    Subscription,
)

__all__ = ["SandboxSettings", "destination"]


class SandboxSettings(DestinationSettings):
    """Settings of the sandbox destination."""

    api_key: SecretStr = Field(
        default=SecretStr("sandbox-secret-key"),
        description="Sent as a Bearer token; any value works (it shows redaction at work).",
    )


class SendEvent(Action[SandboxSettings, dict[str, Any]]):
    """Send the message unchanged."""

    name = "send_event"
    description = "POST every message as JSON."
    subscribe = Subscription.of("track", "identify", "page", "screen", "group", "alias")
    batch = BatchLimits(max_events=100, max_bytes=500 * 1024)

    def map(self, event: AnyMessage, settings: SandboxSettings) -> dict[str, Any]:
        return event.to_wire()

    async def perform(self, ctx: Context[SandboxSettings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/event", json=payload)

    async def perform_batch(
        self, ctx: Context[SandboxSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await ctx.http.post("/v1/batch", json={"batch": list(payloads)})


async def _test_authentication(ctx: Context[SandboxSettings]) -> None:
    await ctx.http.get("/v1/auth")


destination: Destination[SandboxSettings] = Destination(
    name="Sandbox",
    slug="sandbox",
    kind=DestinationKind.EVENT,
    settings=SandboxSettings,
    actions=[SendEvent()],
    description="destkit's loopback test server (started for you when no endpoint is set).",
    base_url="http://127.0.0.1:9",  # replaced by the running sandbox's URL
    headers=lambda s: {"Authorization": f"Bearer {s.api_key.get_secret_value()}"},
    authentication=Authentication(scheme="bearer", test=_test_authentication),
    api_version="destkit sandbox 1",
    notes=NOTES,
)
