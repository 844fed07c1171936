"""The lean HTTP/1.1 carrier (``http="direct"``, and ``stream()`` under ``"auto"``): keep-alive,
framing, decoding, the cap, timeouts and errors, over real loopback sockets (scripted servers
answering raw bytes, the sandbox, a closed port, a self-signed TLS server)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _connectors import NoSettings, SendOne

from sdk import AsyncDelivery, Delivery, Destination, DestinationKind, RetryPolicy
from sdk._errors import RetryableError
from sdk.delivery._client import make_client
from sdk.testing import Sandbox
from sdk.transport import DestinationHTTP, Redactor
from sdk.transport._direct import DirectClient
from sdk.transport._h1_pool import H1Carrier

destination: Destination[NoSettings] = Destination(
    name="H1 Test",
    slug="h1_test",
    kind=DestinationKind.EVENT,
    settings=NoSettings,
    actions=[SendOne()],
    retry=RetryPolicy(max_attempts=2, jitter=0.0),
)


def _event(i: int) -> dict[str, Any]:
    return {"type": "track", "event": "Clicked", "userId": f"u-{i}", "messageId": f"m-{i}"}


# -- a scripted loopback server ---------------------------------------------------------------


def read_request(conn: socket.socket, buffer: bytearray) -> tuple[bytes, bytes] | None:
    """One request (head, body) from ``conn``, or None at EOF; leftovers stay in ``buffer``."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(buffer) < end + 4 + length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return head, body


class Scripted:
    """A threaded loopback server; ``handle(conn, number)`` serves each connection (numbered
    from 1); it counts connections and the requests its handlers read."""

    def __init__(self, handle: Callable[[Scripted, socket.socket, int], None]) -> None:
        self.handle = handle
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def read(self, conn: socket.socket, buffer: bytearray) -> tuple[bytes, bytes] | None:
        request = read_request(conn, buffer)
        if request is not None:
            self.requests.append(request)
        return request

    def serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            number = self.connections

            def run(conn: socket.socket = conn, number: int = number) -> None:
                with conn, contextlib.suppress(OSError):
                    self.handle(self, conn, number)

            threading.Thread(target=run, daemon=True).start()


@contextlib.contextmanager
def scripted(handle: Callable[[Scripted, socket.socket, int], None]) -> Iterator[Scripted]:
    server = Scripted(handle)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        thread.join(2)
        server.listener.close()


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def keep_answering(response: bytes) -> Callable[[Scripted, socket.socket, int], None]:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        buffer = bytearray()
        while server.read(conn, buffer) is not None:
            conn.sendall(response)

    return handle


def direct_http(url: str, **kw: Any) -> tuple[DirectClient, DestinationHTTP]:
    client = make_client(None, 4, "direct")
    assert isinstance(client, DirectClient) and isinstance(client.direct, H1Carrier)
    http = DestinationHTTP(client, base_url=url, redactor=Redactor(), record_bodies=False, **kw)
    return client, http


def connects(client: DirectClient) -> int:
    carrier = client.direct
    assert isinstance(carrier, H1Carrier) and carrier._session is not None
    return carrier._session.connects


# -- keep-alive --------------------------------------------------------------------------------


async def test_keep_alive_reuses_one_connection() -> None:
    with Sandbox() as server:
        client, http = direct_http(server.url)
        async with client:
            for i in range(20):
                response = await http.post("/v1/x", json={"i": i})
                assert response.status_code == 200
                assert response.data["received"]["json"] == {"i": i}
            assert connects(client) == 1
        assert len(server.requests) == 20


async def test_an_idle_connection_the_server_closed_is_retried_once_on_a_new_one() -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        # Each connection answers its first request, then reads the next one and closes
        # without a byte of answer: what a server closing an idle keep-alive connection as
        # the request arrives looks like to the client.
        buffer = bytearray()
        if server.read(conn, buffer) is None:
            return
        conn.sendall(answer(b'{"ok":1}', "Content-Type: application/json"))
        server.read(conn, buffer)

    with scripted(handle) as server:
        client, http = direct_http(server.url)
        async with client:
            for i in range(3):
                response = await http.post("/x", content=f"{i}".encode())
                assert response.data == {"ok": 1}
            assert connects(client) == 3
    # requests 2 and 3 each went out twice: once on the stale connection, once on a new one
    assert [body for _, body in server.requests] == [b"0", b"1", b"1", b"2", b"2"]


