"""Bulk list sync (``ListSyncRun``, behind ``destkit sync``): the wire payloads equal what the
per-event path sends for the same users, for every list connector; invalid users fail one by
one with the per-event error; the template's verdict (a journey exit) applies to every user;
left-out identifiers are counted; retries and failure records work; memory is bounded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

import sdk
from sdk.connector import get_destination
from sdk.delivery import AsyncDelivery, DeliveryResult
from sdk.delivery._bulk import ListSyncRun, UserRow

Handler = Callable[[httpx.Request], httpx.Response]

FACEBOOK = {"access_token": "fb-secret-token", "audience_id": "1234"}
GOOGLE = {
    "developer_token": "dev-token-0042",
    "client_id": "1234-test.apps.googleusercontent.com",
    "client_secret": "GOCSPX-secret",
    "refresh_token": "1//0refresh",
    "customer_id": "123-456-7890",
    "user_list_id": "4242",
}
KLAVIYO = {"api_key": "pk_test_0123456789abcdef0123456789abcdef01", "list_id": "Y6nRLr"}

#: Varied users: valid, invalid emails, national phones with and without a country, names,
#: addresses, birthdays, hashed values, missing identifiers, non-text ids.
USERS: list[dict[str, Any]] = [
    {"user_id": "u1", "email": "  Ada@Example.COM "},
    {"user_id": "u2", "email": "not-an-email", "phone": "+1 (415) 555-0100"},
    {"user_id": "u3", "phone": "020 7946 0958", "address": {"country": "GB"}},
    {"user_id": "u4", "phone": "(415) 555-0101"},
    {"userId": "u5", "email": "bo@example.com", "first_name": " Bo ", "last_name": "O'Neil"},
    {
        "user_id": "u6",
        "first_name": "Cy",
        "last_name": "Li",
        "address": {"country": "us", "postal_code": "94045-1234", "city": "San Mateo"},
        "birthday": "1990-02-03",
        "gender": "Female",
    },
    {"anonymous_id": "anon-7"},
    {"anonymous_id": "anon-8", "email": "bad@", "phone": "12"},
    {"user_id": "u9", "email": "A" * 64},
    {"user_id": "u10", "email": "dee@example.com", "birthday": "not a date"},
    {"user_id": 11, "email": "num@example.com"},
    {"user_id": "u12", "email": "eve@example.com", "firstName": "Eve", "phone": 4155550102},
    {"anonymous_id": "anon-13", "email": "zed@example.com", "address": {"postalCode": "10001"}},
]


def _rows(users: Iterable[dict[str, Any]]) -> list[UserRow]:
    """What ``destkit sync`` reads from each line (as :func:`user_rows` does)."""
    from io import BytesIO

    from sdk.cli._sync import user_rows

    text = "".join(json.dumps(user) + "\n" for user in users).encode()
    return list(user_rows(BytesIO(text), max_line=64 * 1024))


def _template(
    slug: str, *, exit_: bool = False, journey: bool = False
) -> tuple[dict[str, Any], str]:
    name = get_destination(slug).name
    space = sdk.Space("spa_bulk")
    if journey:
        step = space.step("First Purchase", "Opened Email", destinations=[name])
        wire = step.event("identify", user_id="placeholder").to_wire()
        wire["traits"][step.key] = not exit_  # a journey exit (never sent: add-only)
        return wire, step.key
    audience = space.audience("Big Spenders", destinations=[name])
    return audience.event("identify", user_id="placeholder", entered=not exit_).to_wire(), (
        audience.key
    )


def _events(template: dict[str, Any], key: str, users: Iterable[dict[str, Any]]) -> list[Any]:
    """The per-event path's input: each user as the identify event ``destkit sync`` built."""
    base = {name: value for name, value in template.items() if name != "messageId"}
    membership = template["traits"][key]
    events = []
    for user_id, anonymous_id, traits, _ in _rows(users):
        event = dict(base)
        if user_id is not None:
            event["userId"] = user_id
        else:
            event.pop("userId", None)
        if anonymous_id is not None:
            event["anonymousId"] = anonymous_id
        traits[key] = membership
        event["traits"] = traits
        events.append(event)
    return events


def _answer(request: httpx.Request) -> httpx.Response:
    url = str(request.url)
    if url.endswith("/token"):
        return httpx.Response(200, json={"access_token": "ya29.test", "expires_in": 3599})
    if url.endswith(":create"):
        return httpx.Response(200, json={"resourceName": "customers/1/offlineUserDataJobs/7"})
    if url.endswith(":run"):
        return httpx.Response(200, json={"name": "customers/1/operations/1"})
    if "klaviyo" in url:
        return httpx.Response(202, json={"data": {"id": "job-1"}})
    return httpx.Response(200, json={})


