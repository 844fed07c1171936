"""The sandbox's HTTP side: a threading HTTP/1.1 server whose handler answers any method on
any path (recorded, and faulted per the plan), and the ``/_sandbox/`` control endpoints."""

from __future__ import annotations

import contextlib
import json
import re
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

from sdk.testing._sandbox._faults import FaultError, Faults, _Answer
from sdk.testing._sandbox._requests import (
    BodyTooLarge,
    RecordedRequest,
    _decode_content,
    _parse_json,
)

if TYPE_CHECKING:
    from sdk.testing._sandbox._server import Sandbox

__all__ = ["CONTROL_PREFIX"]

CONTROL_PREFIX = "/_sandbox/"
"""Paths under this prefix control the sandbox; they are never recorded and never get faults."""

_NO_BODY_STATUSES = {204, 304}
_BROKEN_OK = b'{"ok": tru'
_BROKEN_ERROR = b'{"ok": fals'
_IDLE_TIMEOUT = 30.0  # seconds an idle keep-alive connection is kept open


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


class _TooLarge(Exception):
    def __init__(self, message: str, unread: int = 0) -> None:
        super().__init__(message)
        self.unread = unread


#: A refused body up to this size is read and dropped, so the client sees the 413 rather than
#: a reset connection while it is still sending; nothing of it is kept.
_DRAIN_LIMIT = 64 * 1024 * 1024


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
        except _TooLarge as exc:
            self._drain(exc.unread)
            self._too_large(str(exc))
            return
        if path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX):
            self._control(path, body)
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            content = _decode_content(
                body, headers.get("content-encoding", ""), sandbox.max_body_bytes
            )
        except BodyTooLarge as exc:
            self._too_large(str(exc))
            return
        parsed = _parse_json(content)
        del content
        answer = sandbox._decide()
        request_id = str(uuid.uuid4())
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

    def _drain(self, unread: int) -> None:
        if unread > _DRAIN_LIMIT:
            return
        with contextlib.suppress(OSError):
            while unread > 0:
                chunk = self.rfile.read(min(unread, 65536))
                if not chunk:
                    break
                unread -= len(chunk)

    def _too_large(self, why: str) -> None:
        """Refuse a body over the cap with 413, and close: what is left unread is not read."""
        self.close_connection = True
        cap = self._sandbox.max_body_bytes
        error = f"request body too large: {why} (the sandbox's max_body_bytes is {cap:,})"
        self._send(413, _json_bytes({"ok": False, "error": error}), "application/json")

    def _read_body(self) -> bytes:
        limit = self._sandbox.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadRequest(f"bad Content-Length {length_text!r}") from None
        if length < 0:
            raise _BadRequest(f"bad Content-Length {length_text!r}")
        if length > limit:  # refused before reading a byte of it
            raise _TooLarge(f"Content-Length {length:,} is larger than {limit:,} bytes", length)
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BadRequest("body shorter than its Content-Length")
        return body

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("bad chunk size in a chunked body") from None
            if size == 0:
                break
            total += size
            if total > limit:
                raise _TooLarge(f"the chunked body is larger than {limit:,} bytes")
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