async def test_a_new_connection_closed_before_an_answer_is_not_retried() -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        server.read(conn, bytearray())  # and close, answering nothing

    with scripted(handle) as server:
        exchanges: list[Any] = []
        client, http = direct_http(server.url, on_exchange=exchanges.append)
        async with client:
            with pytest.raises(Exception) as caught:
                await http.post("/x", content=b"x")
        assert len(server.requests) == 1
    assert str(caught.value) == (
        "network error: RemoteProtocolError: Server disconnected without sending a response."
    )
    assert caught.value.retryable  # type: ignore[attr-defined]
    assert exchanges[0].error.message == str(caught.value)


async def test_connection_close_is_honoured() -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        if server.read(conn, bytearray()) is not None:
            conn.sendall(answer(b"{}", "Connection: close"))

    with scripted(handle) as server:
        client, http = direct_http(server.url)
        async with client:
            for _ in range(3):
                assert (await http.post("/x", content=b"x")).status_code == 200
            assert connects(client) == 3


# -- framing and decoding --------------------------------------------------------------------


async def test_a_chunked_answer() -> None:
    chunks = b'5\r\n{"a":\r\n4\r\n[1,2\r\n2\r\n]}\r\n0\r\n\r\n'
    response_bytes = answer(chunks, "Transfer-Encoding: chunked", "Content-Type: application/json")
    with scripted(keep_answering(response_bytes)) as server:
        client, http = direct_http(server.url)
        async with client:
            for _ in range(2):
                response = await http.post("/x", content=b"x")
                assert response.data == {"a": [1, 2]} and response.kind == "json"
            assert connects(client) == 1


async def test_a_body_read_until_the_server_closes() -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        if server.read(conn, bytearray()) is not None:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")

    with scripted(handle) as server:
        client, http = direct_http(server.url)
        async with client:
            response = await http.post("/x", content=b"x")
            assert response.text == "until the end"
            assert (await http.post("/x", content=b"x")).text == "until the end"
            assert connects(client) == 2


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_compressed_answer_is_decoded(coding: str) -> None:
    import zlib

    plain = b'{"hello":"' + b"w" * 5000 + b'"}'
    packed = gzip.compress(plain) if coding == "gzip" else zlib.compress(plain)
    response_bytes = answer(packed, f"Content-Encoding: {coding}", "Content-Type: application/json")
    with scripted(keep_answering(response_bytes)) as server:
        client, http = direct_http(server.url)
        async with client:
            response = await http.post("/x", content=b"x")
    assert response.content == plain and response.data == {"hello": "w" * 5000}


async def test_a_gzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # about 50 KB inflating to 50 MB
    response_bytes = answer(bomb, "Content-Encoding: gzip")
    with scripted(keep_answering(response_bytes)) as server:
        client, http = direct_http(server.url, max_response_bytes=100_000)
        async with client:
            with pytest.raises(Exception) as caught:
                await http.post("/x", content=b"x")
    assert "response body larger than max_response_bytes=100,000 bytes" in str(caught.value)


@pytest.mark.parametrize("http", ["httpx", "direct"])
async def test_an_oversize_answer_fails_alike_on_both_carriers(http: str) -> None:
    response_bytes = answer(b"x" * 300_000, "Content-Type: text/plain")
    with scripted(keep_answering(response_bytes)) as server:
        exchanges: list[Any] = []
        async with make_client(None, 1, http) as client:  # type: ignore[arg-type]
            face = DestinationHTTP(
                client,
                base_url=server.url,
                redactor=Redactor(),
                record_bodies=False,
                on_exchange=exchanges.append,
                max_response_bytes=100_000,
            )
            with pytest.raises(Exception) as caught:
                await face.post("/x", content=b"x")
    assert str(caught.value) == (
        "HTTP 200 OK: response body larger than max_response_bytes=100,000 bytes; reading "
        "stopped there, so what the destination did is unknown"
    )
    recorded = exchanges[0].response
    assert recorded.status == 200 and "more than 100,000 bytes" in recorded.body