class _Capture:
    """A mock transport keeping every request body (JSON), answering like the vendor."""

    def __init__(self, handler: Handler = _answer) -> None:
        self.bodies: list[tuple[str, str, Any]] = []
        self._handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        content = request.content
        body = json.loads(content) if content.startswith(b"{") else content.decode()
        self.bodies.append((request.method, request.url.path, body))
        return self._handler(request)

    def comparable(self) -> list[tuple[str, str, Any]]:
        """The bodies without what differs between two runs by design: Meta's session id
        (from the message ids) and Google's job ids."""
        out = []
        for method, path, body in self.bodies:
            if isinstance(body, dict) and isinstance(body.get("session"), dict):
                body = {**body, "session": {**body["session"], "session_id": "S"}}
            out.append((method, path, body))
        return out


async def _bulk(
    slug: str,
    settings: dict[str, Any],
    template: dict[str, Any],
    key: str,
    rows: Iterable[UserRow],
    capture: _Capture,
    **options: Any,
) -> tuple[list[DeliveryResult], ListSyncRun]:
    transport = httpx.MockTransport(capture)

    async def no_wait(_: float) -> None:
        return None

    destination = get_destination(slug)
    results: list[DeliveryResult] = []
    async with AsyncDelivery(destination, settings, transport=transport, sleep=no_wait) as d:
        run = ListSyncRun(d, template, key, rows, **options)
        try:
            while batch := await run.next_results():
                results.extend(batch)
        finally:
            await run.aclose()
    return sorted(results, key=lambda r: r.index), run


async def _per_event(
    slug: str, settings: dict[str, Any], events: list[Any], capture: _Capture
) -> list[sdk.Lifecycle]:
    destination = get_destination(slug)
    transport = httpx.MockTransport(capture)
    async with AsyncDelivery(destination, settings, transport=transport) as delivery:
        return await delivery.send_many(events)


@pytest.mark.parametrize(
    ("slug", "settings"),
    [
        ("facebook_custom_audiences", FACEBOOK),
        ("facebook_custom_audiences", {**FACEBOOK, "phone_country_code": "44"}),
        ("google_ads_customer_match", GOOGLE),
        ("google_ads_customer_match", {**GOOGLE, "phone_country_code": "1"}),
        ("klaviyo", KLAVIYO),
    ],
)
def test_the_bulk_wire_payload_is_the_per_event_one(slug: str, settings: dict[str, Any]) -> None:
    template, key = _template(slug)
    bulk, per_event = _Capture(), _Capture()
    results, run = asyncio.run(_bulk(slug, settings, template, key, _rows(USERS), bulk))
    lifecycles = asyncio.run(_per_event(slug, settings, _events(template, key, USERS), per_event))
    assert bulk.comparable() == per_event.comparable()
    assert any(body for _, _, body in bulk.bodies)  # something was sent
    # The same users delivered and the same users refused, with the same errors.
    assert [r.outcome for r in results] == [lc.outcome for lc in lifecycles]
    assert [r.error.message if r.error else None for r in results] == [
        lc.error.message if lc.error else None for lc in lifecycles
    ]
    # Every left-out identifier the per-event records note is counted in bulk.
    noted: dict[str, int] = {}
    for lifecycle in lifecycles:
        for note in lifecycle.notes:
            if "left out of the list upload" in note:
                noted[note] = noted.get(note, 0) + 1
    assert dict(run.notes) == noted
    # The non-text user id went the per-event way; everyone else the fast one.
    assert run.prepared_in_full == 1


def test_an_invalid_user_fails_alone_with_the_per_event_error() -> None:
    slug = "facebook_custom_audiences"
    template, key = _template(slug)
    users = [
        {"user_id": "ok-1", "email": "a@example.com"},
        {"user_id": ["not", "text"], "email": "b@example.com"},
        {"user_id": "no-ids"},  # EXTERN_ID only: still a row
        {"anonymous_id": "anon", "email": "nope"},
        {"user_id": "ok-2", "email": "c@example.com", "score": float("nan")},
    ]
    lines = [json.dumps(u) for u in users[:-1]] + ['{"user_id": "ok-2", "score": NaN}']
    from io import BytesIO

    from sdk.cli._sync import user_rows

    rows = list(user_rows(BytesIO("\n".join(lines).encode()), max_line=4096))
    results, run = asyncio.run(_bulk(slug, FACEBOOK, template, key, rows, _Capture()))
    outcomes = [r.outcome.value for r in results]
    assert outcomes == ["delivered", "failed: permanent", "delivered", "failed: permanent",
                        "failed: permanent"]  # fmt: skip
    assert results[1].error is not None and results[1].error.message.startswith("userId")
    assert results[3].error is not None and "email" in results[3].error.message
    assert results[4].error is not None and "traits.score" in results[4].error.message
    assert run.notes == {}
    assert run.prepared_in_full == 2  # the list id and the NaN line


