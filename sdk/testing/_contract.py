"""The contract suite: checks every connector must pass, each asserting on the HTTP requests the
connector actually sent (through a mocked API) and on its lifecycle records.

A connector declares a :class:`Contract` (sample settings, the vendor's recorded responses, and
what its API has room for); :func:`run_contract` runs every check and returns one
:class:`CheckResult` each. The pytest face is :class:`ContractTests`; the command-line face is
``destkit contract``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from sdk._destination import Destination, DestinationKind
from sdk._engage import AUDIENCE_ENTERED, AUDIENCE_EXITED, membership_of
from sdk._errors import InvalidSettings, SkipEvent
from sdk._lifecycle import Lifecycle, Outcome
from sdk._messages import Identify, Track, parse_message
from sdk._redaction import Redactor, is_secret_name
from sdk._retry import RetryPolicy
from sdk._runtime import Delivery
from sdk._settings import load_settings, secret_values
from sdk._spaces import Space
from sdk.testing._mockapi import MockAPI, Responder, decoded_body, mock_api

__all__ = [
    "CHECKS",
    "PERSONAS_FIELDS",
    "Check",
    "CheckResult",
    "Contract",
    "ContractViolation",
    "run_contract",
    "sample_events",
]

CONTRACT_SPACE = "spa_contract"
OTHER_DESTINATION = "Some Other Destination"
#: A fast policy for checks: real backoff shape, no real waiting (sleep is injected).
CHECK_RETRY = RetryPolicy(max_attempts=4, max_elapsed=600, initial_backoff=0.5, jitter=0.1)
#: The ``context.personas`` fields a request must carry unless the contract declares fewer.
PERSONAS_FIELDS: tuple[str, ...] = ("computation_id", "computation_key", "space_id")
_KNOWN_PERSONAS_FIELDS = frozenset(
    {"computation_class", "computation_id", "computation_key", "namespace", "space_id"}
)
#: Statuses the SDK retries (Segment's rule: 408, 423, 429 and 5xx except 501), each answered
#: once before the recorded success; 503 then 429 with ``Retry-After`` is checked on its own.
RETRYABLE_CASES: tuple[int, ...] = (500, 502, 504, 408, 423)
#: Statuses never retried: each must cause exactly one delivery request.
NON_RETRYABLE_CASES: tuple[int, ...] = (400, 404, 422, 501)


class ContractViolation(AssertionError):
    """A connector broke a contract rule; the message says which and how."""


def _auth_failure(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"message": "Invalid credentials"})


def _auth_forbidden(request: httpx.Request) -> httpx.Response:
    return httpx.Response(403, json={"message": "Forbidden"})


@dataclass
class Contract:
    """What a connector declares so the suite can check it.

    - ``settings``: sample settings (secrets included; ``endpoint`` is optional).
    - ``respond``: the vendor's recorded success answer for a request (may look at the path).
    - ``auth_failure``: the vendor's recorded answer to bad credentials (401 by default);
      plain 401 and 403 answers are always checked as well.
    - ``samples``: extra sample events, beside those generated for the destination's kind.
    - ``count_events``: how many events an HTTP request carries (checks batch limits on the
      wire). Without it the check counts the longest JSON array in each body (a JSON object
      without one is one event); a batching action whose bodies hold no JSON array fails the
      check until the contract declares one.
      ``vendor_batch_limit``: the vendor's documented per-request maximum.
    - ``personas_in_request``: whether the API has room for the step key and
      ``context.personas`` (list APIs identify the list by id instead: say ``False`` and why in
      ``personas_note``).
    - ``personas_fields``: the ``context.personas`` fields whose values must reach the API
      (:data:`PERSONAS_FIELDS` by default); a sequence for every call, or a mapping from the
      call type (``"track"``, ``"identify"``) to a sequence, for an API with room for fewer on
      some calls (a profile update keeps only the key as a trait, say). Calls the mapping
      leaves out use the default.
    """

    destination: Destination[Any]
    settings: Mapping[str, Any]
    respond: Responder | None = None
    auth_failure: Responder = _auth_failure
    samples: Sequence[Mapping[str, Any]] = ()
    count_events: Callable[[httpx.Request], int] | None = None
    vendor_batch_limit: int | None = None
    personas_in_request: bool = True
    personas_note: str = ""
    personas_fields: Sequence[str] | Mapping[str, Sequence[str]] = PERSONAS_FIELDS
    #: Requests that are plumbing rather than delivery (an OAuth token call, a job creation).
    is_auxiliary: Callable[[httpx.Request], bool] = field(default=lambda request: False)

    def required_personas_fields(self, call: str) -> tuple[str, ...]:
        """The ``context.personas`` fields a ``call`` (track, identify) must carry to the API."""
        declared = self.personas_fields
        if isinstance(declared, str):
            fields: tuple[str, ...] = (declared,)
        elif isinstance(declared, Mapping):
            chosen = declared.get(call, PERSONAS_FIELDS)
            fields = (chosen,) if isinstance(chosen, str) else tuple(chosen)
        else:
            fields = tuple(declared)
        unknown = sorted(set(fields) - _KNOWN_PERSONAS_FIELDS)
        if unknown:
            known = ", ".join(sorted(_KNOWN_PERSONAS_FIELDS))
            raise ContractViolation(
                f"personas_fields names {', '.join(unknown)}, not a context.personas field "
                f"(known: {known})"
            )
        return fields

    def delivery(self, **kwargs: Any) -> Delivery[Any]:
        """A delivery with the contract's settings and an instant, recorded sleep."""
        values = dict(self.settings)
        values.setdefault("endpoint", "https://contract.test")
        return Delivery(
            self.destination,
            values,
            retry=kwargs.pop("retry", CHECK_RETRY),
            sleep=lambda seconds: None,
            **kwargs,
        )


