"""Small test destinations shared by the delivery tests: one track action that posts
``{"user": userId}`` to ``/v1/track``."""

from __future__ import annotations

from typing import Any

from sdk import Action, AnyMessage, Context, DestinationSettings, Subscription


class NoSettings(DestinationSettings):
    """Only the ``endpoint`` every destination has."""


class SendOne(Action[Any, dict[str, Any]]):
    """Track events, one request each: ``POST /v1/track`` with ``{"user": userId}``."""

    name = "send_one"
    subscribe = Subscription.of("track")

    def map(self, event: AnyMessage, settings: Any) -> dict[str, Any]:
        return {"user": event.user_id}

    async def perform(self, ctx: Context[Any], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/track", json=payload)
