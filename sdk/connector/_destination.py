"""What a connector author writes: a :class:`Destination` with a settings model and actions.

An :class:`Action` says which events it takes (a :class:`Subscription`), maps an event to its
own typed payload (declared ``fields`` with default mappings, and ``map`` for what a mapping
cannot say), and delivers it (``perform``, and optionally ``perform_batch`` with
:class:`BatchLimits`). Everything else (routing, journey rules, retries, batching, rate limits,
timeouts, redaction, the lifecycle record) is the SDK's job.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

from sdk._errors import DeliveryError, InvalidEvent, SkipEvent
from sdk.connector._settings import DestinationSettings
from sdk.connector._wire import WireForward
from sdk.engage._personas import membership_of
from sdk.mapping._conditions import Condition
from sdk.mapping._fields import FieldMappings
from sdk.spec._messages import MESSAGE_TYPES, Alias, Group, Identify, Page, Screen, Track
from sdk.transport._json import compact_json
from sdk.transport._retry import RetryPolicy

if TYPE_CHECKING:
    from sdk.transport._http import DestinationHTTP
    from sdk.transport._redaction import Redactor

__all__ = [
    "Action",
    "AnyMessage",
    "Authentication",
    "BatchLimits",
    "BatchResult",
    "Context",
    "Destination",
    "DestinationKind",
    "Subscription",
]

AnyMessage = Track | Identify | Page | Screen | Group | Alias
SettingsT = TypeVar("SettingsT", bound=DestinationSettings)
PayloadT = TypeVar("PayloadT")


class DestinationKind(StrEnum):
    """Event destinations receive events; list destinations receive batches of users who
    qualify (journey lists are add-only); journey destinations enter users into a journey."""

    EVENT = "event"
    LIST = "list"
    JOURNEY = "journey"


@dataclass(frozen=True, slots=True)
class Subscription:
    """Which events an action takes.

    ``types``: message types; ``events``: track event names (``None`` = any);
    ``membership``: only Engage membership events (an audience/journey entry or exit, as a
    track ``Audience Entered``/``Exited`` or an identify carrying the computation key).
    """

    types: frozenset[str]
    events: frozenset[str] | None = None
    membership: bool = False

    @classmethod
    def of(
        cls, *types: str, events: Iterable[str] | None = None, membership: bool = False
    ) -> Subscription:
        """``Subscription.of("track", events=["Audience Entered"])``."""
        unknown = [t for t in types if t not in MESSAGE_TYPES]
        if unknown or not types:
            raise ValueError(f"types: must be among {', '.join(MESSAGE_TYPES)}")
        return cls(frozenset(types), None if events is None else frozenset(events), membership)

    def matches(self, message: AnyMessage) -> bool:
        """True when this subscription takes the message."""
        if message.type not in self.types:
            return False
        if (
            self.events is not None
            and isinstance(message, Track)
            and message.event not in self.events
        ):
            return False
        if self.membership:
            try:
                return membership_of(message) is not None
            except InvalidEvent:
                return True  # let the action report the bad membership event
        return True

    def describe(self) -> str:
        """A readable condition, e.g. ``type = track and event = "Audience Entered"``."""
        text = " or ".join(f"type = {t}" for t in sorted(self.types))
        if self.events is not None:
            names = " or ".join(f'"{e}"' for e in sorted(self.events))
            text = f"({text}) and event = {names}"
        if self.membership:
            text += " and a membership event"
        return text


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """A batch never holds more than ``max_events`` payloads nor ``max_bytes`` of them.

    ``max_bytes`` bounds the batch's payloads as one compact JSON array, brackets and commas
    included (``[p1,p2]`` is ``2 + len(p1) + 1 + len(p2)`` bytes): a connector wrapping the
    array in an envelope leaves room for it. A payload that would be over ``max_bytes`` even
    alone (as ``[p]``) is never sent: its event fails with ``PayloadTooLarge``.
    """

    max_events: int
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.max_events < 1:
            raise ValueError("max_events: must be at least 1")
        if self.max_bytes is not None and self.max_bytes < 1:
            raise ValueError("max_bytes: must be positive")


@dataclass(slots=True)
class BatchResult:
    """Per-event results of one batch request (a multi-status answer).

    Only the events marked failed with a retryable error are sent again; events that
    succeeded are never sent twice.
    """

    size: int
    errors: dict[int, DeliveryError] = field(default_factory=dict)
    #: Warnings by payload index, recorded (redacted) in that event's lifecycle ``notes``.
    notes: dict[int, list[str]] = field(default_factory=dict)

    def fail(self, index: int, error: DeliveryError) -> None:
        """Mark the payload at ``index`` (in the list given to ``perform_batch``) failed."""
        self._check(index)
        self.errors[index] = error

    def note(self, index: int, text: str) -> None:
        """Add a one-line warning to the event of the payload at ``index`` (e.g. the vendor
        accepted it but refused one of its fields). It does not fail the event."""
        self._check(index)
        self.notes.setdefault(index, []).append(text)

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} is outside a batch of {self.size}")

    @property
    def failed(self) -> int:
        """How many payloads failed."""
        return len(self.errors)


class Context(Generic[SettingsT]):
    """What an action's ``perform`` gets: the settings, an HTTP client, and shared state."""

    def __init__(
        self,
        destination: Destination[SettingsT],
        settings: SettingsT,
        http: DestinationHTTP,
        redactor: Redactor,
        state: dict[str, Any],
    ) -> None:
        self.destination = destination
        self.settings = settings
        self.http = http
        self.redactor = redactor
        #: Survives across attempts and events of one delivery (e.g. a cached access token).
        self.state = state
        #: Notes added with :meth:`note` during this call; the runtime records them.
        self.notes: list[str] = []

    def add_secret(self, value: str) -> None:
        """Mask ``value`` everywhere from now on (an access token obtained at run time)."""
        self.redactor.add(value)

    def note(self, text: str) -> None:
        """Add a one-line warning to the lifecycle of every event this call carries (the one
        event of ``perform``; all of a ``perform_batch``: use ``BatchResult.note`` for one of
        them). Redacted before it is recorded; it does not change the outcome."""
        self.notes.append(text)


