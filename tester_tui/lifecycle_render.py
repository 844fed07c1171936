"""Rich renderables of an ``sdk.Lifecycle``: the badges, the summary, the routing line, each
attempt, the error, and the request and response of an exchange.

The record arrives already redacted (secrets masked); what came from outside (bodies, headers,
vendor messages, URLs) is made terminal-safe here with :func:`tester_tui.safe_text.safe`, so no
control sequence in a response reaches the terminal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.json import JSON
from rich.text import Text

from tester_tui.safe_text import safe, safe_value

if TYPE_CHECKING:
    from textual.app import App

    from sdk import Attempt, Exchange, Lifecycle

__all__ = [
    "Palette",
    "attempt_line",
    "badge",
    "body_renderable",
    "error_line",
    "error_text",
    "lines",
    "notes_text",
    "palette_of",
    "plain_error",
    "request_renderable",
    "response_renderable",
    "routing_text",
    "section",
    "status_kind",
    "summary_text",
]


@dataclass(frozen=True, slots=True)
class Palette:
    """Badge colours, taken from the app's theme."""

    ok: str = "#4EBF71"
    retry: str = "#ffa62b"
    fail: str = "#ba3c5b"
    muted: str = "grey62"


def palette_of(app: App[Any]) -> Palette:
    """The badge colours of ``app``'s current theme."""
    theme = app.current_theme
    default = Palette()
    return Palette(
        ok=theme.success or default.ok,
        retry=theme.warning or default.retry,
        fail=theme.error or default.fail,
    )


def status_kind(status: int | None, retryable: bool = False) -> str:
    """``ok`` (2xx/3xx), ``retry`` (a status or error the runtime retries) or ``fail``."""
    if status is None:
        return "retry" if retryable else "fail"
    if status < 400:
        return "ok"
    from sdk import classify_status

    error = classify_status(status)
    return "retry" if error is not None and error.retryable else "fail"


def plain_error(message: str, url: str | None = None) -> str:
    """A network error as a person reads it: httpx's ``ConnectError: All connection attempts
    failed`` becomes ``connection refused by 127.0.0.1:9``, naming the host and port of
    ``url`` (the request's). Terminal-safe."""
    if "ConnectError" in message and url:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return safe(message)
        if parts.hostname:
            return safe(
                f"connection refused by {parts.hostname}:{port}: nothing accepts connections "
                f"there ({message.removeprefix('network error: ')})"
            )
    return safe(message)


def _url_of(attempt: Attempt) -> str | None:
    return attempt.exchanges[-1].request.url if attempt.exchanges else None


def error_line(lifecycle: Lifecycle) -> str:
    """The lifecycle's final error in one terminal-safe line (else its outcome)."""
    if lifecycle.error is None:
        return lifecycle.outcome.value
    url = next((_url_of(a) for a in reversed(lifecycle.attempts) if a.exchanges), None)
    return " ".join(plain_error(lifecycle.error.message, url).split())


def _badge(label: str, kind: str, palette: Palette) -> Text:
    colour = {"ok": palette.ok, "retry": palette.retry, "fail": palette.fail}.get(
        kind, palette.muted
    )
    return Text(f" {safe(label)} ", style=f"bold #000000 on {colour}")


badge = _badge  # for the journey views: the same badges


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _attempt_status(attempt: Attempt) -> tuple[str, str]:
    response = attempt.last_response
    if response is not None:
        retryable = attempt.error.retryable if attempt.error is not None else False
        kind = status_kind(response.status, retryable)
        return response.status_line, kind
    if attempt.error is not None:
        return attempt.error.cls, "retry" if attempt.error.retryable else "fail"
    return "…", "pending"


def attempt_line(attempt: Attempt, palette: Palette) -> Text:
    """One attempt: number, status badge, time, then what the runtime decided."""
    label, kind = _attempt_status(attempt)
    text = Text.assemble(f"#{attempt.number} ", _badge(label, kind, palette))
    if attempt.batch_size > 1:
        text.append(f" batch of {attempt.batch_size}", style=palette.muted)
    totals = [e.timings.total_ms for e in attempt.exchanges if e.timings.total_ms is not None]
    if totals:
        text.append(f" {_ms(sum(totals))}")
    if attempt.wait_before_s:
        text.append(f" after {attempt.wait_before_s:.2f}s wait", style=palette.muted)
    if attempt.retry is not None:
        decision = attempt.retry
        wait = f" in {decision.wait_s:.2f}s" if decision.wait_s else ""
        style = {"done": palette.ok, "retry": palette.retry}.get(decision.decision, palette.fail)
        text.append(f"\n   → {decision.decision}{wait}", style=f"bold {style}")
        text.append(f": {safe(decision.reason)}", style=palette.muted)
    elif kind == "pending":
        text.append(" sending…", style=palette.muted)
    if attempt.error is not None and attempt.last_response is None:
        text.append(
            f"\n   {plain_error(attempt.error.message, _url_of(attempt))}", style=palette.fail
        )
    return text


