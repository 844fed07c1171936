"""The ``destkit`` command line.

Exit codes: 0 success (delivered), 1 delivery failed, 2 bad arguments, settings or event
(refused before any request), 3 filtered (``destkit send``: the event's integrations object, or
the destination's subscriptions, leave this destination out, so nothing was sent), 130
interrupted, 141 output pipe closed. Every error is one line on stderr.

The subcommands and their arguments are the table in :mod:`sdk.cli._parser`; this module runs
one: it checks the arguments are text, imports the command's runner, and turns an error into
one line and an exit code. The small commands (``key``, ``payload``, ``sandbox``, ``contract``,
``tester``) live here; the bigger ones have their own module.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import TextIO, cast

from sdk._errors import DestkitError, InputError, InvalidSettings
from sdk._terminal import terminal_safe
from sdk.cli._parser import (
    COMMANDS,
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_FILTERED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
)
from sdk.cli._send import sandbox_endpoint
from sdk.engage._spaces import Space

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_FILTERED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
    "sandbox_endpoint",
]

_RUNNERS = {command.name: command.run for command in COMMANDS}


def _not_text(argv: Sequence[str]) -> str | None:
    """The option whose value is not UTF-8 text (Python keeps such bytes as lone surrogates
    in ``sys.argv``), or ``None``; such a value would crash the first print of it."""
    for position, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if arg.startswith("--") and "=" in arg:
                return terminal_safe(arg.partition("=")[0])
            if position and argv[position - 1].startswith("-"):
                return terminal_safe(argv[position - 1])
            return f"argument {position + 1}"
    return None


def _error(message: str) -> None:
    print(terminal_safe(f"destkit: error: {message}"), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``destkit``; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    bad = _not_text(arguments)
    if bad is not None:
        _error(f"{bad}: is not valid UTF-8 text")
        return EXIT_USAGE
    args = build_parser().parse_args(arguments)
    module, _, function = _RUNNERS[args.command].partition(":")
    try:
        handler = cast(
            Callable[[argparse.Namespace], int],
            getattr(importlib.import_module(module), function),
        )
        return handler(args)
    except InputError as exc:
        _error(exc.message)
        return EXIT_USAGE
    except DestkitError as exc:
        _error(exc.message)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # ``destkit connectors | head -1``: the reader left. Quietly, as cat does; stdout is
        # pointed at /dev/null so the interpreter's final flush does not complain either.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stdout = sys.stdout.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout)
            os.close(devnull)
        return EXIT_BROKEN_PIPE


class TerminalSafe(io.TextIOBase):
    """A text stream that escapes control characters (keeping line breaks) into another."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(terminal_safe(text, keep_newlines=True))
        return len(text)

    def flush(self) -> None:
        self.target.flush()


def run_key(args: argparse.Namespace) -> int:
    """``destkit key``: print a journey step's key."""
    # The key of the step Space.step makes, so both refuse the same names (blank ones).
    step = Space(args.space).step(args.journey, args.step, step_id=args.step_id)
    print(step.key)
    return EXIT_OK


def run_payload(args: argparse.Namespace) -> int:
    """``destkit payload``: print the event a destination receives for a step or audience."""
    space = Space(args.space)
    if args.audience and (args.journey or args.step):
        raise InvalidSettings("audience", "give either --audience or --journey/--step, not both")
    if args.audience:
        audience = space.audience(args.audience, destinations=args.destination)
        event = audience.event(args.call, user_id=args.user_id, entered=not args.exited)
    else:
        if not (args.journey and args.step):
            raise InvalidSettings("journey", "--journey and --step are required (or --audience)")
        if args.exited:
            raise InvalidSettings(
                "exited", "journey steps are add-only: they never send Audience Exited"
            )
        step = space.step(args.journey, args.step, destinations=args.destination)
        event = step.event(args.call, user_id=args.user_id)
    print(json.dumps(event.to_wire(), indent=2))
    return EXIT_OK


def run_sandbox(args: argparse.Namespace) -> int:
    """``destkit sandbox``: serve the loopback destination until interrupted."""
    from sdk.testing._sandbox import faults_from_args, serve

    try:
        faults = faults_from_args(args)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    try:
        serve(args.host, args.port, faults)
    except OSError as exc:
        # The sandbox wraps the socket's error in its own sentence: report the socket's reason.
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
        reason = cause.strerror or str(cause)
        if isinstance(cause, socket.gaierror):  # a host name that does not resolve: bad input
            _error(f"--host: cannot resolve {args.host}: {reason}")
            return EXIT_USAGE
        _error(f"--port: cannot listen on {args.host}:{args.port}: {reason}")
        return EXIT_FAILED
    return EXIT_OK


def run_contract(args: argparse.Namespace) -> int:
    """``destkit contract``: the contract suite against connectors."""
    from sdk.testing._contract_cli import run_contract_command

    # The table quotes connectors' and vendors' text: every write is made terminal-safe.
    return run_contract_command(
        args.connectors, junit=args.junit, out=cast(TextIO, TerminalSafe(sys.stdout))
    )


def run_tester(args: argparse.Namespace) -> int:
    """``destkit tester``: the Textual event tester, found by its entry point."""
    # The UI sits above the library: it is found by its entry point, never imported by name.
    found = [point for point in entry_points(group="destkit.ui") if point.name == "tester"]
    try:
        if not found:
            raise ImportError("no 'tester' entry point in the destkit.ui group (reinstall destkit)")
        run_tester_ui = found[0].load()
    except ImportError as exc:
        _error(f"the tester is not available: {exc}")
        return EXIT_FAILED
    code: int = run_tester_ui(
        destination=args.destination,
        settings_file=args.settings_file,
        journey_file=args.journey_file,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