def test_a_journey_exit_is_refused_for_every_user_and_nothing_is_sent() -> None:
    slug = "facebook_custom_audiences"
    template, key = _template(slug, exit_=True, journey=True)
    capture = _Capture()
    rows = _rows([{"user_id": f"u{i}", "email": f"u{i}@example.com"} for i in range(5)])
    results, _ = asyncio.run(_bulk(slug, FACEBOOK, template, key, rows, capture))
    assert capture.bodies == []
    assert {r.outcome.value for r in results} == {"failed: permanent"}
    assert all(r.error and "journeys are add-only" in r.error.message for r in results)


def test_a_filtered_template_filters_every_user() -> None:
    slug = "facebook_custom_audiences"
    template, key = _template(slug)
    template["integrations"] = {"All": False}
    capture = _Capture()
    results, _ = asyncio.run(_bulk(slug, FACEBOOK, template, key, _rows(USERS[:3]), capture))
    assert capture.bodies == []
    assert [r.outcome.value for r in results] == ["filtered"] * 3


def test_a_chunk_is_retried_and_a_failure_is_recorded_with_its_notes() -> None:
    slug = "facebook_custom_audiences"
    template, key = _template(slug)
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503, json={"error": {"message": "busy", "code": 2}})
        return httpx.Response(200, json={})

    users = [{"user_id": "u1", "email": "a@example.com", "phone": "12"}]
    results, run = asyncio.run(_bulk(slug, FACEBOOK, template, key, _rows(users), _Capture(flaky)))
    assert results[0].delivered and results[0].attempts == 2
    assert run.notes == {"traits.phone: left out of the list upload: " + _phone_rule(): 1}

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "bad", "code": 100}})

    results, _ = asyncio.run(
        _bulk(slug, FACEBOOK, template, key, _rows(users), _Capture(refused), record="failures")
    )
    record = results[0].lifecycle
    assert record is not None and record.outcome.value == "failed: permanent"
    assert any("traits.phone: left out" in note for note in record.notes)
    assert record.payload is not None and record.payload["operation"] == "add"
    assert "fb-secret-token" not in json.dumps(record.to_dict())


def _phone_rule() -> str:
    from sdk.connector import IdentifierKind, normalize

    try:
        normalize(IdentifierKind.PHONE, "12", digits_only=True)
    except sdk.InvalidIdentifier as exc:
        return exc.rule
    raise AssertionError("12 is not a phone number")


def test_every_nth_user_gets_the_full_per_event_record() -> None:
    slug = "facebook_custom_audiences"
    template, key = _template(slug)
    rows = _rows([{"user_id": f"u{i}", "email": f"u{i}@example.com"} for i in range(10)])
    results, _run = asyncio.run(_bulk(slug, FACEBOOK, template, key, rows, _Capture(), record=5))
    recorded = [r.index for r in results if r.lifecycle is not None]
    assert recorded == [0, 5]
    assert all(r.delivered for r in results)
    lifecycle = results[5].lifecycle
    assert lifecycle is not None and lifecycle.payload is not None
    assert lifecycle.event["userId"] == "u5"


def test_memory_is_bounded_and_no_user_is_lost() -> None:
    slug = "facebook_custom_audiences"
    template, key = _template(slug)
    count = 45_000

    def rows() -> Iterable[UserRow]:
        for i in range(count):
            yield (f"u{i}", None, {"email": f"u{i}@example.com"}, 40)

    results, run = asyncio.run(
        _bulk(slug, FACEBOOK, template, key, rows(), _Capture(), in_flight=1, record="none")
    )
    assert [r.index for r in results] == list(range(count))
    assert all(r.delivered for r in results)
    assert run.peak_held <= 10_000 * 3


def test_destkit_sync_sends_meta_chunks_and_counts_the_notes(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``destkit sync`` end to end over real loopback HTTP: every user in the rows Meta gets,
    and the identifiers left out counted in the summary."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from sdk.cli import main

    bodies: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    users = tmp_path / "users.jsonl"
    lines = [{"user_id": f"u{i}", "email": f"u{i}@example.com"} for i in range(120)]
    lines[7]["email"] = "broken"
    users.write_text("".join(json.dumps(line) + "\n" for line in lines))
    try:
        code = main(
            [
                "sync", "--destination", "facebook_custom_audiences", "--audience", "Bench",
                "--users", str(users), "--json", "--http", "httpx",
                "--setting", "access_token=fb-secret-token", "--setting", "audience_id=1234",
                "--setting", f"endpoint=http://127.0.0.1:{server.server_address[1]}",
            ]
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["users"] == 120 and summary["counts"]["delivered"] == 120
    (note,) = summary["notes"]
    assert (
        note.startswith("traits.email: left out of the list upload") and summary["notes"][note] == 1
    )
    (body,) = bodies
    assert body["payload"]["schema"] == ["EMAIL", "EXTERN_ID"]
    rows = body["payload"]["data"]
    assert len(rows) == 120 and rows[7] == ["", "u7"]
    assert sorted(row[1] for row in rows) == sorted(f"u{i}" for i in range(120))
