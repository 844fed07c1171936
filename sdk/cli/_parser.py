"""The ``destkit`` parser: one table of subcommands, each with its arguments and its runner.

A new command is one :class:`Command` in :data:`COMMANDS`: its name, its help, a function that
adds its arguments, and the ``module:function`` that runs it (imported only when the command
runs, so ``destkit --help`` stays fast and a command's dependencies load only for it).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sdk.cli import _dlq, _serve, _status, _worker  # argparse only at import; runners load lazily
from sdk.cli._sync import sync_arguments
from sdk.engage._testevents import DEFAULT_SPACE_ID, TestEventType

__all__ = [
    "COMMANDS",
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_FILTERED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Command",
    "build_parser",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: ``destkit send``: the event was filtered at the destination; neither delivered nor failed.
EXIT_FILTERED = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left

_SEND_EXIT_CODES = f"""exit codes:
  {EXIT_OK}  delivered: the destination accepted the event
  {EXIT_FAILED}  delivery failed (after any retries); the lifecycle says why
  {EXIT_USAGE}  bad arguments, settings or event: refused before any request
     (an invalid --payload, a journey asked for audience-exited or list-remove...)
  {EXIT_FILTERED}  filtered at destination, nothing sent: the event's integrations object
     (or the destination's subscriptions) leave this destination out
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def non_blank(text: str) -> str:
    """An argparse type: a value that is not empty nor only spaces."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty or blank")
    return text


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to 65535") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {number}")
    return number


def key_value(text: str) -> tuple[str, str]:
    """An argparse type: ``KEY=VALUE`` (the value is never echoed: it may be a secret)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        # The text is not echoed: it may be a secret typed without its "KEY=" part.
        raise argparse.ArgumentTypeError("must look like KEY=VALUE (no '=' or no key found)")
    return name.strip(), value


@dataclass(frozen=True)
class Command:
    """One ``destkit`` subcommand."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    #: ``"module:function"``; the function takes the parsed arguments and returns the exit code.
    run: str
    options: dict[str, Any] = field(default_factory=dict)


def _tester(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--destination", type=non_blank, help="preselect a destination (slug or name)"
    )
    parser.add_argument("--settings-file", help="JSON or YAML file of settings")
    parser.add_argument("--journey-file", help="open in journey mode with this journey file")


def _send(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--destination", required=True, type=non_blank, help="slug or name (see destkit connectors)"
    )
    parser.add_argument(
        "--event-type",
        required=True,
        choices=[t.value for t in TestEventType],
        help="which test event to build",
    )
    parser.add_argument(
        "--setting",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a destination setting (repeatable; a map setting takes a JSON object)",
    )
    parser.add_argument("--settings-file", help="JSON or YAML file of settings")
    parser.add_argument(
        "--payload", type=non_blank, help="send this JSON message file instead of a built one"
    )
    parser.add_argument("--journey", help="journey name (with --step)")
    parser.add_argument("--step", help="step name (with --journey)")
    parser.add_argument("--audience", type=non_blank, help="audience name")
    parser.add_argument("--space", default=DEFAULT_SPACE_ID, help="space id (spa_...)")
    parser.add_argument("--user-id", type=non_blank, help="test user id (generated when absent)")
    parser.add_argument("--json", action="store_true", help="print the lifecycle record as JSON")


def _key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--journey", required=True)
    parser.add_argument("--step", required=True)
    parser.add_argument("--space", default=DEFAULT_SPACE_ID)
    parser.add_argument(
        "--step-id", type=non_blank, help="the step's stable id (default: space/journey/step)"
    )


def _payload(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", required=True, choices=["track", "identify"], dest="call")
    parser.add_argument("--journey")
    parser.add_argument("--step")
    parser.add_argument("--audience", type=non_blank)
    parser.add_argument("--exited", action="store_true", help="audiences only: a user left")
    parser.add_argument("--user-id", required=True, type=non_blank)
    parser.add_argument("--space", default=DEFAULT_SPACE_ID)
    parser.add_argument(
        "--destination",
        action="append",
        default=[],
        type=non_blank,
        help="a connected destination (repeatable)",
    )


def _connectors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true")
    parser.add_argument("name", nargs="?", help="with --schema: one connector")
    parser.add_argument("--schema", action="store_true", help="print NAME's JSON Schema")


def _docs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="slug or name")
    parser.add_argument("--output", help="write the page here (default: print it)")
    parser.add_argument("--all", action="store_true", help="every connector, into --dir")
    parser.add_argument(
        "--dir", default="docs/connectors", help="with --all (default: %(default)s)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a written page differs")


def _new(parser: argparse.ArgumentParser) -> None:
    new_sub = parser.add_subparsers(dest="new_command", required=True, parser_class=_Parser)
    connector = new_sub.add_parser("connector", help="a standalone, installable connector")
    connector.add_argument("slug", metavar="NAME", help="snake_case name, e.g. acme_crm")
    connector.add_argument("--kind", choices=["event", "list"], default="event")
    connector.add_argument("--dir", help="where to write it (default: ./destkit-NAME)")


def _contract(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("connectors", nargs="*", help="slugs (default: all)")
    parser.add_argument("--junit", help="write JUnit XML to this file")


def _sandbox(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", type=non_blank, default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=port, default=8787, help="0 to 65535 (0: any free port)")
    with contextlib.suppress(ImportError):
        from sdk.testing._sandbox import add_fault_arguments

        add_fault_arguments(parser)


def _journey(parser: argparse.ArgumentParser) -> None:
    journey_sub = parser.add_subparsers(dest="journey_command", required=True, parser_class=_Parser)
    preview = journey_sub.add_parser("preview", help="preview a user's path through a journey")
    preview.add_argument("file")
    preview.add_argument("--user", required=True, help="user profile JSON file")
    preview.add_argument("--journey", help="journey name (default: the first)")
    preview.add_argument("--send", action="store_true", help="deliver the payloads")
    preview.add_argument(
        "--step",
        type=non_blank,
        help="with --send: only this step's events (its name, its path such as steps[1], "
        "or JOURNEY/STEP when a name is in several journeys)",
    )
    preview.add_argument(
        "--setting", action="append", type=key_value, default=[], metavar="DEST.KEY=VALUE"
    )
    preview.add_argument("--json", action="store_true")


#: Every ``destkit`` subcommand, in the order ``destkit --help`` lists them.
COMMANDS: list[Command] = [
    Command("tester", "the interactive event tester (TUI)", _tester, "sdk.cli._main:run_tester"),
    Command(
        "send",
        "send one test event and print its lifecycle",
        _send,
        "sdk.cli._send:run_send",
        {"epilog": _SEND_EXIT_CODES, "formatter_class": argparse.RawDescriptionHelpFormatter},
    ),
    Command("key", "print a journey step's key", _key, "sdk.cli._main:run_key"),
    Command(
        "payload", "print the event a destination receives", _payload, "sdk.cli._main:run_payload"
    ),
    Command(
        "connectors",
        "list connectors, their kind and settings",
        _connectors,
        "sdk.cli._connectors:run_connectors",
    ),
    Command(
        "contract",
        "run the contract suite against connectors",
        _contract,
        "sdk.cli._main:run_contract",
    ),
    Command(
        "sandbox",
        "run the sandbox destination with fault injection",
        _sandbox,
        "sdk.cli._main:run_sandbox",
    ),
    Command(
        "journey",
        "journey files: preview a user's path",
        _journey,
        "sdk.cli._journey:run_journey_command",
    ),
    Command(
        "docs", "write a connector's docs page from its definition", _docs, "sdk.cli._docs:run_docs"
    ),
    Command("new", "scaffold a new connector package", _new, "sdk.cli._new:run_new"),
    # The delivery service: its commands' arguments live beside their runners.
    Command(
        "serve",
        "run the durable delivery service (Segment's HTTP Tracking API in, connectors out)",
        _serve.serve_arguments,
        "sdk.cli._serve:run_serve",
        {"description": _serve.SERVE_DESCRIPTION},
    ),
    Command(
        "worker",
        "deliver from a Redis queue (any number, on any machines)",
        _worker.worker_arguments,
        "sdk.cli._worker:run_worker",
        {"description": _worker.WORKER_DESCRIPTION},
    ),
    Command(
        "status",
        "per-destination state of the delivery service",
        _status.status_arguments,
        "sdk.cli._status:run_status",
    ),
    Command(
        "dlq",
        "list, show, replay or purge dead letters",
        _dlq.dlq_arguments,
        "sdk.cli._dlq:run_dlq",
    ),
    Command("sync", "list sync from a file of users", sync_arguments, "sdk.cli._sync:run_sync"),
]


def build_parser() -> argparse.ArgumentParser:
    """The full ``destkit`` parser (also used to document the CLI)."""
    parser = _Parser(prog="destkit", description="The destkit command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.arguments(sub.add_parser(command.name, help=command.help, **command.options))
    return parser
