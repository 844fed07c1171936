"""The ``timeout`` setting is a total per request, from sending it to the last byte of its
answer, checked against a real loopback server that trickles its answer: every byte arrives
well within httpx's per-phase read timeout, yet the whole answer would take far longer."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Literal

import pytest
from _connectors import NoSettings, SendOne

from sdk import (
    Delivery,
    Destination,
    DestinationKind,
    RetryPolicy,
)

BODY = b'{"ok":true,"padding":"' + b"x" * 60 + b'"}'
#: Seconds between two bytes of the answer: the whole body would take about 8 s. The total
#: timeout is long enough that the headers come well within it on a loaded machine, and far
#: shorter than the body.
TRICKLE = 0.1
TIMEOUT = 1.0
HTTP = Literal["httpx", "aiohttp"]


class Trickler:
    """A loopback HTTP/1.1 server that sends its headers at once, then one body byte every
    ``delay`` seconds; one thread per connection."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self.answer, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def answer(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
            )
            for byte in BODY:
                if self.stopping.wait(self.delay):
                    return
                conn.sendall(bytes([byte]))  # raises once the client gave up and closed


@contextlib.contextmanager
def trickler(delay: float = TRICKLE) -> Iterator[Trickler]:
    server = Trickler(delay)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        thread.join(2)
        server.listener.close()
        for handler in server.threads:
            handler.join(2)


destination: Destination[NoSettings] = Destination(
    name="Trickle Test",
    slug="trickle_test",
    kind=DestinationKind.EVENT,
    settings=NoSettings,
    actions=[SendOne()],
    retry=RetryPolicy(max_attempts=2, jitter=0.0),
)

EVENT = {"type": "track", "event": "Order Completed", "userId": "u-1"}


@pytest.mark.parametrize("http", ["httpx", "aiohttp"])  # aiohttp: the direct carrier
def test_an_answer_trickling_past_the_total_timeout_is_a_retryable_timeout(http: HTTP) -> None:
    sleeps: list[float] = []
    with trickler() as server:
        settings = {"endpoint": server.url, "timeout": TIMEOUT}
        started = time.monotonic()
        with Delivery(destination, settings, sleep=sleeps.append, http=http) as delivery:
            lifecycle = delivery.send(EVENT)
        took = time.monotonic() - started
        requests = server.requests

    assert not lifecycle.delivered
    assert lifecycle.outcome == "failed: retryable exhausted"
    assert requests == 2  # retried once, as a timeout is
    assert sleeps == [0.5]
    message = (
        "timed out: no complete answer within the total timeout of 1s "
        "(the server was still sending)"
    )
    for attempt in lifecycle.to_dict()["attempts"]:
        (exchange,) = attempt["exchanges"]
        assert exchange["response"] is None
        assert exchange["error"] == {
            "class": "RetryableError",
            "message": message,
            "status": None,
            "retryable": True,
        }
        assert exchange["timings"]["first_byte_ms"] is not None  # the headers had come
        assert exchange["timings"]["total_ms"] < 4000  # the body alone would take ~8 s
    assert lifecycle.error is not None and lifecycle.error.message == message
    # two attempts, each cut at 1 s, where the full answers would have taken ~17 s
    assert took < 8


@pytest.mark.parametrize("http", ["httpx", "aiohttp"])
def test_an_answer_inside_the_total_timeout_is_delivered(http: HTTP) -> None:
    with trickler(delay=0.002) as server:  # the whole answer in about 0.2 s
        settings = {"endpoint": server.url, "timeout": 30}
        with Delivery(destination, settings, sleep=lambda _: None, http=http) as delivery:
            lifecycle = delivery.send(EVENT)

    assert lifecycle.delivered
    response = lifecycle.last_response
    assert response is not None and response.body == {"ok": True, "padding": "x" * 60}
