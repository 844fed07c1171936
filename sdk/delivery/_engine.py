"""The state one delivery object holds (one destination, one set of settings, one pooled HTTP
client, one rate limiter, one redactor) and the small steps every path shares: recording an
attempt, a note or an outcome on an event, and building an attempt's connector context."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import httpx
import orjson

from sdk._errors import DestkitError, IntegrationError
from sdk.connector._destination import Action, AnyMessage, Context, Destination, Subscription
from sdk.connector._settings import DestinationSettings, load_settings, secret_values
from sdk.delivery._client import HTTPBackend, make_client
from sdk.delivery._results import DeliveryResult, Item, iso
from sdk.delivery._signals import Slots
from sdk.spec._messages import MESSAGE_TYPES, Alias, Group, Identify, Page, Screen, Track
from sdk.transport._http import DestinationHTTP
from sdk.transport._lifecycle import Attempt, ErrorInfo, Exchange, Lifecycle, Outcome
from sdk.transport._ratelimit import Limiter, RateLimiter
from sdk.transport._redaction import Redactor
from sdk.transport._retry import RetryPolicy

SettingsT = TypeVar("SettingsT", bound=DestinationSettings)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Listener = Callable[[Lifecycle], None]
Event = AnyMessage | Mapping[str, Any]
MESSAGE_CLASSES = (Track, Identify, Page, Screen, Group, Alias)
_FAILED = frozenset({Outcome.FAILED_PERMANENT, Outcome.FAILED_RETRYABLE})


def event_record(event: object) -> dict[str, Any]:
    """The event as its lifecycle records it (before redaction): the wire document."""
    if isinstance(event, Mapping):
        return dict(event)
    if isinstance(event, MESSAGE_CLASSES):
        return event.to_wire()
    return {}  # a JSON array, a string...: refused when prepared, with one line


def _actions_by_type(destination: Destination[Any]) -> dict[str, Action[Any, Any] | None] | None:
    """``destination.action_for`` as a table by message type, when the type alone decides
    (no action subscribes by event name, membership or a configured condition); else
    ``None``."""
    if type(destination).action_for is not Destination.action_for:
        return None
    for action in destination.actions:
        subscription = action.subscribe
        if (
            type(subscription) is not Subscription
            or subscription.events is not None
            or subscription.membership
            or action.condition is not None
        ):
            return None
    return {
        kind: next((a for a in destination.actions if kind in a.subscribe.types), None)
        for kind in MESSAGE_TYPES
    }


def crashed(what: str, exc: Exception) -> IntegrationError:
    """A connector hook (``map``, ``batch_key``, ``perform``...) raised where it should not: a
    permanent failure of the events it was for, never a crash of the whole delivery."""
    return IntegrationError(f"{what} crashed: {type(exc).__name__}: {exc}")


class Engine(Generic[SettingsT]):
    """The shared state and steps of :class:`AsyncDelivery` (see there for the arguments)."""

    def __init__(
        self,
        destination: Destination[SettingsT],
        settings: SettingsT | Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        on_update: Listener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 8,
        batching: bool = True,
        clock: Clock = time.monotonic,
        http: HTTPBackend = "auto",
        rate_limiter: Limiter | None = None,
    ) -> None:
        self.destination = destination
        if isinstance(settings, destination.settings):
            self.settings: SettingsT = settings
        else:
            values = settings if isinstance(settings, Mapping) else {}
            self.settings = load_settings(destination.settings, values, slug=destination.slug)
        self.retry = retry or destination.retry
        self.redactor = Redactor(secret_values(self.settings))
        self._sleep = sleep
        self._clock = clock
        self._on_update = on_update
        self._concurrency = max(concurrency, 1)
        self._client = make_client(transport, self._concurrency, http)
        self._limiter: Limiter | None = rate_limiter
        if rate_limiter is None and destination.rate_limit:
            self._limiter = RateLimiter.per_second(destination.rate_limit, clock=clock, sleep=sleep)
        #: The concurrency limit: requests in flight at once, over every call of this object.
        self._slots = Slots(self._concurrency)
        self._state: dict[str, Any] = {}
        self._actions_by_type = _actions_by_type(destination)
        self.batching = batching

    # -- recording on an event ------------------------------------------------------------

    def _notify(self, lifecycle: Lifecycle) -> None:
        if self._on_update is not None:
            self._on_update(lifecycle)

    def _error_info(self, error: BaseException) -> ErrorInfo:
        message = error.message if isinstance(error, DestkitError) else str(error)
        return ErrorInfo.of(error, self.redactor.text(message))

    def _add_notes(self, lifecycle: Lifecycle, texts: Iterable[str]) -> None:
        """Record a connector's notes on an event, redacted (never a secret)."""
        for text in texts:
            lifecycle.add_note(self.redactor.text(str(text)))

    def _note(self, item: Item, texts: Iterable[str]) -> None:
        """Notes on an event: into its lifecycle, or kept (raw) for a record built later."""
        if item.lifecycle is not None:
            self._add_notes(item.lifecycle, texts)
        elif item.keep:
            item.notes = [*item.notes, *(str(text) for text in texts)]

    def _start_attempts(self, items: Iterable[Item], attempt: Attempt) -> None:
        """Count a new attempt on each of a request's items and record it where their record
        is kept. The items of one request have made the same attempts (they were sent, split
        and retried together), so those kept for a late record share one list of them, made
        once per attempt rather than once per item."""
        notify = self._on_update is not None
        shared: list[Attempt] | None = None
        for item in items:
            item.tries += 1
            lifecycle = item.lifecycle
            if lifecycle is not None:
                lifecycle.attempts.append(attempt)
                if notify:
                    self._notify(lifecycle)
            elif item.keep:
                if shared is None:
                    shared = [*item.attempts, attempt]
                item.attempts = shared

    def _finish(self, item: Item, outcome: Outcome, error: ErrorInfo | None = None) -> None:
        item.outcome = outcome
        item.error = error
        if item.lifecycle is not None:
            item.lifecycle.finish(outcome, error)

    def _refuse(self, item: Item, error: DestkitError) -> None:
        self._finish(item, Outcome.FAILED_PERMANENT, self._error_info(error))
        if item.lifecycle is not None:
            self._notify(item.lifecycle)

    def _filter(self, item: Item, routing: dict[str, Any]) -> None:
        item.routing = routing
        item.outcome = Outcome.FILTERED
        if item.lifecycle is not None:
            item.lifecycle.routing = routing
            item.lifecycle.finish(Outcome.FILTERED)
            self._notify(item.lifecycle)

    def _filter_at_destination(self, item: Item, reason: str) -> None:
        """Filter ``item`` for a reason of the destination's own (no action takes it, an
        action skips it), as the delivery overview words it."""
        routing = {"decision": "filtered at destination", "delivered": False, "reason": reason}
        self._filter(item, routing)

    def _result(self, item: Item) -> DeliveryResult:
        """The compact result of a settled event, with its full record where it is kept."""
        lifecycle = item.lifecycle
        if lifecycle is None and item.keep and item.outcome in _FAILED:
            lifecycle = self._late_record(item)
        reason = None
        if item.outcome is Outcome.FILTERED and item.routing is not None:
            reason = str(item.routing.get("reason") or "filtered")
        return DeliveryResult(
            item.index, item.message_id, item.outcome, item.error, item.tries, lifecycle, reason
        )

    def _late_record(self, item: Item) -> Lifecycle:
        """The full record of an event delivered without one (a failure, in bulk delivery):
        what it was, where it went, what it was mapped to, its attempts and its outcome."""
        destination = self.destination
        lifecycle = Lifecycle(
            destination=destination.name,
            slug=destination.slug,
            event=self.redactor.value(
                event_record(item.event) if item.snapshot is None else orjson.loads(item.snapshot)
            ),
            action=item.action,
            started_at=iso(item.started),
        )
        lifecycle.routing = None if item.routing is None else dict(item.routing)
        if item.payload is not None:
            action = next(a for a in destination.actions if a.name == item.action)
            lifecycle.payload = self.redactor.value(action.payload_record(item.payload))
        lifecycle.attempts = list(item.attempts)
        self._add_notes(lifecycle, item.notes)
        lifecycle.finish(item.outcome, item.error)
        lifecycle.duration_ms = (time.time() - item.started) * 1000
        return lifecycle

    # -- an attempt's context ---------------------------------------------------------------

    def _context(self, attempt: Attempt, items: Sequence[Item]) -> Context[SettingsT]:
        """The context of one attempt. The destination's ``base_url`` and ``headers`` functions
        run here: a crash in one is raised as an :class:`IntegrationError` naming it. Request
        bodies are recorded when one of the events keeps its lifecycle as it goes."""
        lifecycles = [item.lifecycle for item in items if item.lifecycle is not None]

        def on_exchange(exchange: Exchange) -> None:
            attempt.exchanges.append(exchange)
            for lifecycle in lifecycles:
                self._notify(lifecycle)

        def on_rate_limit_wait(seconds: float) -> None:
            attempt.rate_limit_wait_s += seconds

        settings = self.settings
        base_url = self._connector_call("base_url", self.destination.base_url_for, settings)
        headers = self._connector_call("headers", self.destination.headers_for, settings)
        http = DestinationHTTP(
            self._client,
            base_url=base_url,
            redactor=self.redactor,
            default_headers=headers,
            rate_limiter=self._limiter,
            timeout=settings.timeout,
            on_exchange=on_exchange,
            on_rate_limit_wait=on_rate_limit_wait,
            record_bodies=bool(lifecycles),
        )
        return Context(self.destination, settings, http, self.redactor, self._state)

    def _connector_call(self, what: str, call: Callable[[SettingsT], T], settings: SettingsT) -> T:
        try:
            return call(settings)
        except DestkitError:
            raise  # raised on purpose (InvalidSettings...): its message is meant to be read
        except Exception as exc:
            # These functions handle credentials: their exception text may quote one in a form
            # the redactor cannot know (a slice, a decoded value), so only its class is shown.
            raise IntegrationError(
                f"{self.destination.slug}: the destination's {what} function crashed "
                f"({type(exc).__name__}); nothing was sent"
            ) from None
