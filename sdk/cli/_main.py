"""The ``destkit`` command line.

Exit codes: 0 success (delivered), 1 delivery failed, 2 bad arguments, settings or event
(refused before any request), 3 filtered (``destkit send``: the event's integrations object, or
the destination's subscriptions, leave this destination out, so nothing was sent), 130
interrupted, 141 output pipe closed. Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from typing import Any, NoReturn, TextIO

from sdk._errors import DestkitError, InputError, InvalidEvent, InvalidSettings, PayloadTooLarge
from sdk.cli import _dlq, _serve, _status  # the service's commands (their imports are lazy)
from sdk.connector._registry import all_destinations, broken_connectors, get_destination
from sdk.connector._settings import env_var_name, read_settings_file, setting_fields
from sdk.delivery._render import render_lifecycle
from sdk.delivery._runtime import Delivery
from sdk.engage._personas import membership_of
from sdk.engage._spaces import Space
from sdk.engage._testevents import (
    DEFAULT_SPACE_ID,
    TestEventSpec,
    TestEventType,
    build_test_event,
    new_test_user_id,
)
from sdk.spec._messages import Alias, Group, Identify, Page, Screen, Track, parse_message
from sdk.transport._lifecycle import Lifecycle, Outcome

__all__ = ["main"]

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


def _non_blank(text: str) -> str:
    """An argparse type: a value that is not empty nor only spaces."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty or blank")
    return text


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to 65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {port}")
    return port


def _key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        # The text is not echoed: it may be a secret typed without its "KEY=" part.
        raise argparse.ArgumentTypeError("must look like KEY=VALUE (no '=' or no key found)")
    return name.strip(), value


