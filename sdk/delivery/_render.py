"""A lifecycle record as readable text, for ``destkit send`` without ``--json``.

Everything that came from outside (a response body, a header, an error message, a vendor's
reason) is passed through :func:`sdk.terminal_safe`: a control sequence in it is shown, never
sent to the terminal. One-line parts are escaped whole (a line feed in a reason cannot forge a
line of the record); bodies keep their line breaks.
"""

from __future__ import annotations

import json
from typing import Any

from sdk._terminal import terminal_safe
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
    return terminal_safe(text, keep_newlines=True)


def _safe(value: object) -> str:
    return terminal_safe(str(value))


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_lifecycle(lifecycle: Lifecycle, *, bodies: bool = True) -> str:
    """The lifecycle as the event tester's "Event lifecycle" section, in plain text."""
    lines = [f"Destination  {_safe(lifecycle.destination)} ({_safe(lifecycle.slug)})"]
    if lifecycle.action:
        lines.append(f"Action       {_safe(lifecycle.action)}")
    event = lifecycle.event
    # The event may be the invalid input itself (a numeric or missing type): never crash on it.
    what = str(event.get("type") or "?") + (f' "{event["event"]}"' if "event" in event else "")
    who = event.get("userId") or event.get("anonymousId") or "?"
    if event:
        message_id = _safe(event.get("messageId", "-"))
        lines.append(f"Event        {_safe(what)} for {_safe(who)} ({message_id})")
    if lifecycle.routing:
        routing = lifecycle.routing
        lines.append(f"Routing      {_safe(routing['decision'])}: {_safe(routing['reason'])}")
    for attempt in lifecycle.attempts:
        wait = f" after waiting {attempt.wait_before_s:.2f}s" if attempt.wait_before_s else ""
        batch = f" (batch of {attempt.batch_size})" if attempt.batch_size > 1 else ""
        lines.append(f"Attempt {attempt.number}{batch}{wait}")
        for exchange in attempt.exchanges:
            request = exchange.request
            lines.append(f"  -> {_safe(request.method)} {_safe(request.url)}")
            if bodies:
                for name, value in request.headers.items():
                    lines.append(f"     {_safe(name)}: {_safe(value)}")
                if request.body_kind != "empty":
                    lines.append(_indent(render_body(request.body, request.body_kind), "     "))
            response = exchange.response
            total = exchange.timings.total_ms
            timing = f" in {total:.1f} ms" if total is not None else ""
            if response is not None:
                lines.append(f"  <- {_safe(response.status_line)}{timing}")
                if bodies:
                    lines.append(_indent(render_body(response.body, response.body_kind), "     "))
            if exchange.error is not None:
                error = exchange.error
                lines.append(f"  !! {_safe(error.cls)}: {_safe(error.message)}")
        if attempt.error is not None and not any(e.error for e in attempt.exchanges):
            lines.append(f"  !! {_safe(attempt.error.cls)}: {_safe(attempt.error.message)}")
        if attempt.retry is not None:
            wait_text = f" in {attempt.retry.wait_s:.2f}s" if attempt.retry.wait_s else ""
            retry = attempt.retry
            lines.append(f"  => {_safe(retry.decision)}{wait_text}: {_safe(retry.reason)}")
    outcome = lifecycle.outcome.value
    if lifecycle.outcome is Outcome.DELIVERED and lifecycle.last_response is not None:
        outcome += f" ({_safe(lifecycle.last_response.status_line)})"
    lines.append(f"Outcome      {outcome}")
    for note in lifecycle.notes:
        lines.append(f"Note         {_safe(note)}")
    if lifecycle.error is not None:
        lines.append(f"Error        {_safe(lifecycle.error.cls)}: {_safe(lifecycle.error.message)}")
    return "\n".join(lines)