@dataclass(frozen=True)
class Check:
    """One contract rule."""

    name: str
    description: str
    run: Callable[[Contract], str | None]


@dataclass(frozen=True)
class CheckResult:
    """The result of one check on one connector: passed, failed (with why) or skipped."""

    connector: str
    check: str
    status: str
    message: str = ""
    seconds: float = 0.0


# -- sample events ---------------------------------------------------------------------------


def _identity_traits(user: str) -> dict[str, Any]:
    return {
        "email": f"  {user.upper()}@Example.COM ",
        "phone": "+1 (415) 555-0100",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }


def sample_events(contract: Contract) -> list[dict[str, Any]]:
    """Sample events for the destination's kind, routed to it, plus the contract's own."""
    destination = contract.destination
    space = Space(CONTRACT_SPACE)
    step = space.step("Contract Journey", "Contract Step", destinations=[destination.name])
    audience = space.audience("Contract Audience", destinations=[destination.name])
    user = "contract-user-1"
    context_traits = _identity_traits(user)
    events: list[dict[str, Any]] = []
    for call in ("track", "identify"):
        for source in (step, audience):
            event = source.event(call, user_id=user, extra=_identity_traits(user))
            wire = event.to_wire()
            wire["context"]["traits"] = context_traits
            events.append(wire)
    exited = audience.event("track", user_id=user, entered=False, extra=_identity_traits(user))
    exited_wire = exited.to_wire()
    exited_wire["context"]["traits"] = context_traits
    events.append(exited_wire)
    if destination.kind is DestinationKind.EVENT:
        plain: dict[str, Any] = {
            "userId": user,
            "context": {"traits": context_traits},
            "integrations": {},
        }
        events.append(
            {
                **plain,
                "type": "track",
                "event": "Order Completed",
                "properties": {"revenue": 42.5, "currency": "USD"},
            }
        )
        events.append({**plain, "type": "identify", "traits": {"plan": "pro", **context_traits}})
        events.append({**plain, "type": "page", "name": "Home"})
        events.append({**plain, "type": "screen", "name": "Home"})
        events.append({**plain, "type": "group", "groupId": "g-1", "traits": {"name": "Acme"}})
        events.append({**plain, "type": "alias", "previousId": "anon-1"})
    events.extend(dict(sample) for sample in contract.samples)
    return events


