"""The sandbox destination: a real HTTP server on loopback that plays a destination.

It answers any method on any path (``/users/track``, ``/2/httpapi``, ``/v19.0/act_1/users`` ...)
with ``200`` and a JSON echo of what it received, records every request, and can be told to
misbehave (:class:`Faults`): a fixed status, a sequence of statuses, ``Retry-After``, latency, a
seeded random failure rate, non-JSON bodies, dropped connections.

It runs on a daemon thread (``http.server.ThreadingHTTPServer``, HTTP/1.1 with keep-alive), so
sync and asyncio clients in the same process can both call it::

    with Sandbox(faults=Faults(sequence=[503, 503, 200])) as sb:
        httpx.post(f"{sb.url}/v1/event", json={"type": "track"})
        sb.wait_for(1)
        assert sb.requests[0].json == {"type": "track"}

Control endpoints under ``/_sandbox/`` let ``destkit sandbox`` be driven with curl (they are
never recorded and never get faults):

- ``GET /_sandbox/requests``: the recorded requests as JSON (credential-named headers and query
  parameters masked; bodies as text, or base64 when not UTF-8);
- ``DELETE /_sandbox/requests``: forget them;
- ``GET /_sandbox/faults``: the fault plan;
- ``PUT /_sandbox/faults``: replace the fault plan with a JSON object of :class:`Faults` fields
  (``400`` with a one-line error naming the field when a value is bad).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import email.utils
import gzip
import json
import math
import random
import re
import socket
import socketserver
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TextIO, cast, get_args
from urllib.parse import parse_qs, urlsplit

from sdk._redaction import MASK, is_secret_name

__all__ = [
    "CONTROL_PREFIX",
    "FaultError",
    "Faults",
    "RecordedRequest",
    "Sandbox",
    "add_fault_arguments",
    "faults_from_args",
    "serve",
]

CONTROL_PREFIX = "/_sandbox/"
"""Paths under this prefix control the sandbox; they are never recorded and never get faults."""

BodyMode = Literal["json", "text", "empty", "broken"]
_BODY_MODES: tuple[str, ...] = get_args(BodyMode)
_MIN_STATUS, _MAX_STATUS = 200, 599
_NO_BODY_STATUSES = {204, 304}
_BROKEN_OK = b'{"ok": tru'
_BROKEN_ERROR = b'{"ok": fals'
_JOIN_TIMEOUT = 2.0
_IDLE_TIMEOUT = 30.0  # seconds an idle keep-alive connection is kept open


# -- fault plan ---------------------------------------------------------------------------------


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
    """Seconds to wait before answering."""
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
            ("latency", self.latency, lambda v: _check_number(v, low=0.0, high=None)),
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


# -- recorded requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received (control requests excepted)."""

    method: str
    path: str
    """The path, without the query string, exactly as sent."""
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names lower-cased; repeated headers joined with ``", "``."""
    body: bytes
    """The body as received (still gzip-compressed if it was sent so)."""
    json: Any
    """The parsed body (decompressed first when ``Content-Encoding`` is gzip/deflate), or None."""
    received_at: float
    """When it arrived (``time.time()``)."""
    request_id: str = ""
    """The id the sandbox answered with (``request_id`` in its JSON answer)."""
    status: int | None = None
    """The status it was answered with; None when the connection was dropped."""
    fault: str | None = None
    """The fault that decided the answer (``"injected 503 (sequence 1/3)"``), if any."""

    @property
    def content(self) -> bytes:
        """The body, decompressed when ``Content-Encoding`` says gzip or deflate."""
        return _decode_content(self.body, self.headers.get("content-encoding", ""))

    @property
    def text(self) -> str:
        """The decompressed body as text (UTF-8, undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def to_dict(self, *, redact: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; ``redact`` masks credential-named headers and query parameters."""
        content = self.content
        try:
            body, encoding = content.decode("utf-8"), "text"
        except UnicodeDecodeError:
            body, encoding = base64.b64encode(content).decode("ascii"), "base64"
        headers = dict(self.headers)
        query = {k: list(v) for k, v in self.query.items()}
        if redact:
            headers = {k: MASK if is_secret_name(k) else v for k, v in headers.items()}
            query = {k: [MASK] * len(v) if is_secret_name(k) else v for k, v in query.items()}
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": query,
            "headers": headers,
            "body": body,
            "body_encoding": encoding,
            "body_bytes": len(self.body),
            "json": self.json,
            "received_at": self.received_at,
            "status": self.status,
            "fault": self.fault,
        }


def _decode_content(body: bytes, content_encoding: str) -> bytes:
    """Undo ``Content-Encoding`` gzip/deflate (innermost last); leave anything else as is."""
    data = body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                data = gzip.decompress(data)
            elif coding == "deflate":
                data = zlib.decompress(data)
            elif coding != "identity":
                return body
        except (OSError, EOFError, zlib.error):
            return body
    return data


def _parse_json(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None


# -- the answer plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    fault: str | None
    latency: float
    body: BodyMode
    retry_after: str | None
    drop: bool


# -- the HTTP server ----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its :class:`Sandbox` and keeps quiet about client errors."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many clients connecting at once are not refused

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, family: int) -> None:
        self.address_family = family
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host (slow on some machines)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is not an error worth a traceback on stderr."""
        self.sandbox._last_error = sys.exc_info()[1]


class _BadRequest(Exception):
    pass


_VERSION_SEGMENT = re.compile(r"^/v\d+(\.\d+)?/")


def _handshake(record: RecordedRequest) -> dict[str, Any]:
    """Fields a client needs to go on with a multi-step flow, so connectors that need one can
    be tried against the sandbox: an OAuth 2 token request (a form with ``grant_type``) gets an
    ``access_token``; a ``...:create`` call (Google-style jobs) gets a ``resourceName``."""
    if record.method == "POST" and "grant_type" in parse_qs(record.text):
        return {"access_token": "sandbox-access-token", "token_type": "Bearer", "expires_in": 3599}
    if record.method == "POST" and record.path.endswith(":create"):
        collection = _VERSION_SEGMENT.sub("", record.path).removesuffix(":create").lstrip("/")
        return {"resourceName": f"{collection}/1"}
    return {}


class _Handler(BaseHTTPRequestHandler):
    """Answers any method: recorded and faulted, or a ``/_sandbox/`` control request."""

    protocol_version = "HTTP/1.1"
    server_version = "destkit-sandbox/1"
    timeout = _IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go out as separate small writes

    @property
    def _sandbox(self) -> Sandbox:
        return cast(_Server, self.server).sandbox

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches to ``do_<METHOD>``: every method is accepted.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def setup(self) -> None:
        """Register the connection so :meth:`Sandbox.stop` can close it."""
        super().setup()
        self._sandbox._track(self.connection, threading.current_thread())

    def finish(self) -> None:
        """Forget the connection."""
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self._sandbox._untrack(self.connection, threading.current_thread())

    def version_string(self) -> str:
        """The ``Server`` header: just ``destkit-sandbox/1``."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence: no default log lines on stderr."""

    # -- dispatch ---------------------------------------------------------------------------

    def _dispatch(self) -> None:
        sandbox = self._sandbox
        target = urlsplit(self.path)
        path = target.path or "/"
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._send(400, _json_bytes({"ok": False, "error": str(exc)}), "application/json")
            return
        if path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX):
            self._control(path, body)
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        answer = sandbox._decide()
        request_id = str(uuid.uuid4())
        parsed = _parse_json(_decode_content(body, headers.get("content-encoding", "")))
        record = RecordedRequest(
            method=self.command,
            path=path,
            query=parse_qs(target.query, keep_blank_values=True),
            headers=headers,
            body=body,
            json=parsed,
            received_at=time.time(),
            request_id=request_id,
            status=None if answer.drop else answer.status,
            fault="dropped connection" if answer.drop else answer.fault,
        )
        sandbox._record(record)
        if answer.latency > 0 and sandbox._stopping.wait(answer.latency):
            self.close_connection = True  # stopping: give up on the answer
            return
        if answer.drop:
            self.close_connection = True  # closed with no response at all
            return
        self._answer(answer, record)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadRequest(f"bad Content-Length {length_text!r}") from None
        if length < 0:
            raise _BadRequest(f"bad Content-Length {length_text!r}")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BadRequest("body shorter than its Content-Length")
        return body

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("bad chunk size in a chunked body") from None
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)  # the CRLF after the chunk
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)

    # -- answers ----------------------------------------------------------------------------

    def _answer(self, answer: _Answer, record: RecordedRequest) -> None:
        ok = 200 <= answer.status < 300
        if ok:
            payload: dict[str, Any] = {
                "ok": True,
                "request_id": record.request_id,
                "received": {
                    "method": record.method,
                    "path": record.path,
                    "query": record.query,
                    "json": record.json,
                    "body_bytes": len(record.body),
                },
                **_handshake(record),
            }
            text = f"ok request_id={record.request_id}\n"
        else:
            error = answer.fault or f"injected {answer.status}"
            payload = {"ok": False, "error": error, "request_id": record.request_id}
            text = f"{error}\n"
        if answer.body == "json":
            body, content_type = _json_bytes(payload), "application/json"
        elif answer.body == "text":
            body, content_type = text.encode("utf-8"), "text/plain; charset=utf-8"
        elif answer.body == "broken":
            body, content_type = (_BROKEN_OK if ok else _BROKEN_ERROR), "application/json"
        else:
            body, content_type = b"", None
        extra = {"X-Sandbox-Request-Id": record.request_id}
        if not ok and answer.retry_after is not None:
            extra["Retry-After"] = answer.retry_after
        self._send(answer.status, body, content_type, extra)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            if status in _NO_BODY_STATUSES:
                body = b""
            else:
                if content_type is not None and body:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client went away (a timeout on its side): nothing to tell it
            self.close_connection = True

    def _send_json(self, status: int, value: Any, extra: Mapping[str, str] | None = None) -> None:
        self._send(status, _json_bytes(value), "application/json", extra)

    # -- control endpoints ------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        sandbox = self._sandbox
        method = self.command
        if path == CONTROL_PREFIX + "requests":
            if method in ("GET", "HEAD"):
                self._send_json(200, [r.to_dict(redact=True) for r in sandbox.requests])
            elif method == "DELETE":
                self._send_json(200, {"ok": True, "cleared": sandbox.clear()})
            else:
                self._not_allowed("GET, DELETE")
        elif path == CONTROL_PREFIX + "faults":
            if method in ("GET", "HEAD"):
                self._send_json(200, sandbox.faults.to_dict())
            elif method == "PUT":
                try:
                    data = json.loads(body) if body.strip() else {}
                except ValueError as exc:
                    message = f"faults: the body is not valid JSON ({exc})"
                    self._send_json(400, {"ok": False, "error": message})
                    return
                try:
                    faults = Faults.from_dict(data)
                except FaultError as exc:
                    self._send_json(400, {"ok": False, "error": str(exc), "field": exc.field})
                    return
                sandbox.set_faults(faults)
                self._send_json(200, {"ok": True, "faults": faults.to_dict()})
            else:
                self._not_allowed("GET, PUT")
        else:
            known = f"{CONTROL_PREFIX}requests, {CONTROL_PREFIX}faults"
            self._send_json(404, {"ok": False, "error": f"unknown control path (known: {known})"})

    def _not_allowed(self, allow: str) -> None:
        error = f"{self.command} not allowed here (allowed: {allow})"
        self._send_json(405, {"ok": False, "error": error}, {"Allow": allow})


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- the sandbox --------------------------------------------------------------------------------