class Action(Generic[SettingsT, PayloadT]):
    """One thing a destination does with an event. Subclass and fill in ``map``/``perform``."""

    #: Stable identifier (snake case), shown in lifecycles and ``destkit connectors``.
    name: ClassVar[str]
    #: One sentence saying what it does.
    description: ClassVar[str] = ""
    #: Which events it takes.
    subscribe: ClassVar[Subscription]
    #: Batch limits; ``None`` means the action sends one event per request.
    batch: ClassVar[BatchLimits | None] = None
    #: The payload's fields: a pydantic model whose fields carry default mappings
    #: (``sdk.mapping.mapped``). ``None`` when ``map`` does all the work.
    fields: ClassVar[type[BaseModel] | None] = None
    #: Set on a configured copy (``sdk.mapping.configure_destination``): overrides of single
    #: fields' mappings, and a condition narrowing ``subscribe``.
    overrides: Mapping[str, Any] = MappingProxyType({})
    condition: Condition | None = None
    #: Declared when the payload is the message's own wire JSON (:class:`WireForward`).
    wire_forward: ClassVar[WireForward | None] = None

    def field_mappings(self) -> FieldMappings:
        """The compiled mappings of ``fields`` (with this copy's overrides), compiled once."""
        compiled = self.__dict__.get("_field_mappings")
        if compiled is None:
            if self.fields is None:
                raise TypeError(f"{self.name}: declares no fields")
            compiled = FieldMappings(
                self.fields, self.subscribe.types, self.overrides, where=f"{self.name}.mapping"
            )
            self.__dict__["_field_mappings"] = compiled
        return compiled

    def resolve(self, event: AnyMessage) -> Any:
        """The event's payload fields: an instance of ``fields``, resolved by its mappings and
        validated (``InvalidEvent`` naming the field and its mapping when it does not fit)."""
        return self.field_mappings().resolve(event.to_wire())

    def map(self, event: AnyMessage, settings: SettingsT) -> PayloadT:
        """Turn an event into this action's payload; raise ``InvalidEvent`` for bad input.
        With ``fields`` declared, the default is the resolved fields model."""
        if self.fields is not None:
            payload: PayloadT = self.resolve(event)
            return payload
        raise NotImplementedError

    def map_wire(self, event: AnyMessage, wire: bytes, settings: SettingsT) -> PayloadT:
        """``map``, given also ``wire``: the event's compact JSON exactly as the runtime wrote
        it a moment ago to check its size (``message_to_json``). An action that forwards the
        message (nearly) as it is can build its payload from those bytes instead of writing
        the message again. By default, ``map(event, settings)``."""
        return self.map(event, settings)

    async def perform(self, ctx: Context[SettingsT], payload: PayloadT) -> None:
        """Deliver one payload. Raise a ``DeliveryError`` subclass on failure."""
        raise NotImplementedError

    async def perform_batch(
        self, ctx: Context[SettingsT], payloads: Sequence[PayloadT]
    ) -> BatchResult | None:
        """Deliver a batch (only called when ``batch`` is set). Return per-event failures,
        or ``None`` when every payload was accepted; raise to fail the whole batch."""
        raise NotImplementedError

    def batch_limits(self, settings: SettingsT) -> BatchLimits | None:
        """The limits that apply with these settings (``batch`` unless a connector makes its
        batch size a setting); ``None`` sends one event per request."""
        return self.batch

    def batch_key(self, payload: PayloadT) -> Hashable:
        """Payloads with different keys never share a batch (e.g. adds vs removals)."""
        return None

    def payload_size(self, payload: PayloadT) -> int:
        """Bytes of this payload's compact JSON as ``json=`` sends it (UTF-8,
        :func:`sdk.transport.compact_json`), as counted against ``BatchLimits.max_bytes`` (the
        runtime adds the array's brackets and commas). A record JSON cannot hold as it is (a
        date, NaN) is counted as its ``str()``-ed, ASCII-escaped form. Override it when the
        action sends its payloads in another form."""
        record = self.payload_record(payload)
        try:
            return len(compact_json(record))
        except (TypeError, ValueError):
            return len(json.dumps(record, separators=(",", ":"), default=str))

    def payload_notes(self, payload: PayloadT) -> Sequence[str]:
        """Warnings about the event this payload was mapped from, recorded (redacted) in its
        lifecycle ``notes``: say here what ``map`` left out of an event it still delivers
        (nothing accepted for delivery is silently lost). None by default."""
        return ()

    def payload_record(self, payload: PayloadT) -> Any:
        """The payload as JSON for the lifecycle record."""
        if isinstance(payload, BaseModel):
            return payload.model_dump(mode="json", by_alias=True, exclude_none=True)
        return payload