def _takes(contract: Contract, event: Mapping[str, Any]) -> bool:
    message = parse_message(event)
    action = contract.destination.action_for(message)
    if action is None:
        return False
    membership = membership_of(message)
    if membership is not None and membership.is_journey and not membership.member:
        return False  # journeys are add-only: the runtime refuses these for every kind
    try:
        settings = load_settings(
            contract.destination.settings,
            {**contract.settings, "endpoint": "https://contract.test"},
        )
        action.map(message, settings)
    except SkipEvent:
        return False  # the action declines it on purpose (recorded as filtered)
    except Exception:
        return True  # let the checks that send it report what goes wrong
    return True


def _accepted_samples(contract: Contract) -> list[dict[str, Any]]:
    return [event for event in sample_events(contract) if _takes(contract, event)]


def _describe_lifecycle(lifecycle: Lifecycle) -> str:
    error = f" ({lifecycle.error.cls}: {lifecycle.error.message})" if lifecycle.error else ""
    return f"{lifecycle.outcome.value}{error}"


def _delivery_requests(contract: Contract, api: MockAPI) -> list[httpx.Request]:
    return [r for r in api.requests if not contract.is_auxiliary(r)]


def _request_text(request: httpx.Request) -> str:
    body = decoded_body(request)
    body_text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    return f"{request.url} {body_text}"


def _longest_array(value: Any) -> int | None:
    """The length of the longest JSON array in ``value`` (at any depth), None if it has none."""
    longest: int | None = None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest or 0, len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return longest


def _count_array_events(request: httpx.Request) -> int | None:
    """The default event counter of the batch check: the length of the longest JSON array in
    the request's body; 1 for a JSON object without any array (one event); None when the body
    is not JSON (the contract must then declare ``count_events``)."""
    body = decoded_body(request)
    if isinstance(body, (list, dict)):
        longest = _longest_array(body)
        return 1 if longest is None else longest
    return None


# -- the checks ------------------------------------------------------------------------------


def check_settings_model(contract: Contract) -> str | None:
    """The sample settings validate, and every credential-looking field is typed secret."""
    model = contract.destination.settings
    try:
        load_settings(model, {**contract.settings, "endpoint": "https://contract.test"})
    except InvalidSettings as exc:
        raise ContractViolation(f"sample settings do not validate: {exc.message}") from None
    for name, info in model.model_fields.items():
        annotation = info.annotation
        secret = annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())
        if is_secret_name(name) and not secret:
            raise ContractViolation(
                f"setting {name!r} looks like a credential but is not typed SecretStr, "
                "so it would not be redacted"
            )
    return None


def check_authentication(contract: Contract) -> str | None:
    """``test_authentication`` succeeds on 2xx and reports invalid credentials on 401/403."""
    if contract.destination.authentication.test is None:
        return "skipped: the destination declares no test_authentication call"
    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        good = delivery.test_authentication()
        if not good.delivered:
            raise ContractViolation(
                f"test_authentication failed on the recorded success response: "
                f"{_describe_lifecycle(good)}"
            )
        if not api.requests:
            raise ContractViolation("test_authentication made no HTTP request")
    failures: list[tuple[str, Responder]] = [("HTTP 401", _auth_failure)]
    failures.append(("HTTP 403", _auth_forbidden))
    if contract.auth_failure is not _auth_failure:
        failures.append(("the recorded bad-credentials answer", contract.auth_failure))
    for what, answer in failures:
        with mock_api(answer) as api, contract.delivery() as delivery:
            bad = delivery.test_authentication()
            if bad.delivered or bad.error is None or bad.error.cls != "InvalidAuthentication":
                raise ContractViolation(
                    f"bad credentials ({what}) were not reported as InvalidAuthentication: "
                    f"{_describe_lifecycle(bad)}"
                )
    return None


