"""The sandbox's fault plan: :class:`Faults`, the validation of each of its fields (a bad value
is a one-line :class:`FaultError` naming the field), and the answer a plan decides for one
request."""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

__all__ = ["MAX_LATENCY", "BodyMode", "FaultError", "Faults", "check_port"]

BodyMode = Literal["json", "text", "empty", "broken"]
_BODY_MODES: tuple[str, ...] = get_args(BodyMode)
_MIN_STATUS, _MAX_STATUS = 200, 599
#: The longest latency a fault plan may ask for: an hour (a longer wait overflows the timers).
MAX_LATENCY = 3600.0
_MIN_PORT, _MAX_PORT = 0, 65535


class FaultError(ValueError):
    """A bad fault value; ``field`` names the :class:`Faults` field."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


def _check_status(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an HTTP status code (an integer), got {value!r}")
    if not _MIN_STATUS <= value <= _MAX_STATUS:
        raise ValueError(f"must be between {_MIN_STATUS} and {_MAX_STATUS}, got {value}")
    return value


def _check_sequence(value: object) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"must be a list of HTTP status codes, got {value!r}")
    statuses: list[int] = []
    for position, item in enumerate(value, start=1):
        try:
            statuses.append(_check_status(item))
        except ValueError as exc:
            raise ValueError(f"item {position} {exc}") from None
    return statuses


def _check_retry_after(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be seconds or an HTTP-date (a string), got {value!r}")
    text = value.strip()
    if text.isdigit() and text.isascii():
        return text
    if text and "\r" not in text and "\n" not in text and text.isascii():
        with contextlib.suppress(TypeError, ValueError, IndexError):
            if email.utils.parsedate_to_datetime(text) is not None:
                return text
    raise ValueError(f"must be whole seconds or an HTTP-date, got {value!r}")


def _check_number(value: object, *, low: float, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"must be a number, got {value!r}")
    number = float(value)
    if number < low or (high is not None and number > high):
        span = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise ValueError(f"must be {span}, got {value!r}")
    return number


def _check_latency(value: object) -> float:
    return _check_number(value, low=0.0, high=MAX_LATENCY)


def check_port(value: object) -> int:
    """A TCP port number (0..65535; 0 picks a free one); ``ValueError`` with a one-line reason."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"port: must be an integer, got {value!r}")
    if not _MIN_PORT <= value <= _MAX_PORT:
        raise ValueError(f"port: must be between {_MIN_PORT} and {_MAX_PORT}, got {value}")
    return value


def _check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, got {value!r}")
    return value


def _check_body(value: object) -> BodyMode:
    if value not in _BODY_MODES:
        raise ValueError(f"must be one of {', '.join(_BODY_MODES)}, got {value!r}")
    return cast(BodyMode, value)


def _check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


@dataclass
class Faults:
    """How the sandbox misbehaves. The default plan answers every request normally.

    For each request, the first rule that applies decides the status: the next entry of
    ``sequence`` (until it is used up), else ``status``, else a ``failure_rate`` draw (answered
    ``failure_status``), else ``200``. ``latency`` delays every answer, ``drop_connection``
    closes the connection instead of answering, ``body`` shapes every answer's body, and
    ``retry_after`` is sent as ``Retry-After`` on every non-2xx answer.
    """

    status: int | None = None
    """Answer every request with this status (200..599)."""
    sequence: list[int] = field(default_factory=list)
    """Statuses used one per request in order (``[503, 503, 200]``), then the rest of the plan."""
    retry_after: str | None = None
    """``Retry-After`` value on non-2xx answers: whole seconds or an HTTP-date."""
    latency: float = 0.0
    """Seconds to wait before answering (at most :data:`MAX_LATENCY`, an hour)."""
    failure_rate: float = 0.0
    """Probability (0..1) that a request is answered ``failure_status``."""
    failure_status: int = 503
    """The status of a ``failure_rate`` failure."""
    seed: int | None = None
    """Seed of the ``failure_rate`` draws, for a reproducible run."""
    body: BodyMode = "json"
    """``json`` (normal), ``text`` (``text/plain``), ``empty`` (no body) or ``broken``
    (``application/json`` whose body is not valid JSON)."""
    drop_connection: bool = False
    """Close the connection without any response."""

    def validate(self) -> Faults:
        """Check every field; raise :class:`FaultError` (a ``ValueError``) naming a bad one."""
        checks: list[tuple[str, object, Callable[[object], object]]] = [
            ("sequence", self.sequence, _check_sequence),
            ("latency", self.latency, _check_latency),
            ("failure_rate", self.failure_rate, lambda v: _check_number(v, low=0.0, high=1.0)),
            ("failure_status", self.failure_status, _check_status),
            ("body", self.body, _check_body),
            ("drop_connection", self.drop_connection, _check_bool),
        ]
        optional: list[tuple[str, object, Callable[[object], object]]] = [
            ("status", self.status, _check_status),
            ("retry_after", self.retry_after, _check_retry_after),
            ("seed", self.seed, _check_seed),
        ]
        checks += [check for check in optional if check[1] is not None]
        for name, value, check in checks:
            try:
                check(value)
            except ValueError as exc:
                raise FaultError(name, str(exc)) from None
        return self

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-ready dict (what ``GET /_sandbox/faults`` answers)."""
        data = dataclasses.asdict(self)
        data["sequence"] = list(self.sequence)
        return data

    @classmethod
    def from_dict(cls, data: object) -> Faults:
        """A validated plan from a JSON object of fields (absent fields keep their default).

        Raises :class:`FaultError` naming the first unknown or bad field.
        """
        if not isinstance(data, Mapping):
            raise FaultError("faults", f"must be a JSON object, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                raise FaultError(str(key), f"unknown field (known: {', '.join(sorted(names))})")
        values = dict(data)
        # JSON has one number type: accept 1 for 1.0 and 1.0 for 1 where it is whole.
        for name in ("status", "failure_status", "seed"):
            value = values.get(name)
            if isinstance(value, float) and value.is_integer():
                values[name] = int(value)
        if isinstance(values.get("sequence"), list):
            values["sequence"] = [
                int(v) if isinstance(v, float) and v.is_integer() else v for v in values["sequence"]
            ]
        faults = cls(**values)
        faults.validate()
        if isinstance(faults.latency, int):
            faults.latency = float(faults.latency)
        if isinstance(faults.failure_rate, int):
            faults.failure_rate = float(faults.failure_rate)
        return faults

    def copy(self) -> Faults:
        """An independent copy (its ``sequence`` list is not shared)."""
        return dataclasses.replace(self, sequence=list(self.sequence))


@dataclass(frozen=True)
class _Answer:
    status: int
    fault: str | None
    latency: float
    body: BodyMode
    retry_after: str | None
    drop: bool
