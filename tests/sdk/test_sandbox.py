"""The sandbox destination server, over real loopback HTTP."""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.utils
import errno
import gzip
import io
import json
import re
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sdk.testing._sandbox import (
    Faults,
    RecordedRequest,
    Sandbox,
    add_fault_arguments,
    faults_from_args,
    serve,
)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as server:
        yield server


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.url, timeout=5.0) as http:
        yield http


# -- normal answers and recording ------------------------------------------------------------


def test_echoes_any_method_and_path(sb: Sandbox, client: httpx.Client) -> None:
    response = client.post("/users/track?debug=1", json={"type": "track", "event": "E"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    body = response.json()
    assert body["ok"] is True
    uuid.UUID(body["request_id"])
    assert body["received"] == {
        "method": "POST",
        "path": "/users/track",
        "query": {"debug": ["1"]},
        "json": {"type": "track", "event": "E"},
        "body_bytes": len(b'{"type":"track","event":"E"}'),
    }
    for method, path in [
        ("PATCH", "/v19.0/act_1/users"),
        ("DELETE", "/2/httpapi"),
        ("PURGE", "/v1/batch"),
        ("GET", "/"),
    ]:
        answer = client.request(method, path)
        assert answer.status_code == 200, (method, path)
        assert answer.json()["received"]["method"] == method
        assert answer.json()["received"]["path"] == path
        assert answer.json()["received"]["json"] is None
    head = client.head("/anything")
    assert head.status_code == 200
    assert head.content == b""
    assert len(sb.requests) == 6


def test_records_requests_with_gzip_query_and_headers(sb: Sandbox, client: httpx.Client) -> None:
    raw = json.dumps({"batch": [{"event": "é"}]}).encode()
    compressed = gzip.compress(raw)
    client.post(
        "/v1/batch",
        params=[("a", "1"), ("a", "2"), ("empty", "")],
        content=compressed,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json", "X-Mixed": "v"},
    )
    before = time.time()
    client.put("/plain", content=b"not json")
    (first, second) = sb.wait_for(2, timeout=2)
    assert isinstance(first, RecordedRequest)
    assert first.method == "POST"
    assert first.path == "/v1/batch"
    assert first.query == {"a": ["1", "2"], "empty": [""]}
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["x-mixed"] == "v"
    assert all(name == name.lower() for name in first.headers)
    assert first.body == compressed
    assert first.content == raw
    assert first.json == {"batch": [{"event": "é"}]}
    assert first.status == 200 and first.fault is None
    assert second.json is None and second.body == b"not json"
    assert second.received_at >= before - 1
    with pytest.raises(dataclass_frozen_error()):
        first.path = "/other"  # type: ignore[misc]

    snapshot = sb.requests
    snapshot.clear()
    assert len(sb.requests) == 2  # a snapshot, not the live list
    assert sb.clear() == 2
    assert sb.requests == []
    with pytest.raises(TimeoutError, match="0 of 1"):
        sb.wait_for(1, timeout=0.05)


def test_records_chunked_bodies(sb: Sandbox, client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"chunked": '
        yield b"true}"

    response = client.post("/v1/event", content=chunks())
    assert response.json()["received"]["json"] == {"chunked": True}
    assert sb.requests[0].body == b'{"chunked": true}'


def dataclass_frozen_error() -> type[Exception]:
    import dataclasses

    return dataclasses.FrozenInstanceError


# -- fault injection ---------------------------------------------------------------------------


def test_status_answers_every_request(sb: Sandbox, client: httpx.Client) -> None:
    sb.set_faults(Faults(status=429))
    for _ in range(3):
        response = client.post("/v1/event", json={})
        assert response.status_code == 429
        assert response.json()["ok"] is False
        assert response.json()["error"] == "injected 429 (status)"
        assert "retry-after" not in response.headers
    assert [r.status for r in sb.requests] == [429, 429, 429]


def test_sequence_then_normal(sb: Sandbox, client: httpx.Client) -> None:
    sb.set_faults(Faults(sequence=[503, 503, 200]))
    answers = [client.post("/v1/event", json={"n": n}) for n in range(5)]
    assert [a.status_code for a in answers] == [503, 503, 200, 200, 200]
    assert answers[0].json()["error"] == "injected 503 (sequence 1/3)"
    assert answers[1].json()["error"] == "injected 503 (sequence 2/3)"
    assert answers[2].json()["ok"] is True
    assert answers[4].json()["received"]["json"] == {"n": 4}
    assert [r.fault for r in sb.requests][3:] == [None, None]

    sb.set_faults(Faults(sequence=[500]))  # resets the position
    assert client.get("/x").status_code == 500
    assert client.get("/x").status_code == 200


def test_sequence_comes_before_status() -> None:
    with Sandbox(faults=Faults(sequence=[502], status=404)) as sb:
        statuses = [httpx.get(f"{sb.url}/x").status_code for _ in range(3)]
    assert statuses == [502, 404, 404]


@pytest.mark.parametrize(
    "retry_after", ["7", email.utils.formatdate(time.time() + 30, usegmt=True)]
)
def test_retry_after_passed_through(sb: Sandbox, client: httpx.Client, retry_after: str) -> None:
    sb.set_faults(Faults(sequence=[429, 200], retry_after=retry_after))
    limited = client.post("/v1/event")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == retry_after
    ok = client.post("/v1/event")
    assert ok.status_code == 200
    assert "retry-after" not in ok.headers  # only on non-2xx answers


def test_latency_is_a_lower_bound(sb: Sandbox, client: httpx.Client) -> None:
    sb.set_faults(Faults(latency=0.2))
    started = time.monotonic()
    response = client.get("/slow")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_failure_rate_with_seed_is_reproducible(sb: Sandbox, client: httpx.Client) -> None:
    def run() -> list[int]:
        sb.set_faults(Faults(failure_rate=0.5, failure_status=502, seed=1234))
        return [client.get("/v1/event").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 502}
    failed = next(r for r in sb.requests if r.status == 502)
    assert failed.fault == "injected 502 (failure_rate 0.5)"

    sb.set_faults(Faults(failure_rate=1.0))
    assert client.get("/x").status_code == 503  # failure_status defaults to 503
    sb.set_faults(Faults(failure_rate=0.0))
    assert client.get("/x").status_code == 200


@pytest.mark.parametrize("status", [200, 500])
def test_body_modes(sb: Sandbox, client: httpx.Client, status: int) -> None:
    sb.set_faults(Faults(status=status, body="text"))
    text = client.get("/x")
    assert text.status_code == status
    assert text.headers["content-type"].startswith("text/plain")
    assert ("injected 500 (status)" in text.text) if status == 500 else text.text.startswith("ok")

    sb.set_faults(Faults(status=status, body="empty"))
    empty = client.get("/x")
    assert empty.status_code == status
    assert empty.content == b""
    assert empty.headers["content-length"] == "0"

    sb.set_faults(Faults(status=status, body="broken"))
    broken = client.get("/x")
    assert broken.status_code == status
    assert broken.headers["content-type"] == "application/json"
    assert int(broken.headers["content-length"]) == len(broken.content) > 0
    with pytest.raises(ValueError):
        broken.json()

    # The connection stayed usable through every body mode (keep-alive, exact lengths).
    sb.set_faults(None)
    assert client.get("/x").json()["ok"] is True


def test_drop_connection(sb: Sandbox, client: httpx.Client) -> None:
    sb.set_faults(Faults(drop_connection=True))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/v1/event", json={"a": 1})
    (recorded,) = sb.wait_for(1, timeout=2)
    assert recorded.status is None
    assert recorded.fault == "dropped connection"
    assert recorded.json == {"a": 1}
    sb.set_faults(None)
    assert client.post("/v1/event").status_code == 200


def test_invalid_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        Sandbox(faults=Faults(status=99))
    with pytest.raises(ValueError, match="failure_rate"):
        Faults(failure_rate=1.5).validate()
    with pytest.raises(ValueError, match=r"sequence: item 2"):
        Faults(sequence=[503, 1000]).validate()
    with pytest.raises(ValueError, match="retry_after"):
        Faults(retry_after="soon").validate()
    with pytest.raises(RuntimeError):
        _ = Sandbox().url


# -- control endpoints -------------------------------------------------------------------------


def test_control_endpoints(sb: Sandbox, client: httpx.Client) -> None:
    client.post(
        "/v1/event?api_key=k-123&page=2",
        json={"a": 1},
        headers={"Authorization": "Bearer top-secret", "X-Api-Key": "k-456"},
    )
    client.post("/bin", content=b"\xff\x00\xfe")
    sb.set_faults(Faults(status=500, latency=0.0, drop_connection=False))

    listing = client.get("/_sandbox/requests")
    assert listing.status_code == 200  # control requests never get faults
    first, second = listing.json()
    assert first["method"] == "POST" and first["path"] == "/v1/event"
    assert first["json"] == {"a": 1}
    assert first["body"] == '{"a":1}' and first["body_encoding"] == "text"
    assert first["headers"]["authorization"] != "Bearer top-secret"
    assert first["headers"]["x-api-key"] != "k-456"
    assert first["query"]["page"] == ["2"]
    assert first["query"]["api_key"] != ["k-123"]
    assert "top-secret" not in listing.text and "k-456" not in listing.text
    assert second["body_encoding"] == "base64"
    assert base64.b64decode(second["body"]) == b"\xff\x00\xfe"
    assert sb.requests[0].headers["authorization"] == "Bearer top-secret"  # in-process: raw

    faults = client.get("/_sandbox/faults").json()
    assert faults["status"] == 500 and faults["body"] == "json"

    plan = {"sequence": [503, 200], "retry_after": "2", "latency": 0, "seed": 7}
    put = client.put("/_sandbox/faults", json=plan)
    assert put.status_code == 200
    assert sb.faults == Faults(sequence=[503, 200], retry_after="2", seed=7)
    assert client.get("/_sandbox/faults").json()["sequence"] == [503, 200]

    assert client.delete("/_sandbox/requests").json() == {"ok": True, "cleared": 2}
    assert client.get("/_sandbox/requests").json() == []
    assert sb.requests == []  # control requests are not recorded
    assert client.get("/v1/event").status_code == 503  # the new plan, from its start

    assert client.get("/_sandbox/nope").status_code == 404
    assert client.post("/_sandbox/requests").status_code == 405


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency": -1}, "latency"),
        ({"latency": 1e12}, "latency"),
        ({"latency": 3600.5}, "latency"),
        ({"status": 700}, "status"),
        ({"status": "503"}, "status"),
        ({"failure_rate": 2}, "failure_rate"),
        ({"body": "xml"}, "body"),
        ({"sequence": [503, "x"]}, "sequence"),
        ({"drop_connection": "yes"}, "drop_connection"),
        ({"retry_after": "later"}, "retry_after"),
        ({"paths": {}}, "paths"),
    ],
)
def test_put_faults_rejects_bad_values(
    sb: Sandbox, client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    sb.set_faults(Faults(status=418))
    response = client.put("/_sandbox/faults", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(f"{field}:")
    assert "\n" not in error
    assert sb.faults.status == 418  # unchanged


def test_put_faults_rejects_non_json(client: httpx.Client) -> None:
    response = client.put("/_sandbox/faults", content=b"{nope")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    assert client.put("/_sandbox/faults", json=[1]).status_code == 400


# -- concurrency and lifecycle -----------------------------------------------------------------


def test_concurrent_threads_all_recorded(sb: Sandbox) -> None:
    def worker(n: int) -> None:
        with httpx.Client(base_url=sb.url, timeout=5.0) as http:
            for i in range(10):
                assert http.post("/v1/event", json={"worker": n, "i": i}).status_code == 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded = sb.wait_for(80, timeout=5)
    assert len(recorded) == 80
    assert {(r.json["worker"], r.json["i"]) for r in recorded} == {
        (n, i) for n in range(8) for i in range(10)
    }


async def test_concurrent_asyncio_tasks_all_recorded(sb: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sb.url, timeout=5.0) as http:
        answers = await asyncio.gather(*(http.post("/v1/e", json={"n": n}) for n in range(50)))
    assert all(a.status_code == 200 for a in answers)
    assert sorted(r.json["n"] for r in sb.requests) == list(range(50))


def test_stop_frees_the_port_and_its_threads() -> None:
    before = set(threading.enumerate())
    sandbox = Sandbox().start()
    port = sandbox.port
    assert sandbox.url == f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=sandbox.url, timeout=5.0)
    assert http.get("/warm").status_code == 200  # leaves an idle keep-alive connection
    sandbox.set_faults(Faults(latency=30))
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            httpx.get(f"{sandbox.url}/slow", timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    caller = threading.Thread(target=slow)
    caller.start()
    sandbox.wait_for(2, timeout=2)
    sandbox.stop()
    sandbox.stop()  # idempotent
    caller.join(5)
    http.close()
    assert not caller.is_alive() and len(errors) == 1
    assert not sandbox.running
    assert set(threading.enumerate()) <= before | {threading.current_thread()}

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    with Sandbox(port=port) as again:
        assert httpx.get(f"{again.url}/x").status_code == 200


def test_latency_is_capped_at_an_hour() -> None:
    expected = "latency: must be between 0 and 3600, got 1000000000000.0"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        Faults(latency=1e12).validate()
    with pytest.raises(ValueError, match=r"^latency: "):
        Sandbox(faults=Faults(latency=float(10**9)))
    assert Faults(latency=3600).validate().latency == 3600
    with Sandbox() as server, httpx.Client(base_url=server.url, timeout=5.0) as http:
        refused = http.put("/_sandbox/faults", json={"latency": 1e12})
        assert refused.status_code == 400 and refused.json()["field"] == "latency"
        assert http.post("/v1/event").status_code == 200  # the plan was left unchanged


@pytest.mark.parametrize("port", [-1, 65536, 70000, True, "8787", 1.5])
def test_a_port_outside_0_to_65535_is_refused(port: Any) -> None:
    with pytest.raises(ValueError, match=r"^port: must be ") as caught:
        Sandbox(port=port)
    assert "\n" not in str(caught.value)
    out = io.StringIO()
    with pytest.raises(OSError, match="must be") as refused:
        serve("127.0.0.1", port, Faults(), out=out, stop=threading.Event())
    assert refused.value.errno == errno.EINVAL
    assert out.getvalue() == ""  # refused before listening: nothing printed


def test_ports_0_and_65535_are_accepted() -> None:
    assert Sandbox(port=65535).host == "127.0.0.1"
    with Sandbox(port=0) as server:
        assert 0 < server.port <= 65535


def test_start_on_a_busy_port_names_it() -> None:
    with Sandbox() as first, pytest.raises(OSError, match=f"{first.port}"):
        Sandbox(port=first.port).start()


# -- command line ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="destkit sandbox", exit_on_error=False)
    add_fault_arguments(parser)
    return parser


def test_faults_from_args_good_values() -> None:
    assert faults_from_args(_parser().parse_args([])) == Faults()
    args = _parser().parse_args(
        [
            "--status",
            "429",
            "--sequence",
            "503, 503,200",
            "--retry-after",
            "Wed, 21 Oct 2026 07:28:00 GMT",
            "--latency",
            "0.5",
            "--failure-rate",
            "0.25",
            "--failure-status",
            "500",
            "--seed",
            "42",
            "--body",
            "broken",
            "--drop-connection",
        ]
    )
    assert faults_from_args(args) == Faults(
        status=429,
        sequence=[503, 503, 200],
        retry_after="Wed, 21 Oct 2026 07:28:00 GMT",
        latency=0.5,
        failure_rate=0.25,
        failure_status=500,
        seed=42,
        body="broken",
        drop_connection=True,
    )


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--failure-rate", "1.5"], "failure-rate"),
        (["--status", "700"], "status"),
        (["--status", "abc"], "status"),
        (["--sequence", "503,,200"], "sequence"),
        (["--failure-status", "42"], "failure-status"),
        (["--latency", "-1"], "latency"),
        (["--latency", "1e12"], "latency"),
        (["--retry-after", "soon"], "retry-after"),
        (["--body", "xml"], "body"),
    ],
)
def test_bad_option_values_name_the_option(argv: list[str], option: str) -> None:
    with pytest.raises(argparse.ArgumentError, match=f"--{option}"):
        _parser().parse_args(argv)


@pytest.mark.parametrize(
    ("values", "option"),
    [
        ({"failure_rate": 1.5}, "--failure-rate"),
        ({"status": 99}, "--status"),
        ({"status": "abc"}, "--status"),
        ({"sequence": "503,x"}, "--sequence"),
        ({"latency": "-0.1"}, "--latency"),
        ({"latency": "1e12"}, "--latency"),
        ({"body": "xml"}, "--body"),
    ],
)
def test_faults_from_args_bad_values(values: dict[str, Any], option: str) -> None:
    with pytest.raises(ValueError, match=f"^{option}: ") as caught:
        faults_from_args(argparse.Namespace(**values))
    assert "\n" not in str(caught.value)


def test_serve_prints_traffic_without_secrets() -> None:
    out = io.StringIO()
    stop = threading.Event()
    runner = threading.Thread(
        target=serve,
        args=("127.0.0.1", 0, Faults(sequence=[503])),
        kwargs={"out": out, "stop": stop},
    )
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while "listening" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        first_line = out.getvalue().splitlines()[0]
        assert first_line.startswith("sandbox listening on http://127.0.0.1:")
        url = first_line.rsplit(" ", 1)[1]
        headers = {"Authorization": "Bearer top-secret", "X-Api-Key": "k-456"}
        httpx.post(f"{url}/v1/event?api_key=k-789", json={"a": 1}, headers=headers)
        httpx.get(f"{url}/v1/auth", headers=headers)
    finally:
        stop.set()
        runner.join(5)
    assert not runner.is_alive()
    lines = out.getvalue().splitlines()
    assert "POST /v1/event -> 503" in lines[1] and "(7 bytes)" in lines[1]
    assert "GET /v1/auth -> 200 (0 bytes)" in lines[2]
    assert lines[-1].startswith("sandbox stopped")
    for secret in ("top-secret", "k-456", "k-789"):
        assert secret not in out.getvalue()


def test_handshake_answers_let_multi_step_flows_run() -> None:
    """An OAuth token request gets an access token; a ``:create`` call gets a resourceName."""
    import httpx

    from sdk.testing import Sandbox

    with Sandbox() as server:
        token = httpx.post(
            f"{server.url}/token", data={"grant_type": "refresh_token", "refresh_token": "r"}
        ).json()
        job = httpx.post(f"{server.url}/v26/customers/42/offlineUserDataJobs:create", json={})
        plain = httpx.post(f"{server.url}/v1/event", json={"type": "track"}).json()
    assert token["access_token"] == "sandbox-access-token" and token["token_type"] == "Bearer"
    assert job.json()["resourceName"] == "customers/42/offlineUserDataJobs/1"
    assert "access_token" not in plain and "resourceName" not in plain


# -- bounded memory ------------------------------------------------------------------------


def test_a_body_over_the_cap_is_refused_with_413_before_it_is_read() -> None:
    with Sandbox(max_body_bytes=1000) as sandbox, httpx.Client(base_url=sandbox.url) as http:
        answer = http.post("/v1/import", content=b"x" * 1001)
        assert answer.status_code == 413
        assert "max_body_bytes is 1,000" in answer.json()["error"]
        assert http.post("/v1/import", content=b"x" * 1000).status_code == 200
        assert [len(r.body) for r in sandbox.requests] == [1000]  # the refused one is not kept


def test_a_chunked_body_over_the_cap_is_refused() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 100

    with Sandbox(max_body_bytes=1000) as sandbox, httpx.Client(base_url=sandbox.url) as http:
        try:
            status = http.post("/v1/import", content=chunks()).status_code
        except httpx.TransportError:  # closed while the client was still sending: refused too
            status = 413
        assert status == 413
        assert sandbox.requests == []


def test_a_gzip_bomb_is_refused_on_its_inflated_size() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)  # ~50 KB on the wire
    assert len(bomb) < 100_000
    with Sandbox() as sandbox, httpx.Client(base_url=sandbox.url) as http:
        answer = http.post("/v1/import", content=bomb, headers={"Content-Encoding": "gzip"})
        assert answer.status_code == 413
        assert "inflated body is larger than 8,388,608 bytes" in answer.json()["error"]
        assert sandbox.requests == []
        # Deflate is capped the same way, and a body just at the cap inflates whole.
        deflated = zlib.compress(b"{}" + b" " * (8 * 1024 * 1024 - 1))
        answer = http.post("/v1/import", content=deflated, headers={"Content-Encoding": "deflate"})
        assert answer.status_code == 413
        exact = zlib.compress(b"{}" + b" " * (8 * 1024 * 1024 - 2))
        answer = http.post("/v1/import", content=exact, headers={"Content-Encoding": "deflate"})
        assert answer.status_code == 200
        assert sandbox.requests[-1].json == {}