def check_actions_send(contract: Contract) -> str | None:
    """Every action turns its sample events into requests, and they are delivered."""
    samples = _accepted_samples(contract)
    for action in contract.destination.actions:
        mine = [e for e in samples if contract.destination.action_for(parse_message(e)) is action]
        if not mine:
            raise ContractViolation(
                f"action {action.name!r} ({action.subscribe.describe()}) has no sample event; "
                "add one to the contract's samples"
            )
        for event in mine:
            with mock_api(contract.respond) as api, contract.delivery() as delivery:
                lifecycle = delivery.send(event)
                if not lifecycle.delivered:
                    raise ContractViolation(
                        f"action {action.name!r} did not deliver a sample "
                        f"{event['type']} event: {_describe_lifecycle(lifecycle)}"
                    )
                requests = _delivery_requests(contract, api)
                if not requests:
                    raise ContractViolation(
                        f"action {action.name!r} reported delivery without any request"
                    )
                text = " ".join(_request_text(r) for r in requests)
                if not any(marker in text for marker in _event_markers(event)):
                    raise ContractViolation(
                        f"action {action.name!r} delivered a sample {event['type']} event but "
                        "no request carries it (neither its userId, anonymousId, messageId nor "
                        "its email, plain or SHA-256 hashed)"
                    )
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _event_markers(event: Mapping[str, Any]) -> list[str]:
    """What shows that a request carries ``event``: its ids, or its user's identifiers as a
    list API sends them (normalised, and SHA-256 hashed)."""
    markers: list[str] = []
    for name in ("userId", "anonymousId", "messageId"):
        value = event.get(name)
        if isinstance(value, str) and value:
            markers += [value, _sha256(value)]
    emails = []
    for where in ("traits", "properties"):
        section = event.get(where)
        if isinstance(section, Mapping):
            emails.append(section.get("email"))
    context = event.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
        emails.append(context["traits"].get("email"))
    for email in emails:
        if isinstance(email, str) and email.strip():
            normalised = email.strip().lower()
            markers += [normalised, _sha256(normalised)]
    return markers


def check_filtered_events(contract: Contract) -> str | None:
    """Events the integrations object routes elsewhere cause no HTTP call."""
    for event in _accepted_samples(contract):
        routed_away = {**event, "integrations": {"All": False, OTHER_DESTINATION: True}}
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            lifecycle = delivery.send(routed_away)
            if api.requests:
                raise ContractViolation(
                    f"an event routed to {OTHER_DESTINATION!r} only still made "
                    f"{len(api.requests)} request(s)"
                )
            if lifecycle.outcome is not Outcome.FILTERED:
                raise ContractViolation(
                    f"a routed-away event ended {lifecycle.outcome.value}, not filtered"
                )
    return None


def check_journey_list_add_only(contract: Contract) -> str | None:
    """A journey list never receives a removal: it is refused with a clear error, never sent."""
    if contract.destination.kind is not DestinationKind.LIST:
        return "skipped: not a list destination"
    space = Space(CONTRACT_SPACE)
    step = space.step("Contract Journey", "Contract Step", destinations=[contract.destination.name])
    entered = step.event("track", user_id="contract-user-1", extra=_identity_traits("u"))
    assert isinstance(entered, Track)
    removal = entered.model_copy(
        update={"event": AUDIENCE_EXITED, "properties": {**entered.properties, step.key: False}}
    )
    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        lifecycle = delivery.send(removal)
        if api.requests:
            raise ContractViolation(
                f"a journey removal was sent ({len(api.requests)} request(s)); journey lists "
                "are add-only"
            )
        if lifecycle.error is None or lifecycle.error.cls != "ListRemovalRefused":
            raise ContractViolation(
                f"a journey removal was not refused clearly: {_describe_lifecycle(lifecycle)}"
            )
    return None


def _first_sample(contract: Contract) -> dict[str, Any]:
    samples = _accepted_samples(contract)
    if not samples:
        raise ContractViolation("no sample event is accepted by any action")
    return samples[0]


def _delivery_count(contract: Contract, api: MockAPI) -> int:
    return len(_delivery_requests(contract, api))


