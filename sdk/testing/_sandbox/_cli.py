"""``destkit sandbox`` helpers: the fault-injection options, the :class:`Faults` they ask for,
and :func:`serve`, which runs the sandbox in the foreground printing its traffic."""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from sdk.testing._sandbox._faults import (
    _BODY_MODES,
    MAX_LATENCY,
    FaultError,
    Faults,
    _check_latency,
    _check_number,
    _check_retry_after,
    _check_seed,
    _check_sequence,
    _check_status,
    check_port,
)
from sdk.testing._sandbox._requests import RecordedRequest
from sdk.testing._sandbox._server import Sandbox

__all__ = ["add_fault_arguments", "faults_from_args", "serve"]

_OPTIONS = {
    "status": "--status",
    "sequence": "--sequence",
    "retry_after": "--retry-after",
    "latency": "--latency",
    "failure_rate": "--failure-rate",
    "failure_status": "--failure-status",
    "seed": "--seed",
    "body": "--body",
    "drop_connection": "--drop-connection",
}


def _arg_type(parse: Callable[[str], Any], check: Callable[[Any], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return check(parse(text.strip()))
        except ValueError as exc:
            message = str(exc)
            if message.startswith(("invalid literal", "could not convert")):
                message = f"not a number: {text!r}"
            raise argparse.ArgumentTypeError(message) from None

    return convert


def _parse_int(text: str) -> int:
    return int(text)


def _parse_sequence(text: str) -> list[int]:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise ValueError(f"must be comma-separated status codes like 503,503,200, got {text!r}")
    try:
        return [int(item) for item in items]
    except ValueError:
        raise ValueError(
            f"must be comma-separated status codes like 503,503,200, got {text!r}"
        ) from None


def _parse_float(text: str) -> float:
    return float(text)


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fault-injection options of ``destkit sandbox`` to ``parser``."""
    group = parser.add_argument_group("fault injection")
    group.add_argument(
        "--status",
        type=_arg_type(_parse_int, _check_status),
        metavar="N",
        help="answer every request with this status",
    )
    group.add_argument(
        "--sequence",
        type=_arg_type(_parse_sequence, _check_sequence),
        metavar="S1,S2,...",
        help="statuses used one per request in order (e.g. 503,503,200), then answer normally",
    )
    group.add_argument(
        "--retry-after",
        type=_arg_type(str, _check_retry_after),
        metavar="VALUE",
        help="Retry-After on non-2xx answers: seconds or an HTTP-date",
    )
    group.add_argument(
        "--latency",
        type=_arg_type(_parse_float, _check_latency),
        default=0.0,
        metavar="SECONDS",
        help=f"wait this long before every answer (at most {MAX_LATENCY:g})",
    )
    group.add_argument(
        "--failure-rate",
        type=_arg_type(_parse_float, lambda v: _check_number(v, low=0.0, high=1.0)),
        default=0.0,
        metavar="P",
        help="probability (0..1) that a request fails with --failure-status",
    )
    group.add_argument(
        "--failure-status",
        type=_arg_type(_parse_int, _check_status),
        default=503,
        metavar="N",
        help="status of a --failure-rate failure (default 503)",
    )
    group.add_argument(
        "--seed",
        type=_arg_type(_parse_int, _check_seed),
        metavar="N",
        help="seed of the --failure-rate draws (reproducible runs)",
    )
    group.add_argument(
        "--body",
        choices=list(_BODY_MODES),
        default="json",
        help="answer bodies: json (default), text, empty, or broken (invalid JSON)",
    )
    group.add_argument(
        "--drop-connection",
        action="store_true",
        help="close every connection without answering",
    )


def faults_from_args(ns: argparse.Namespace) -> Faults:
    """The :class:`Faults` that parsed ``destkit sandbox`` options ask for.

    Values may be parsed already or still be strings; a bad one raises ``ValueError`` with a
    one-line message naming the option (``--failure-rate: must be between 0 and 1, got 1.5``).
    """
    parsers: dict[str, Callable[[str], Any]] = {
        "status": _parse_int,
        "sequence": _parse_sequence,
        "latency": _parse_float,
        "failure_rate": _parse_float,
        "failure_status": _parse_int,
        "seed": _parse_int,
    }
    defaults = Faults()
    values: dict[str, Any] = {}
    for name, option in _OPTIONS.items():
        value = getattr(ns, name, None)
        if value is None:
            value = getattr(defaults, name)
        elif isinstance(value, str) and name in parsers:
            try:
                value = parsers[name](value.strip())
            except ValueError as exc:
                message = str(exc)
                if message.startswith(("invalid literal", "could not convert")):
                    message = f"not a number: {value!r}"
                raise ValueError(f"{option}: {message}") from None
        values[name] = value
    try:
        return Faults(**values).validate()
    except FaultError as exc:
        raise ValueError(f"{_OPTIONS.get(exc.field, exc.field)}: {exc.problem}") from None


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def serve(
    host: str,
    port: int,
    faults: Faults,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the sandbox until KeyboardInterrupt (or until ``stop`` is set), printing its traffic.

    Prints ``sandbox listening on http://HOST:PORT``, then one line per request: method, path
    (never the query string, which may carry keys), the status answered and the body size. No
    header is printed, so no credential is. Raises ``OSError`` when it cannot listen, a port
    outside 0..65535 included (``EINVAL``, with a one-line reason).
    """
    try:
        check_port(port)
    except ValueError as exc:
        raise OSError(errno.EINVAL, str(exc).removeprefix("port: ")) from None
    stream = sys.stdout if out is None else out  # stdout at the call, not at import
    lock = threading.Lock()

    def emit(line: str) -> None:
        with lock, contextlib.suppress(OSError, ValueError):
            stream.write(line + "\n")
            stream.flush()

    def on_request(request: RecordedRequest) -> None:
        answered = "dropped connection" if request.status is None else str(request.status)
        note = f" {request.fault}" if request.fault and request.status is not None else ""
        stamp = time.strftime("%H:%M:%S", time.localtime(request.received_at))
        emit(
            f"{stamp} {_printable(request.method)} {_printable(request.path)} -> {answered}"
            f" ({len(request.body)} bytes){note}"
        )

    sandbox = Sandbox(host, port, faults, on_request=on_request)
    sandbox.start()
    try:
        emit(f"sandbox listening on {sandbox.url}")
        waiter = stop or threading.Event()
        while not waiter.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    emit(f"sandbox stopped ({len(sandbox.requests)} requests)")