AuthScheme = Literal["none", "api_key", "basic", "bearer", "oauth2", "custom"]


@dataclass(frozen=True, slots=True)
class Authentication(Generic[SettingsT]):
    """How a destination authenticates, and an optional call that checks the credentials."""

    scheme: AuthScheme = "none"
    test: Callable[[Context[SettingsT]], Awaitable[None]] | None = None


@dataclass(slots=True)
class Destination(Generic[SettingsT]):
    """A destination connector: the one definition that drives validation, the TUI form, the
    docs, delivery and the contract suite."""

    #: The name the integrations object uses (``"Braze"``); matched exactly.
    name: str
    #: Registry id and CLI name (``braze``).
    slug: str
    kind: DestinationKind
    settings: type[SettingsT]
    actions: Sequence[Action[SettingsT, Any]]
    description: str = ""
    #: Default base URL, or a function of the settings (regional endpoints).
    base_url: str | Callable[[SettingsT], str] = ""
    #: Headers added to every request (authentication), from the settings.
    headers: Callable[[SettingsT], Mapping[str, str]] | None = None
    authentication: Authentication[SettingsT] = field(default_factory=Authentication)
    #: Requests per second this destination's API allows; ``None`` for no limit.
    rate_limit: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: The vendor API version and reference the connector follows.
    api_version: str = ""
    docs_url: str = ""

    #: Prose for the generated docs page (limits, quirks), in Markdown.
    notes: str = ""

    def __post_init__(self) -> None:
        names = [a.name for a in self.actions]
        if len(set(names)) != len(names):
            raise ValueError(f"actions: duplicate action names in {self.slug}: {names}")
        if not self.slug or not self.slug.replace("_", "").isalnum() or not self.slug.islower():
            raise ValueError(f"slug: {self.slug!r} must be lower-case letters, digits and _")
        for action in self.actions:
            if action.fields is not None:
                action.field_mappings()  # a broken default mapping fails at load, not per event

    def action_for(self, event: AnyMessage) -> Action[SettingsT, Any] | None:
        """The first action whose subscription (and configured condition) takes ``event``.

        When an action takes the event's type but its condition refuses the event, and no
        other action takes it, the answer is a stand-in whose ``map`` raises ``SkipEvent``
        with the reason, so the lifecycle says why the event was filtered."""
        refused: list[tuple[Action[SettingsT, Any], str]] = []
        document: dict[str, Any] | None = None
        for action in self.actions:
            if not action.subscribe.matches(event):
                continue
            if action.condition is None:
                return action
            document = event.to_wire() if document is None else document
            reason = action.condition.explain(document)
            if reason is None:
                return action
            refused.append((action, reason))
        if refused:
            action, reason = refused[0]
            return _unsubscribed(action, f"subscribe {action.condition.text!r}: {reason}")  # type: ignore[union-attr]
        return None

    def base_url_for(self, settings: SettingsT) -> str:
        """The base URL: the ``endpoint`` setting when given, else the destination's default."""
        if settings.endpoint:
            return settings.endpoint
        if callable(self.base_url):
            return self.base_url(settings)
        return self.base_url

    def headers_for(self, settings: SettingsT) -> dict[str, str]:
        """The default headers for every request (the runtime turns a crash here into a
        failed delivery of the events it was for)."""
        return dict(self.headers(settings)) if self.headers is not None else {}


def _unsubscribed(action: Action[SettingsT, Any], reason: str) -> Action[SettingsT, Any]:
    """A stand-in for ``action`` that filters the event with ``reason`` (see ``action_for``)."""

    def refuse(self: Action[SettingsT, Any], event: AnyMessage, settings: SettingsT) -> Any:
        raise SkipEvent(reason)

    stand_in = type(
        type(action).__name__,
        (Action,),
        {"name": action.name, "subscribe": action.subscribe, "map": refuse},
    )
    made: Action[SettingsT, Any] = stand_in()
    return made