def check_retries(contract: Contract) -> str | None:
    """Retryable statuses are retried and honour ``Retry-After``; others are not retried.

    Faults go to delivery requests only (not to an OAuth token call, say), and the requests the
    mock API received are counted: a connector that loops inside ``perform`` is caught even
    when its lifecycle shows one attempt.
    """
    event = _first_sample(contract)

    def is_delivery(request: httpx.Request) -> bool:
        return not contract.is_auxiliary(request)

    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        clean = delivery.send(event)
        per_send = _delivery_count(contract, api)
    if not clean.delivered or per_send == 0:
        raise ContractViolation(
            f"the sample event was not delivered on the recorded success response: "
            f"{_describe_lifecycle(clean)} ({per_send} delivery request(s))"
        )
    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        api.fail_with(503, where=is_delivery)
        api.fail_with(429, headers={"Retry-After": "7"}, where=is_delivery)
        lifecycle = delivery.send(event)
        if not lifecycle.delivered:
            raise ContractViolation(
                f"after 503 then 429 the event was not delivered: {_describe_lifecycle(lifecycle)}"
            )
        if len(lifecycle.attempts) != 3:
            raise ContractViolation(
                f"503 then 429 should take 3 attempts, not {len(lifecycle.attempts)}"
            )
        waited = lifecycle.attempts[2].wait_before_s
        if waited < 7:
            raise ContractViolation(f"Retry-After: 7 was not honoured (waited {waited:.2f}s)")
        _expect_requests(contract, api, 2 + per_send, "503 then 429", per_send)
    for status in RETRYABLE_CASES:
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            api.fail_with(status, json={"message": "try again"}, where=is_delivery)
            lifecycle = delivery.send(event)
            if not lifecycle.delivered or len(lifecycle.attempts) != 2:
                raise ContractViolation(
                    f"HTTP {status} is retryable: one {status} then success should be delivered "
                    f"in 2 attempts, got {_describe_lifecycle(lifecycle)} in "
                    f"{len(lifecycle.attempts)}"
                )
            _expect_requests(contract, api, 1 + per_send, f"HTTP {status} once", per_send)
    for status in NON_RETRYABLE_CASES:
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            api.fail_with(status, times=10, json={"message": "rejected"}, where=is_delivery)
            lifecycle = delivery.send(event)
            if len(lifecycle.attempts) != 1:
                raise ContractViolation(
                    f"HTTP {status} is not retryable but was tried {len(lifecycle.attempts)} times"
                )
            if lifecycle.outcome is not Outcome.FAILED_PERMANENT:
                raise ContractViolation(
                    f"HTTP {status} should fail permanently, got {_describe_lifecycle(lifecycle)}"
                )
            sent = _delivery_count(contract, api)
            if sent != 1:
                raise ContractViolation(
                    f"HTTP {status} is not retryable but the API received {sent} delivery "
                    "requests (a retry inside perform?)"
                )
    return None


def _expect_requests(
    contract: Contract, api: MockAPI, expected: int, what: str, per_send: int
) -> None:
    sent = _delivery_count(contract, api)
    if sent != expected:
        raise ContractViolation(
            f"after {what} the API received {sent} delivery requests, not {expected} "
            f"(one per failed attempt, then the {per_send} of a clean send)"
        )


