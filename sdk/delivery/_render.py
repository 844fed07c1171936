"""A lifecycle record as readable text, for ``destkit send`` without ``--json``."""

from __future__ import annotations

import json
from typing import Any

from sdk.transport._lifecycle import Lifecycle, Outcome

__all__ = ["render_body", "render_lifecycle"]


def render_body(body: Any, kind: str, *, limit: int = 4000) -> str:
    """A body for display: pretty JSON, text, or a note for empty/binary bodies."""
    if kind == "empty" or body is None:
        return "(empty body)"
    if kind in ("json", "form"):
        text = json.dumps(body, indent=2, ensure_ascii=False, default=str)
    else:
        text = str(body)
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} more characters; see --json)"
    return text


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_lifecycle(lifecycle: Lifecycle, *, bodies: bool = True) -> str:
    """The lifecycle as the event tester's "Event lifecycle" section, in plain text."""
    lines = [f"Destination  {lifecycle.destination} ({lifecycle.slug})"]
    if lifecycle.action:
        lines.append(f"Action       {lifecycle.action}")
    event = lifecycle.event
    # The event may be the invalid input itself (a numeric or missing type): never crash on it.
    what = str(event.get("type") or "?") + (f' "{event["event"]}"' if "event" in event else "")
    who = event.get("userId") or event.get("anonymousId") or "?"
    if event:
        lines.append(f"Event        {what} for {who} ({event.get('messageId', '-')})")
    if lifecycle.routing:
        lines.append(f"Routing      {lifecycle.routing['decision']}: {lifecycle.routing['reason']}")
    for attempt in lifecycle.attempts:
        wait = f" after waiting {attempt.wait_before_s:.2f}s" if attempt.wait_before_s else ""
        batch = f" (batch of {attempt.batch_size})" if attempt.batch_size > 1 else ""
        lines.append(f"Attempt {attempt.number}{batch}{wait}")
        for exchange in attempt.exchanges:
            request = exchange.request
            lines.append(f"  -> {request.method} {request.url}")
            if bodies:
                for name, value in request.headers.items():
                    lines.append(f"     {name}: {value}")
                if request.body_kind != "empty":
                    lines.append(_indent(render_body(request.body, request.body_kind), "     "))
            response = exchange.response
            total = exchange.timings.total_ms
            timing = f" in {total:.1f} ms" if total is not None else ""
            if response is not None:
                lines.append(f"  <- {response.status_line}{timing}")
                if bodies:
                    lines.append(_indent(render_body(response.body, response.body_kind), "     "))
            if exchange.error is not None:
                lines.append(f"  !! {exchange.error.cls}: {exchange.error.message}")
        if attempt.error is not None and not any(e.error for e in attempt.exchanges):
            lines.append(f"  !! {attempt.error.cls}: {attempt.error.message}")
        if attempt.retry is not None:
            wait_text = f" in {attempt.retry.wait_s:.2f}s" if attempt.retry.wait_s else ""
            lines.append(f"  => {attempt.retry.decision}{wait_text}: {attempt.retry.reason}")
    outcome = lifecycle.outcome.value
    if lifecycle.outcome is Outcome.DELIVERED and lifecycle.last_response is not None:
        outcome += f" ({lifecycle.last_response.status_line})"
    lines.append(f"Outcome      {outcome}")
    for note in lifecycle.notes:
        lines.append(f"Note         {note}")
    if lifecycle.error is not None:
        lines.append(f"Error        {lifecycle.error.cls}: {lifecycle.error.message}")
    return "\n".join(lines)