class Sandbox:
    """A destination on loopback: records every request and answers per its :class:`Faults`.

    Use it as a context manager (``with Sandbox() as sb:``) or call :meth:`start` and
    :meth:`stop`. ``port=0`` picks a free port; :attr:`url` gives ``http://127.0.0.1:PORT``.
    ``on_request`` is called (from a server thread) with every request recorded.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        *,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._on_request = on_request
        self._cond = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._faults = Faults()
        self._sequence_position = 0
        self._rng = random.Random()
        self.set_faults(faults)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._last_error: BaseException | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start listening (no-op when already running); returns the sandbox itself."""
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        try:
            server = _Server((self._host, self._port), self, family)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            message = f"sandbox cannot listen on {self._host}:{self._port}: {reason}"
            raise OSError(exc.errno, message) from exc
        self._stopping.clear()
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"destkit-sandbox:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every open connection and free the port (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server, self._thread = None, None
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(_JOIN_TIMEOUT)
        with self._cond:
            connections = list(self._connections.items())
        for conn, _ in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for _, handler_thread in connections:
            if handler_thread is not threading.current_thread():
                handler_thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    @property
    def host(self) -> str:
        """The host it listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port it listens on (the one picked, once started with ``port=0``)."""
        if self._port == 0:
            raise RuntimeError("the sandbox has not been started: no port picked yet")
        return self._port

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, the base URL to point a destination at."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    # -- recorded requests ------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._cond:
            return list(self._requests)

    def clear(self) -> int:
        """Forget the recorded requests; returns how many there were."""
        with self._cond:
            count = len(self._requests)
            self._requests.clear()
            return count

    def wait_for(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least ``n`` requests are recorded; returns the snapshot.

        Raises ``TimeoutError`` when fewer arrived within ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(
                    f"sandbox: {len(self._requests)} of {n} requests arrived within {timeout:g} s"
                )
            return list(self._requests)

    # -- faults -----------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """A copy of the current fault plan."""
        with self._cond:
            return self._faults.copy()

    def set_faults(self, faults: Faults | None) -> None:
        """Replace the fault plan (None: answer normally); restarts the sequence and the seed."""
        plan = (faults or Faults()).copy().validate()
        with self._cond:
            self._faults = plan
            self._sequence_position = 0
            self._rng = random.Random(plan.seed)

    def _decide(self) -> _Answer:
        with self._cond:
            plan = self._faults
            status, fault = 200, None
            if self._sequence_position < len(plan.sequence):
                self._sequence_position += 1
                status = plan.sequence[self._sequence_position - 1]
                fault = f"sequence {self._sequence_position}/{len(plan.sequence)}"
            elif plan.status is not None:
                status, fault = plan.status, "status"
            elif plan.failure_rate > 0 and self._rng.random() < plan.failure_rate:
                status, fault = plan.failure_status, f"failure_rate {plan.failure_rate:g}"
            return _Answer(
                status=status,
                fault=f"injected {status} ({fault})" if fault else None,
                latency=plan.latency,
                body=plan.body,
                retry_after=plan.retry_after,
                drop=plan.drop_connection,
            )

    # -- server-thread hooks ----------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
        if self._on_request is not None:
            with contextlib.suppress(Exception):  # a printing hook must never break an answer
                self._on_request(request)

    def _track(self, conn: socket.socket, thread: threading.Thread) -> None:
        with self._cond:
            self._connections[conn] = thread

    def _untrack(self, conn: socket.socket, thread: threading.Thread) -> None:
        with self._cond:
            if self._connections.get(conn) is thread:
                del self._connections[conn]

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Sandbox {where} requests={len(self.requests)}>"


# -- command line -------------------------------------------------------------------------------

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
        type=_arg_type(_parse_float, lambda v: _check_number(v, low=0.0, high=None)),
        default=0.0,
        metavar="SECONDS",
        help="wait this long before every answer",
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
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> None:
    """Run the sandbox until KeyboardInterrupt (or until ``stop`` is set), printing its traffic.

    Prints ``sandbox listening on http://HOST:PORT``, then one line per request: method, path
    (never the query string, which may carry keys), the status answered and the body size. No
    header is printed, so no credential is. Raises ``OSError`` when it cannot listen.
    """
    lock = threading.Lock()

    def emit(line: str) -> None:
        with lock, contextlib.suppress(OSError, ValueError):
            out.write(line + "\n")
            out.flush()

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