def check_batch_limits(contract: Contract) -> str | None:
    """Batches never exceed the connector's declared limits (nor the vendor's)."""
    settings = load_settings(
        contract.destination.settings, {**contract.settings, "endpoint": "https://contract.test"}
    )
    batching = [
        (action, limits)
        for action in contract.destination.actions
        if (limits := action.batch_limits(settings)) is not None
    ]
    if not batching:
        return "skipped: no action batches"
    samples = _accepted_samples(contract)
    for action, limits in batching:
        limit = limits.max_events
        if contract.vendor_batch_limit is not None and limit > contract.vendor_batch_limit:
            raise ContractViolation(
                f"action {action.name!r} declares batches of {limit} events but the vendor's "
                f"limit is {contract.vendor_batch_limit}"
            )
        mine = [e for e in samples if contract.destination.action_for(parse_message(e)) is action]
        if not mine:
            continue
        count = min(2 * limit + 1, 2001)
        events = []
        for index in range(count):
            event = json.loads(json.dumps(mine[index % len(mine)]))
            event["messageId"] = f"contract-{index}"
            event["userId"] = f"contract-user-{index}"
            events.append(event)
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            lifecycles = delivery.send_many(events)
            failed = [lc for lc in lifecycles if not lc.delivered]
            if failed:
                raise ContractViolation(
                    f"{len(failed)} of {count} batched events were not delivered: "
                    f"{_describe_lifecycle(failed[0])}"
                )
            attempts = {id(a): a for lc in lifecycles for a in lc.attempts}.values()
            for attempt in attempts:
                if attempt.batch_size > limit:
                    raise ContractViolation(
                        f"a batch of {attempt.batch_size} events exceeds max_events={limit}"
                    )
            requests = _delivery_requests(contract, api)
            minimum = math.ceil(count / limit)
            if len(requests) < minimum:
                raise ContractViolation(
                    f"{count} events went out in {len(requests)} request(s); with "
                    f"max_events={limit} at least {minimum} are needed"
                )
            counts = _event_counts(contract, action.name, requests)
            over = [c for c in counts if c > limit]
            if over:
                raise ContractViolation(
                    f"a request carried {max(over)} events, over max_events={limit}"
                )
            if sum(counts) < count:
                raise ContractViolation(
                    f"requests carried {sum(counts)} events in all, {count} were sent"
                )
            max_bytes = limits.max_bytes
            if max_bytes is not None:
                for request in requests:
                    body = decoded_body(request)
                    size = len(json.dumps(body, separators=(",", ":"))) if body else 0
                    # The envelope around the payloads may add a little; payloads may not.
                    if size > max_bytes * 1.05 + 1024:
                        raise ContractViolation(
                            f"a request body of {size} bytes exceeds max_bytes={max_bytes}"
                        )
    return None


def _event_counts(contract: Contract, action: str, requests: Sequence[httpx.Request]) -> list[int]:
    """Events per request: the contract's ``count_events``, else the longest JSON array."""
    if contract.count_events is not None:
        return [contract.count_events(r) for r in requests]
    bodies = [decoded_body(r) for r in requests]
    if any(not isinstance(b, (list, dict)) for b in bodies) or all(
        _longest_array(b) is None for b in bodies
    ):
        raise ContractViolation(
            f"cannot count the events in action {action!r}'s requests (no JSON array in the "
            "bodies): the Contract must declare count_events"
        )
    return [_count_array_events(r) or 0 for r in requests]


def check_no_secret_leaks(contract: Contract) -> str | None:
    """No secret appears in any lifecycle record or log line, on success or failure."""
    settings = load_settings(
        contract.destination.settings, {**contract.settings, "endpoint": "https://contract.test"}
    )
    secrets = secret_values(settings)
    if not secrets:
        return "skipped: the sample settings hold no secret"
    event = _first_sample(contract)

    def echo(status: int) -> Responder:
        def respond(request: httpx.Request) -> httpx.Response:
            leaked = " ".join(secrets)
            return httpx.Response(
                status,
                json={"message": f"bad key {leaked}", "url": str(request.url)},
                headers={"X-Echo": leaked},
            )

        return respond

    records: list[str] = []
    handler = _CaptureLogs()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        for respond in (contract.respond, echo(401), echo(500), echo(400)):
            with mock_api(respond) as api, contract.delivery() as delivery:
                records.append(delivery.send(event).to_json())
                if contract.destination.authentication.test is not None:
                    records.append(delivery.test_authentication().to_json())
                del api
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    for secret in secrets:
        for text in records:
            if secret in text:
                raise ContractViolation("a secret setting appears unmasked in a lifecycle record")
        for line in handler.lines:
            if secret in line:
                shown = Redactor(secrets).text(line)[:100]
                raise ContractViolation(f"a secret setting appears in a log line: {shown!r}")
    return None