def build_parser() -> argparse.ArgumentParser:
    """The full ``destkit`` parser (also used to document the CLI)."""
    parser = _Parser(prog="destkit", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    tester = sub.add_parser("tester", help="the interactive event tester (TUI)")
    tester.add_argument(
        "--destination", type=_non_blank, help="preselect a destination (slug or name)"
    )
    tester.add_argument("--settings-file", help="JSON or YAML file of settings")
    tester.add_argument("--journey-file", help="open in journey mode with this journey file")

    send = sub.add_parser(
        "send",
        help="send one test event and print its lifecycle",
        epilog=_SEND_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    send.add_argument(
        "--destination",
        required=True,
        type=_non_blank,
        help="slug or name (see destkit connectors)",
    )
    send.add_argument(
        "--event-type",
        required=True,
        choices=[t.value for t in TestEventType],
        help="which test event to build",
    )
    send.add_argument(
        "--setting",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a destination setting (repeatable)",
    )
    send.add_argument("--settings-file", help="JSON or YAML file of settings")
    send.add_argument("--payload", help="send this JSON message file instead of a built one")
    send.add_argument("--journey", help="journey name (with --step)")
    send.add_argument("--step", help="step name (with --journey)")
    send.add_argument("--audience", type=_non_blank, help="audience name")
    send.add_argument("--space", default=DEFAULT_SPACE_ID, help="space id (spa_...)")
    send.add_argument("--user-id", type=_non_blank, help="test user id (generated when absent)")
    send.add_argument("--json", action="store_true", help="print the lifecycle record as JSON")

    key = sub.add_parser("key", help="print a journey step's key")
    key.add_argument("--journey", required=True)
    key.add_argument("--step", required=True)
    key.add_argument("--space", default=DEFAULT_SPACE_ID)
    key.add_argument(
        "--step-id", type=_non_blank, help="the step's stable id (default: space/journey/step)"
    )

    payload = sub.add_parser("payload", help="print the event a destination receives")
    payload.add_argument("--type", required=True, choices=["track", "identify"], dest="call")
    payload.add_argument("--journey")
    payload.add_argument("--step")
    payload.add_argument("--audience", type=_non_blank)
    payload.add_argument("--exited", action="store_true", help="audiences only: a user left")
    payload.add_argument("--user-id", required=True, type=_non_blank)
    payload.add_argument("--space", default=DEFAULT_SPACE_ID)
    payload.add_argument(
        "--destination",
        action="append",
        default=[],
        type=_non_blank,
        help="a connected destination (repeatable)",
    )

    connectors = sub.add_parser("connectors", help="list connectors, their kind and settings")
    connectors.add_argument("--json", action="store_true")

    contract = sub.add_parser("contract", help="run the contract suite against connectors")
    contract.add_argument("connectors", nargs="*", help="slugs (default: all)")
    contract.add_argument("--junit", help="write JUnit XML to this file")

    sandbox = sub.add_parser("sandbox", help="run the sandbox destination with fault injection")
    sandbox.add_argument(
        "--host", type=_non_blank, default="127.0.0.1", help="address to listen on"
    )
    sandbox.add_argument("--port", type=_port, default=8787, help="0 to 65535 (0: any free port)")
    with contextlib.suppress(ImportError):
        from sdk.testing._sandbox import add_fault_arguments

        add_fault_arguments(sandbox)

    journey = sub.add_parser("journey", help="journey files: preview a user's path")
    journey_sub = journey.add_subparsers(
        dest="journey_command", required=True, parser_class=_Parser
    )
    preview = journey_sub.add_parser("preview", help="preview a user's path through a journey")
    preview.add_argument("file")
    preview.add_argument("--user", required=True, help="user profile JSON file")
    preview.add_argument("--journey", help="journey name (default: the first)")
    preview.add_argument("--send", action="store_true", help="deliver the payloads")
    preview.add_argument(
        "--step",
        type=_non_blank,
        help="with --send: only this step's events (its name, its path such as steps[1], "
        "or JOURNEY/STEP when a name is in several journeys)",
    )
    preview.add_argument(
        "--setting", action="append", type=_key_value, default=[], metavar="DEST.KEY=VALUE"
    )
    preview.add_argument("--json", action="store_true")
    _serve.add_serve_parser(sub, _port)
    _status.add_status_parser(sub)
    _dlq.add_dlq_parser(sub, _Parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``destkit``; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = _COMMANDS[args.command]
    try:
        return handler(args)
    except InputError as exc:
        print(f"destkit: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except DestkitError as exc:
        print(f"destkit: error: {exc.message}", file=sys.stderr)
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


def _cmd_key(args: argparse.Namespace) -> int:
    # The key of the step Space.step makes, so both refuse the same names (blank ones).
    step = Space(args.space).step(args.journey, args.step, step_id=args.step_id)
    print(step.key)
    return EXIT_OK


def _cmd_payload(args: argparse.Namespace) -> int:
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


def _settings_values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if getattr(args, "settings_file", None):
        values.update(read_settings_file(args.settings_file))
    for name, value in getattr(args, "setting", []):
        values[name] = value
    return values


@contextlib.contextmanager
def sandbox_endpoint(slug: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """For the sandbox destination without an endpoint, run the loopback server meanwhile."""
    if slug != "sandbox" or values.get("endpoint") or _env_endpoint(slug):
        yield values
        return
    from sdk.testing._sandbox import Sandbox

    with Sandbox() as server:
        yield {**values, "endpoint": server.url}


def _env_endpoint(slug: str) -> str | None:
    return os.environ.get(env_var_name(slug, "endpoint"))


def _read_payload(path: str) -> Any:
    """The ``--payload`` file's JSON value; a problem is one line naming ``payload``."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise InvalidSettings("payload", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidSettings("payload", f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidSettings("payload", f"{path} is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise InvalidSettings("payload", f"{path} nests too deeply to be a message") from None


def _payload_message(path: str) -> Track | Identify | Page | Screen | Group | Alias:
    """The ``--payload`` file as a validated message: a bad one is refused here, before any
    request, as ``payload.<field>: <rule>`` (exit 2)."""
    document = _read_payload(path)
    if not isinstance(document, dict):  # a JSON string is a value here, not JSON text to parse
        raise InvalidEvent("payload", "must be a JSON object")
    try:
        return parse_message(document)  # also refuses a message over 32 KB as sent
    except (InvalidEvent, PayloadTooLarge) as exc:
        field = "payload" if exc.field == "message" else f"payload.{exc.field}"
        raise type(exc)(field, exc.rule) from None


def _refuse_journey_exit(event: Track | Identify | Page | Screen | Group | Alias) -> None:
    """A journey never sends an exit (its lists are add-only): refused before any request."""
    membership = membership_of(event)
    if membership is not None and membership.is_journey and not membership.member:
        raise InvalidEvent(
            "event-type",
            f"{membership.key} is a journey step: journeys are add-only and never send "
            "Audience Exited or a removal (use --audience for an exit)",
        )


def _cmd_send(args: argparse.Namespace) -> int:
    destination = get_destination(args.destination)
    Space(args.space)  # a bad --space is refused even by an event type that does not use it
    values = _settings_values(args)
    event: Track | Identify | Page | Screen | Group | Alias
    if args.payload:
        event = _payload_message(args.payload)
    else:
        spec = TestEventSpec(
            event_type=TestEventType(args.event_type),
            user_id=args.user_id or new_test_user_id(),
            destination=destination.name,
            journey=args.journey,
            step=args.step,
            audience=args.audience,
            space_id=args.space,
        )
        event = build_test_event(spec)
    _refuse_journey_exit(event)
    with (
        sandbox_endpoint(destination.slug, values) as settings,
        Delivery(destination, settings) as delivery,
    ):
        lifecycle = delivery.send(event)
    _print_lifecycle(lifecycle, as_json=args.json, out=sys.stdout)
    if lifecycle.delivered:
        return EXIT_OK
    return EXIT_FILTERED if lifecycle.outcome is Outcome.FILTERED else EXIT_FAILED


def _print_lifecycle(lifecycle: Lifecycle, *, as_json: bool, out: TextIO) -> None:
    print(lifecycle.to_json() if as_json else render_lifecycle(lifecycle), file=out)


def _cmd_connectors(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for destination in all_destinations():
        rows.append(
            {
                "slug": destination.slug,
                "name": destination.name,
                "kind": destination.kind.value,
                "description": destination.description,
                "api_version": destination.api_version,
                "actions": [
                    {
                        "name": action.name,
                        "subscribe": action.subscribe.describe(),
                        "batch": None
                        if action.batch is None
                        else {
                            "max_events": action.batch.max_events,
                            "max_bytes": action.batch.max_bytes,
                        },
                    }
                    for action in destination.actions
                ],
                "settings": [
                    {
                        "name": f.name,
                        "type": f.type,
                        "required": f.required,
                        "secret": f.secret,
                        "env": env_var_name(destination.slug, f.name),
                        "description": f.description,
                    }
                    for f in setting_fields(destination.settings)
                ],
            }
        )
    broken = broken_connectors()
    for package, reason in sorted(broken.items()):
        print(f"destkit: error: connector {package!r} failed to import: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK if not broken else EXIT_FAILED
    for row in rows:
        print(f"{row['slug']:<28} {row['kind']:<8} {row['name']}")
        if row["description"]:
            print(f"    {row['description']}")
        settings = ", ".join(
            f"{s['name']}{'*' if s['required'] else ''}{' (secret)' if s['secret'] else ''}"
            for s in row["settings"]
        )
        print(f"    settings: {settings}")
    print("\n* required; settings can also come from DESTKIT_<SLUG>_<SETTING> variables")
    return EXIT_OK if not broken else EXIT_FAILED


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from sdk.testing._sandbox import faults_from_args, serve

    try:
        faults = faults_from_args(args)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        print(f"destkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        serve(args.host, args.port, faults)
    except OSError as exc:
        # The sandbox wraps the socket's error in its own sentence: report the socket's reason.
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
        reason = cause.strerror or str(cause)
        if isinstance(cause, socket.gaierror):  # a host name that does not resolve: bad input
            print(f"destkit: error: --host: cannot resolve {args.host}: {reason}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"destkit: error: --port: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _cmd_contract(args: argparse.Namespace) -> int:
    from sdk.testing._contract_cli import run_contract_command

    return run_contract_command(args.connectors, junit=args.junit)


def _cmd_tester(args: argparse.Namespace) -> int:
    # The UI sits above the library: it is found by its entry point, never imported by name.
    found = [point for point in entry_points(group="destkit.ui") if point.name == "tester"]
    try:
        if not found:
            raise ImportError("no 'tester' entry point in the destkit.ui group (reinstall destkit)")
        run_tester = found[0].load()
    except ImportError as exc:
        print(f"destkit: error: the tester is not available: {exc}", file=sys.stderr)
        return EXIT_FAILED
    code: int = run_tester(
        destination=args.destination,
        settings_file=args.settings_file,
        journey_file=args.journey_file,
    )
    return code


def _cmd_journey(args: argparse.Namespace) -> int:
    from sdk.cli._journey import run_journey_command

    return run_journey_command(args)


_COMMANDS = {
    "tester": _cmd_tester,
    "send": _cmd_send,
    "key": _cmd_key,
    "payload": _cmd_payload,
    "connectors": _cmd_connectors,
    "contract": _cmd_contract,
    "sandbox": _cmd_sandbox,
    "journey": _cmd_journey,
    "serve": _serve.run_serve,
    "status": _status.run_status,
    "dlq": _dlq.run_dlq,
}


if __name__ == "__main__":
    sys.exit(main())