@pytest.mark.parametrize(
    "headers",
    [
        [f"X-Filler-{i}: {'v' * 60}" for i in range(2000)],  # many lines, about 140 KB
        [f"Set-Cookie: c={'v' * 200_000}"],  # one line of 200 KB
    ],
    ids=["many", "one-huge"],
)
async def test_an_answer_whose_head_is_past_the_bound_is_refused(headers: list[str]) -> None:
    from sdk.transport._h1 import MAX_HEAD_BYTES

    response_bytes = answer(b"{}", *headers)
    assert len(response_bytes) > MAX_HEAD_BYTES
    with scripted(keep_answering(response_bytes)) as server:
        client, http = direct_http(server.url)
        async with client:
            with pytest.raises(RetryableError) as caught:
                await http.post("/x", content=b"x")
    assert str(caught.value) == (
        f"network error: RemoteProtocolError: answer's status and headers over "
        f"{MAX_HEAD_BYTES} bytes"
    )


async def test_head_and_204_have_no_body_and_keep_the_connection() -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        buffer = bytearray()
        while (request := server.read(conn, buffer)) is not None:
            if request[0].startswith(b"HEAD"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
            elif b"/empty" in request[0]:
                conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:
                conn.sendall(answer(b'{"n":1}', "Content-Type: application/json"))

    with scripted(handle) as server:
        client, http = direct_http(server.url)
        async with client:
            head = await http.request("HEAD", "/x", content=b"x")
            assert head.status_code == 200 and head.content == b""
            empty = await http.post("/empty", content=b"x")
            assert empty.status_code == 204 and empty.content == b"" and empty.kind == "empty"
            assert (await http.post("/x", content=b"x")).data == {"n": 1}
            assert connects(client) == 1


# -- time and errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_headers", "message"),
    [
        (False, "timed out: no answer within the total timeout of 0.3s"),
        (
            True,
            "timed out: no complete answer within the total timeout of 0.3s "
            "(the server was still sending)",
        ),
    ],
)
async def test_the_total_timeout(send_headers: bool, message: str) -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        if server.read(conn, bytearray()) is not None:
            if send_headers:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
            server.stopping.wait(5)

    with scripted(handle) as server:
        exchanges: list[Any] = []
        client, http = direct_http(server.url, timeout=0.3, on_exchange=exchanges.append)
        async with client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(Exception) as caught:
                await http.post("/x", content=b"x")
            assert loop.time() - started < 3
    assert str(caught.value) == message
    timings = exchanges[0].timings
    assert (timings.first_byte_ms is not None) is send_headers


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_connection_reads_as_on_the_other_carriers() -> None:
    from tester_tui.lifecycle_render import error_line

    port = _closed_port()
    settings = {"endpoint": f"http://127.0.0.1:{port}"}
    with Delivery(destination, settings, http="direct", sleep=lambda _: None) as delivery:
        lifecycle = delivery.send(_event(0))
    assert lifecycle.outcome == "failed: retryable exhausted"
    assert lifecycle.error is not None
    assert lifecycle.error.message.startswith("network error: ConnectError: ")
    assert f"connection refused by 127.0.0.1:{port}" in error_line(lifecycle)


async def test_https_builds_one_tls_context_and_http_none() -> None:
    port = _closed_port()
    client, http = direct_http(f"http://127.0.0.1:{port}")
    async with client:
        for url in (f"http://127.0.0.1:{port}/a", f"https://127.0.0.1:{port}/b"):
            with pytest.raises(Exception, match="network error: ConnectError"):
                await http.post(url, content=b"x")
            pool = client.direct._session  # type: ignore[attr-defined]
            context = pool._ssl
            assert (context is not None) is url.startswith("https")
        assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
        assert pool.ssl_context is context  # created once


# -- TLS against a self-signed server, trusted through SSL_CERT_FILE --------------------------


def _self_signed(folder: Any) -> tuple[str, str]:
    x509 = pytest.importorskip("cryptography.x509")
    import datetime
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