class _CaptureLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check_personas_reach_destination(contract: Contract) -> str | None:
    """The step key and ``context.personas`` reach the destination where its API has room."""
    if not contract.personas_in_request:
        note = f": {contract.personas_note}" if contract.personas_note else ""
        return f"skipped: the connector declares no room for them{note}"
    journey_events = []
    for event in _accepted_samples(contract):
        message = parse_message(event)
        membership = membership_of(message) if isinstance(message, (Track, Identify)) else None
        if membership is not None and membership.is_journey and membership.member:
            journey_events.append((event, membership.key))
    if not journey_events:
        raise ContractViolation("no journey step event is accepted by any action")
    for event, key in journey_events:
        personas = event.get("context", {}).get("personas", {})
        required = contract.required_personas_fields(event["type"])
        what = f"an {event['type']} event" if event["type"] == "identify" else "a track event"
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            delivery.send(event)
            text = " ".join(_request_text(r) for r in _delivery_requests(contract, api))
        if key not in text:
            raise ContractViolation(f"the step key {key} does not reach the destination for {what}")
        missing = [
            name for name in required if not personas.get(name) or str(personas[name]) not in text
        ]
        if missing:
            raise ContractViolation(
                f"context.personas {', '.join(missing)} do not reach the destination for "
                f"{what} (if the API has room for only some, declare the ones it carries in "
                "the Contract's personas_fields)"
            )
    return None


def check_malformed_events(contract: Contract) -> str | None:
    """Malformed events get a clear one-line error and cause no request."""
    bad_events: list[dict[str, Any]] = [
        {"type": "track", "event": AUDIENCE_ENTERED},
        {"type": "teleport", "userId": "u"},
        {"type": "track", "userId": "u"},
        {"type": "identify", "userId": "u", "traits": {"blob": "x" * 40_000}},
    ]
    for event in bad_events:
        with mock_api(contract.respond) as api, contract.delivery() as delivery:
            lifecycle = delivery.send(event)
            if api.requests:
                raise ContractViolation(f"a malformed event was sent: {list(event)}")
            error = lifecycle.error
            if lifecycle.outcome is not Outcome.FAILED_PERMANENT or error is None:
                raise ContractViolation(
                    f"a malformed event ended {_describe_lifecycle(lifecycle)}, not failed"
                )
            if "\n" in error.message or ":" not in error.message:
                raise ContractViolation(
                    f"the error for a malformed event is not one line naming the field: "
                    f"{error.message!r}"
                )
    return None


CHECKS: tuple[Check, ...] = (
    Check(
        "settings_model", "settings validate; credentials are typed secret", check_settings_model
    ),
    Check(
        "authentication",
        "test_authentication: 2xx passes, 401 and 403 are InvalidAuthentication",
        check_authentication,
    ),
    Check("actions_send", "every action turns its sample events into requests", check_actions_send),
    Check(
        "filtered_no_call",
        "events routed elsewhere by integrations make no HTTP call",
        check_filtered_events,
    ),
    Check(
        "journey_list_add_only",
        "a journey list never receives a removal",
        check_journey_list_add_only,
    ),
    Check("retries", "retryable statuses retried with Retry-After; others not", check_retries),
    Check("batch_limits", "batches never exceed the declared limits", check_batch_limits),
    Check(
        "no_secret_leaks", "no secret in any lifecycle record or log line", check_no_secret_leaks
    ),
    Check(
        "personas_reach_destination",
        "the step key and the context.personas fields reach the API",
        check_personas_reach_destination,
    ),
    Check(
        "malformed_events", "malformed events: one-line error, no request", check_malformed_events
    ),
)


def run_check(contract: Contract, check: Check) -> CheckResult:
    """Run one check, turning any failure into a result (never an exception)."""
    import time

    started = time.perf_counter()
    slug = contract.destination.slug
    try:
        note = check.run(contract)
    except ContractViolation as exc:
        return CheckResult(slug, check.name, "failed", str(exc), time.perf_counter() - started)
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return CheckResult(
            slug,
            check.name,
            "failed",
            f"the check crashed: {detail}",
            time.perf_counter() - started,
        )
    elapsed = time.perf_counter() - started
    if note and note.startswith("skipped"):
        return CheckResult(slug, check.name, "skipped", note, elapsed)
    return CheckResult(slug, check.name, "passed", note or "", elapsed)


def run_contract(contract: Contract, checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    """Run every check against one connector's contract."""
    return [run_check(contract, check) for check in checks]
