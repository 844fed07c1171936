"""Response bodies are read within a byte cap per attempt, and recorded as a bounded excerpt.

Real HTTP over loopback: a small server that answers an endless chunked body, a big body, or a
gzip bomb.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import subprocess
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sdk import IntegrationError, Redactor
from sdk.delivery._client import HTTPBackend, make_client
from sdk.transport import DestinationHTTP, Exchange
from sdk.transport._body import DEFAULT_MAX_RESPONSE_BYTES, RECORDED_EXCERPT_BYTES, excerpt

_ITEM = b'"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",'
BIG_SECRET = "s3cr3t-in-the-body-0123456789"


@functools.cache
def _big_bomb() -> bytes:
    return gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=6)  # ~250 KB


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        try:
            getattr(self, "_" + self.path.strip("/"))()
        except OSError:  # the client stopped reading: that is the point
            self.close_connection = True

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" + _ITEM * 1000
        while True:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def _big(self) -> None:
        items = [f"{BIG_SECRET}-{n}" for n in range(20_000)]
        self._answer(json.dumps({"ok": True, "items": items}).encode(), 200)

    def _mid(self) -> None:
        # Under the cap but over the excerpt: parsed for the connector, cut in the record.
        items = [f"row-{n}" for n in range(30_000)]
        self._answer(json.dumps({"ok": True, "token": "tok-xyz", "items": items}).encode(), 200)

    def _bomb(self) -> None:
        body = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
        self._answer(body, 200, {"Content-Encoding": "gzip"})

    def _big_bomb(self) -> None:
        self._answer(_big_bomb(), 200, {"Content-Encoding": "gzip"})

    def _raw_deflate(self) -> None:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = packer.compress(b'{"raw": "deflate"}') + packer.flush()
        self._answer(body, 200, {"Content-Encoding": "deflate"})

    def _zlib_deflate(self) -> None:
        self._answer(zlib.compress(b'{"zlib": "deflate"}'), 200, {"Content-Encoding": "deflate"})

    def _members(self) -> None:
        body = gzip.compress(b'{"two": ') + gzip.compress(b'"members"}')
        self._answer(body, 200, {"Content-Encoding": "gzip"})

    def _answer(self, body: bytes, status: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def _post(
    url: str,
    path: str,
    *,
    cap: int = DEFAULT_MAX_RESPONSE_BYTES,
    secrets: tuple[str, ...] = (),
    backend: HTTPBackend = "httpx",
) -> tuple[Any, list[Exchange]]:
    exchanges: list[Exchange] = []
    async with make_client(None, 1, backend) as client:
        http = DestinationHTTP(
            client,
            base_url=url,
            redactor=Redactor(secrets),
            timeout=30,
            on_exchange=exchanges.append,
            max_response_bytes=cap,
        )
        try:
            response: Any = await http.post(path, json={"type": "track"})
        except IntegrationError as exc:
            response = exc
    return response, exchanges


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_an_endless_body_stops_at_the_cap_and_fails_naming_it(
    server: str, backend: HTTPBackend
) -> None:
    error, exchanges = await _post(server, "/endless", cap=100_000, backend=backend)
    assert isinstance(error, IntegrationError)
    assert not error.retryable
    assert "max_response_bytes=100,000 bytes" in error.message
    assert error.status == 200
    recorded = exchanges[0].response
    assert recorded is not None and recorded.body_kind == "text"
    assert recorded.body.endswith(
        f"…[cut: more than 100,000 bytes, {RECORDED_EXCERPT_BYTES:,} kept]"
    )
    assert exchanges[0].error is not None and "max_response_bytes" in exchanges[0].error.message


async def test_a_body_over_the_cap_is_refused_and_its_excerpt_redacted(server: str) -> None:
    error, exchanges = await _post(server, "/big", cap=200_000, secrets=(BIG_SECRET,))
    assert isinstance(error, IntegrationError)
    recorded = exchanges[0].response
    assert recorded is not None
    assert BIG_SECRET not in recorded.body
    assert "[REDACTED]" in recorded.body
    assert len(recorded.body.encode()) < RECORDED_EXCERPT_BYTES + 100


async def test_a_body_under_the_cap_is_whole_for_the_connector_but_an_excerpt_in_the_record(
    server: str,
) -> None:
    response, exchanges = await _post(server, "/mid")
    assert len(response.data["items"]) == 30_000  # the connector sees all of it
    recorded = exchanges[0].response
    assert recorded is not None and recorded.body_kind == "text"
    size = len(response.raw.content)
    assert size > RECORDED_EXCERPT_BYTES
    assert recorded.body.endswith(f"…[cut: {size:,} bytes, {RECORDED_EXCERPT_BYTES:,} kept]")
    # The excerpt is cut from the redacted document: a credential-named field stays masked.
    assert '"token": "[REDACTED]"' in recorded.body and "tok-xyz" not in recorded.body


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_a_gzip_bomb_is_capped_on_its_inflated_size(
    server: str, backend: HTTPBackend
) -> None:
    error, _ = await _post(server, "/bomb", cap=1_000_000, backend=backend)
    assert isinstance(error, IntegrationError)
    assert "max_response_bytes=1,000,000 bytes" in error.message


async def test_a_gzip_bomb_is_inflated_no_further_than_the_cap(server: str) -> None:
    # The client's own decoder inflates each received chunk whole (64 KB of this bomb is about
    # 64 MB); destkit inflates at most the room left under the cap at a time.
    _big_bomb()
    tracemalloc.start()
    try:
        error, _ = await _post(server, "/big_bomb", cap=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, IntegrationError)
    assert peak < 30_000_000, f"{peak:,} bytes at the peak"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/raw_deflate", {"raw": "deflate"}),
        ("/zlib_deflate", {"zlib": "deflate"}),
        ("/members", {"two": "members"}),
    ],
)
@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_every_deflate_and_gzip_shape_is_decoded(
    server: str, path: str, expected: dict[str, str], backend: HTTPBackend
) -> None:
    response, exchanges = await _post(server, path, backend=backend)
    assert response.data == expected
    assert exchanges[0].response is not None and exchanges[0].response.body == expected


def test_the_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_response_bytes"):
        DestinationHTTP(
            httpx.AsyncClient(), base_url="http://x", redactor=Redactor(), max_response_bytes=0
        )


def test_an_excerpt_keeps_whole_characters_and_says_what_was_cut() -> None:
    assert excerpt("éé", 4, limit=3) == "é…[cut: 4 bytes, 2 kept]"
    assert excerpt("abc", 10, limit=2, more=True) == "ab…[cut: more than 10 bytes, 2 kept]"


_MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(f"{proc.returncode}\\n{peak_kb}\\n" + proc.stdout)
"""


@pytest.mark.parametrize("as_json", [False, True])
def test_destkit_send_against_an_endless_body_stays_small_and_exits_1(
    server: str, as_json: bool
) -> None:
    destkit = [sys.executable, "-m", "sdk.cli"]
    command = [
        *destkit,
        "send",
        "--destination",
        "webhook",
        "--event-type",
        "track",
        "--setting",
        f"url={server}/endless",
        *(["--json"] if as_json else []),
    ]
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, timeout=180
    )
    code, peak_kb, output = result.stdout.split("\n", 2)
    assert code == "1", output[-2000:]
    # Generous: the process itself is ~60 MB; an unbounded read grows by hundreds of MB a second.
    assert int(peak_kb) < 200 * 1024
    assert len(output) < 1_000_000
    if as_json:
        record = json.loads(output)
        assert "max_response_bytes" in record["error"]["message"]
    else:
        errors = [line for line in output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and "max_response_bytes=4,194,304 bytes" in errors[0]
