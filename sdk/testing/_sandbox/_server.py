"""The sandbox itself: :class:`Sandbox` starts the server on a daemon thread, keeps the recorded
requests, and decides each answer from its fault plan."""

from __future__ import annotations

import collections
import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable

from sdk.testing._sandbox._faults import Faults, _Answer, check_port
from sdk.testing._sandbox._http import _Server
from sdk.testing._sandbox._requests import DEFAULT_MAX_BODY_BYTES, RecordedRequest

__all__ = ["DEFAULT_MAX_RECORDED_BYTES", "DEFAULT_MAX_REQUESTS", "Sandbox"]

_JOIN_TIMEOUT = 2.0
#: How many requests a sandbox keeps by default: the newest, in a ring.
DEFAULT_MAX_REQUESTS = 1000
#: The most body bytes (as received) the kept requests may hold together by default.
DEFAULT_MAX_RECORDED_BYTES = 64 * 1024 * 1024


class Sandbox:
    """A destination on loopback: records every request and answers per its :class:`Faults`.

    Use it as a context manager (``with Sandbox() as sb:``) or call :meth:`start` and
    :meth:`stop`. ``port=0`` picks a free port; :attr:`url` gives ``http://127.0.0.1:PORT``.
    ``on_request`` is called (from a server thread) with every request recorded.

    Memory stays bounded however long it runs: a request body larger than ``max_body_bytes``,
    as sent or once inflated (gzip, deflate), is refused with ``413`` before it is read or
    inflated further; and only the newest ``max_requests`` requests are kept, fewer when their
    bodies together pass ``max_recorded_bytes`` (the newest one is always kept).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        *,
        on_request: Callable[[RecordedRequest], None] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        max_recorded_bytes: int = DEFAULT_MAX_RECORDED_BYTES,
    ) -> None:
        for name, value in (
            ("max_body_bytes", max_body_bytes),
            ("max_requests", max_requests),
            ("max_recorded_bytes", max_recorded_bytes),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive integer, got {value!r}")
        #: The largest request body accepted, as sent and once inflated (else ``413``).
        self.max_body_bytes = max_body_bytes
        #: How many recorded requests are kept (the newest).
        self.max_requests = max_requests
        #: The most body bytes the kept requests hold together.
        self.max_recorded_bytes = max_recorded_bytes
        self._host = host
        self._port = check_port(port)
        self._on_request = on_request
        self._cond = threading.Condition()
        self._requests: collections.deque[RecordedRequest] = collections.deque()
        self._recorded_bytes = 0
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
            self._recorded_bytes = 0
            return count

    def wait_for(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least ``n`` requests are recorded; returns the snapshot.

        Raises ``TimeoutError`` when fewer arrived within ``timeout`` seconds, and
        ``ValueError`` when ``n`` is more than the sandbox keeps (``max_requests``).
        """
        if n > self.max_requests:
            raise ValueError(f"n: the sandbox keeps at most max_requests={self.max_requests}")
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
            self._recorded_bytes += len(request.body)
            while len(self._requests) > 1 and (
                len(self._requests) > self.max_requests
                or self._recorded_bytes > self.max_recorded_bytes
            ):
                self._recorded_bytes -= len(self._requests.popleft().body)
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