async def test_tls_to_a_trusted_self_signed_server(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            seen.append(await reader.readexactly(length))
            writer.write(answer(b'{"tls":true}', "Content-Type: application/json"))
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client, http = direct_http(f"https://127.0.0.1:{port}")
        async with client:
            for i in range(3):
                assert (await http.post("/x", content=f"{i}".encode())).data == {"tls": True}
            assert connects(client) == 1
        # a server whose certificate is not trusted is refused
        monkeypatch.delenv("SSL_CERT_FILE")
        client, http = direct_http(f"https://127.0.0.1:{port}")
        async with client:
            with pytest.raises(Exception, match="network error: ConnectError: TLS"):
                await http.post("/x", content=b"x")
    assert seen == [b"0", b"1", b"2"]


# -- the whole path ----------------------------------------------------------------------------


async def test_stream_at_concurrency_8_over_2000_events_loses_none() -> None:
    from connectors.webhook import destination as webhook

    count = 2000
    with Sandbox(max_requests=count + 10) as server:
        settings = {"url": f"{server.url}/hook"}
        async with AsyncDelivery(webhook, settings, concurrency=8, batching=False) as delivery:
            client = delivery._client
            assert isinstance(client, DirectClient) and isinstance(client.direct, H1Carrier)
            results = [r async for r in delivery.stream(_event(i) for i in range(count))]
            assert connects(client) <= 8
        assert len(server.requests) == count
        assert sorted(r.json["messageId"] for r in server.requests) == sorted(
            f"m-{i}" for i in range(count)
        )
    assert sorted(r.index for r in results) == list(range(count))
    assert all(r.delivered and r.attempts == 1 for r in results)


async def test_a_failure_s_record_masks_the_url_and_headers_as_httpx_s_does() -> None:
    from connectors.webhook import destination as webhook
    from sdk.testing import Faults

    records = []
    with Sandbox(faults=Faults(sequence=[400, 400])) as server:
        settings = {
            "url": f"{server.url}/hook/tok3nSECRET99?code=abc123secret",
            "headers": {"X-Functions-Key": "key-value-42", "X-Team": "blue"},
            "public_headers": ["X-Team"],
        }
        for http in ("httpx", "direct"):
            async with AsyncDelivery(webhook, settings, http=http) as delivery:  # type: ignore[arg-type]
                (result,) = [r async for r in delivery.stream([_event(0)])]
            assert result.lifecycle is not None and not result.delivered
            request = result.lifecycle.to_dict()["attempts"][0]["exchanges"][0]["request"]
            records.append(request)
    for request in records:
        text = str(request)
        assert "tok3nSECRET99" not in text and "abc123secret" not in text
        assert "key-value-42" not in text and request["headers"]["x-team"] == "blue"
    assert records[0]["url"] == records[1]["url"]
    assert records[0]["headers"] == records[1]["headers"]


async def test_every_request_waits_for_the_rate_limit() -> None:
    class Counting:
        def __init__(self) -> None:
            self.calls = 0

        async def acquire(self, tokens: int = 1) -> float:
            self.calls += 1
            return 0.25

    limiter = Counting()
    waits: list[float] = []
    with Sandbox() as server:
        client, http = direct_http(
            server.url, rate_limiter=limiter, on_rate_limit_wait=waits.append
        )
        async with client:
            for _ in range(3):
                await http.post("/x", content=b"x")
    assert limiter.calls == 3 and waits == [0.25, 0.25, 0.25]


@pytest.mark.parametrize(
    ("url", "origin", "path", "host"),
    [
        ("http://[::1]:8080/a?b=1#f", ("http", "::1", 8080), "/a?b=1", "[::1]:8080"),
        ("https://bücher.example/x", ("https", "xn--bcher-kva.example", 443), "/x", None),
        ("http://example.com", ("http", "example.com", 80), "/", "example.com"),
    ],
)
def test_a_target_is_parsed_as_httpx_sends_it(
    url: str, origin: tuple[str, str, int], path: str, host: str | None
) -> None:
    import httpx

    from sdk.transport._request import Target

    target = Target(httpx.URL(url))
    request = httpx.Request("POST", url)
    assert target.origin == origin and target.path == path
    assert target.host == (host or request.headers["host"])


async def test_an_answer_nobody_asked_for_is_not_read_and_the_connection_not_reused() -> None:
    def handle(server: Scripted, conn: socket.socket, number: int) -> None:
        buffer = bytearray()
        while server.read(conn, buffer) is not None:
            # the answer, and in the same bytes a second one nobody asked for
            conn.sendall(
                answer(b'{"n":1}', "Content-Type: application/json", "X-A: 1")
                + answer(b'{"n":2}', "X-B: 2")
            )

    with scripted(handle) as server:
        client, http = direct_http(server.url)
        async with client:
            for _ in range(2):
                response = await http.post("/x", content=b"x")
                assert response.data == {"n": 1}
                assert "x-b" not in response.headers and response.headers["x-a"] == "1"
            assert connects(client) == 2