def test_a_multi_member_gzip_body_is_inflated_whole() -> None:
    body = gzip.compress(b'{"a": ') + gzip.compress(b"1}")
    with Sandbox() as sandbox, httpx.Client(base_url=sandbox.url) as http:
        http.post("/x", content=body, headers={"Content-Encoding": "gzip"})
        assert sandbox.requests[0].json == {"a": 1}
        assert sandbox.requests[0].content == b'{"a": 1}'


def test_only_the_newest_max_requests_are_kept() -> None:
    with Sandbox(max_requests=3) as sandbox, httpx.Client(base_url=sandbox.url) as http:
        for n in range(5):
            http.post("/x", json={"n": n})
        assert [r.json["n"] for r in sandbox.requests] == [2, 3, 4]
        with pytest.raises(ValueError, match="max_requests=3"):
            sandbox.wait_for(4)
        assert sandbox.clear() == 3


def test_kept_requests_hold_at_most_max_recorded_bytes_but_always_the_newest() -> None:
    with (
        Sandbox(max_recorded_bytes=250) as sandbox,
        httpx.Client(base_url=sandbox.url) as http,
    ):
        for n in range(4):
            http.post("/x", content=bytes([65 + n]) * 100)
        assert [r.body[:1] for r in sandbox.requests] == [b"C", b"D"]
        http.post("/x", content=b"E" * 400)  # alone over the budget: still kept, alone
        assert [r.body[:1] for r in sandbox.requests] == [b"E"]
        sandbox.clear()
        http.post("/x", content=b"F" * 250)
        http.post("/x", content=b"")
        assert [r.body[:1] for r in sandbox.requests] == [b"F", b""]  # exactly at the budget


@pytest.mark.parametrize("field", ["max_body_bytes", "max_requests", "max_recorded_bytes"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_bounds_must_be_positive_integers(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        Sandbox(**{field: value})


def test_default_bounds() -> None:
    sandbox = Sandbox()
    assert (sandbox.max_body_bytes, sandbox.max_requests, sandbox.max_recorded_bytes) == (
        8 * 1024 * 1024,
        1000,
        64 * 1024 * 1024,
    )