def summary_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """The headline: outcome badge (``200 OK`` on success), destination, action, duration."""
    if lifecycle is None:
        return Text.assemble(
            ("No event sent yet. ", "bold"),
            ("Press ctrl+s to send the payload.", palette.muted),
        )
    outcome = lifecycle.outcome.value
    response = lifecycle.last_response
    if outcome == "pending":
        number = len(lifecycle.attempts)
        text = _badge("SENDING", "retry", palette)
        text.append(f" attempt {number}…" if number else " preparing…")
    elif outcome == "delivered":
        label = response.status_line if response is not None else "delivered"
        text = Text.assemble(_badge(label, "ok", palette), " delivered")
    elif outcome == "filtered":
        text = Text.assemble(_badge("FILTERED", "retry", palette), " filtered at destination")
    else:  # failed: the last status line, else the error class
        error = lifecycle.error
        if response is not None:
            label = response.status_line
        else:
            label = error.cls if error is not None else "FAILED"
        kind = "retry" if outcome.startswith("failed: retryable") else "fail"
        text = Text.assemble(_badge(label, kind, palette), f" {outcome}")
    what = lifecycle.destination + (f" · {lifecycle.action}" if lifecycle.action else "")
    text.append(f"  {safe(what)}", style=palette.muted)
    if lifecycle.duration_ms is not None:
        text.append(f"  {_ms(lifecycle.duration_ms)}", style=palette.muted)
    return text


def routing_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """The routing decision with its reason, or nothing yet."""
    if lifecycle is None or not lifecycle.routing:
        return Text("")
    routing = lifecycle.routing
    outcome = lifecycle.outcome.value
    routed = bool(routing.get("delivered"))
    decision = safe(str(routing.get("decision", "")))
    style = palette.ok if routed else palette.retry
    if routed and outcome not in ("delivered", "pending"):
        # Routed to the destination, then refused or failed: the line says so, never
        # "delivered" above a failure.
        decision, style = f"routed, then {outcome}", palette.fail
    return Text.assemble(
        ("Routing ", "bold"),
        (decision, f"bold {style}"),
        (f" · {safe(str(routing.get('reason', '')))}", palette.muted),
    )


def notes_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """The connector's notes on the event (what it left out of what it delivered), amber."""
    if lifecycle is None or not lifecycle.notes:
        return Text("")
    text = Text("Notes", style=f"bold {palette.retry}")
    for note in lifecycle.notes:
        text.append(f"\n ! {safe(str(note))}", style=palette.retry)
    return text


def error_text(lifecycle: Lifecycle | None, palette: Palette) -> Text:
    """Every detail of the final error: class, message, status, whether it was retryable."""
    if lifecycle is None or lifecycle.error is None:
        return Text("")
    error = lifecycle.error
    status = "-" if error.status is None else str(error.status)
    url = next((_url_of(a) for a in reversed(lifecycle.attempts) if a.exchanges), None)
    return Text.assemble(
        ("Error ", "bold"),
        (safe(error.cls), f"bold {palette.fail}"),
        f": {plain_error(error.message, url)}\n",
        (f"status {status} · retryable {'yes' if error.retryable else 'no'}", palette.muted),
    )


def body_renderable(body: Any, kind: str) -> Text:
    """A body pretty-printed (JSON, form) or as folded text; control characters escaped."""
    if kind == "empty" or body is None:
        return Text("(empty body)", style="dim")
    if kind in ("json", "form"):
        try:
            pretty = JSON(json.dumps(safe_value(body), ensure_ascii=False, default=str), indent=2)
        except (TypeError, ValueError):
            return Text(safe(str(body)), overflow="fold")
        pretty.text.no_wrap = False
        pretty.text.overflow = "fold"  # long keys and ids wrap instead of being cut
        return pretty.text
    return Text(safe(str(body)), overflow="fold")


def _headers(headers: dict[str, str]) -> Text:
    if not headers:
        return Text("(no headers)", style="dim")
    names = {name: safe(name) for name in headers}
    width = max(len(name) for name in names.values())
    text = Text(overflow="fold")
    for index, (name, value) in enumerate(headers.items()):
        if index:
            text.append("\n")
        text.append(names[name].ljust(width), style="bold")
        text.append(f" {safe(value)}")
    return text


def lines(*parts: Text) -> Text:
    """One ``Text`` of ``parts``, a line each. Textual draws a ``Text`` natively, much faster
    than a Rich ``Group`` or ``Table`` (each redraw of the lifecycle pays it)."""
    text = Text("\n").join(parts)
    text.overflow = "fold"
    return text


def section(title: str) -> Text:
    """A section heading inside a tab: ``── headers``."""
    return Text(f"── {title}", style="bold")


def request_renderable(exchange: Exchange | None) -> RenderableType:
    """Method and URL, headers (already masked), and the pretty-printed body."""
    if exchange is None:
        return Text("No request was made.", style="dim")
    request = exchange.request
    return lines(
        Text.assemble((safe(request.method), "bold"), " ", safe(request.url)),
        section("headers"),
        _headers(request.headers),
        section(f"body ({request.body_kind})"),
        body_renderable(request.body, request.body_kind),
    )


def response_renderable(exchange: Exchange | None, palette: Palette) -> RenderableType:
    """Status line with its badge, timings, headers and the pretty-printed body."""
    if exchange is None:
        return Text("No response.", style="dim")
    timings = exchange.timings
    timing = Text(
        f"connect {_ms(timings.connect_ms)} · first byte {_ms(timings.first_byte_ms)} · "
        f"total {_ms(timings.total_ms)}",
        style=palette.muted,
    )
    response = exchange.response
    if response is None:
        error = exchange.error
        message = (
            f"{error.cls}: {plain_error(error.message, exchange.request.url)}"
            if error is not None
            else "no response yet"
        )
        return lines(Text(message, style=palette.fail), timing)
    kind = status_kind(response.status)
    return lines(
        Text.assemble(
            _badge(response.status_line, kind, palette), f" {safe(response.http_version)}"
        ),
        timing,
        section("headers"),
        _headers(response.headers),
        section(f"body ({response.body_kind})"),
        body_renderable(response.body, response.body_kind),
    )
