"""Retries against a mocked HTTP API: which statuses are retried, how long the runtime waits,
when it gives up, and how every attempt is recorded in the lifecycle."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from sdk import (
    Action,
    AnyMessage,
    AsyncDelivery,
    Context,
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    Lifecycle,
    RateLimited,
    RetryableError,
    RetryPolicy,
    Subscription,
    classify_status,
    parse_retry_after,
)
from sdk.transport._retry import now_http_date

ENDPOINT = "https://mock.test"
URL = f"{ENDPOINT}/v1/track"
RETRYABLE = [408, 423, 429, 500, 502, 503, 504]
NON_RETRYABLE = {
    400: "PayloadValidationError",
    401: "InvalidAuthentication",
    403: "InvalidAuthentication",
    404: "PayloadValidationError",
    409: "PayloadValidationError",
    422: "PayloadValidationError",
    501: "IntegrationError",
}


class Settings(DestinationSettings):
    api_key: SecretStr = SecretStr("retry-test-secret-key")


class SendOne(Action[Settings, dict[str, Any]]):
    """A single-event action: one POST per event."""

    name = "send_one"
    subscribe = Subscription.of("track", "identify")

    def map(self, event: AnyMessage, settings: Settings) -> dict[str, Any]:
        return {"user": event.user_id, "type": event.type}

    async def perform(self, ctx: Context[Settings], payload: dict[str, Any]) -> None:
        await ctx.http.post("/v1/track", json=payload)


# No jitter, so every backoff is exact: 0.5, 1, 2, 4, 8 (capped at 10).
POLICY = RetryPolicy(max_attempts=5, max_elapsed=60.0, initial_backoff=0.5, jitter=0.0)

destination: Destination[Settings] = Destination(
    name="Retry Test",
    slug="retry_test",
    kind=DestinationKind.EVENT,
    settings=Settings,
    actions=[SendOne()],
    headers=lambda s: {"Authorization": f"Bearer {s.api_key.get_secret_value()}"},
    retry=POLICY,
)

EVENT = {"type": "track", "event": "Order Completed", "userId": "u-1"}


def send(
    side_effect: list[Any], *, retry: RetryPolicy | None = None
) -> tuple[Lifecycle, respx.Route, list[float]]:
    """Send EVENT once against a mocked API answering ``side_effect`` in turn."""
    sleeps: list[float] = []
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL).mock(side_effect=side_effect)
        with Delivery(destination, {"endpoint": ENDPOINT}, retry=retry, sleep=sleeps.append) as d:
            lifecycle = d.send(EVENT)
    return lifecycle, route, sleeps


def ok() -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


# -- which statuses are retried --------------------------------------------------------------


@pytest.mark.parametrize("status", RETRYABLE)
def test_retryable_status_is_retried(status: int) -> None:
    lifecycle, route, sleeps = send([httpx.Response(status, json={"message": "later"}), ok()])

    assert route.call_count == 2
    assert lifecycle.outcome == "delivered"
    assert sleeps == [0.5]
    first, second = lifecycle.attempts
    assert first.error is not None and first.error.status == status and first.error.retryable
    assert first.retry is not None and first.retry.decision == "retry"
    assert first.retry.wait_s == 0.5
    assert second.wait_before_s == 0.5
    assert second.retry is not None and second.retry.decision == "done"
    record = lifecycle.to_dict()
    assert [a["number"] for a in record["attempts"]] == [1, 2]
    assert record["attempts"][0]["exchanges"][0]["response"]["status"] == status
    assert record["error"] is None


@pytest.mark.parametrize(("status", "error_class"), sorted(NON_RETRYABLE.items()))
def test_non_retryable_status_is_not_retried(status: int, error_class: str) -> None:
    lifecycle, route, sleeps = send([httpx.Response(status, json={"message": "no"}), ok()])

    assert route.call_count == 1
    assert sleeps == []
    assert lifecycle.outcome == "failed: permanent"
    record = lifecycle.to_dict()
    assert record["error"]["class"] == error_class
    assert record["error"]["status"] == status
    assert record["error"]["retryable"] is False
    assert f"HTTP {status}" in record["error"]["message"]
    (attempt,) = record["attempts"]
    assert attempt["retry"]["decision"] == "give up"
    assert "not retryable" in attempt["retry"]["reason"]


# -- Retry-After -----------------------------------------------------------------------------


def test_retry_after_seconds_sets_the_wait() -> None:
    lifecycle, route, sleeps = send([httpx.Response(429, headers={"Retry-After": "7"}), ok()])

    assert route.call_count == 2
    assert sleeps == [7.0]
    first = lifecycle.attempts[0]
    assert first.error is not None and first.error.cls == "RateLimited"
    assert first.retry is not None and first.retry.wait_s == 7.0
    assert "Retry-After" in first.retry.reason
    assert lifecycle.attempts[1].wait_before_s == 7.0


def test_a_retry_after_shorter_than_the_backoff_waits_the_backoff() -> None:
    lifecycle, _, sleeps = send([httpx.Response(429, headers={"Retry-After": "0.1"}), ok()])

    assert sleeps == [0.5]  # the larger of Retry-After and the backoff
    assert lifecycle.delivered
    retry = lifecycle.attempts[0].retry
    assert retry is not None and retry.reason.endswith("waiting (backoff)")


def test_retry_after_on_a_503_is_honoured_as_a_server_error_not_a_rate_limit() -> None:
    lifecycle, _, sleeps = send([httpx.Response(503, headers={"Retry-After": "3"}), ok()])

    assert sleeps == [3.0]
    first = lifecycle.attempts[0]
    assert first.error is not None
    assert (first.error.cls, first.error.status, first.error.retryable) == (
        "RetryableError",
        503,
        True,
    )
    assert first.retry is not None and first.retry.wait_s == 3.0
    assert first.retry.reason == "RetryableError is retryable; waiting (Retry-After)"
    assert lifecycle.delivered


def test_a_503_with_retry_after_carries_the_wait_and_a_429_is_rate_limited() -> None:
    server = classify_status(503, "Service Unavailable", headers={"retry-after": "3"})
    assert type(server) is RetryableError
    assert server.retry_after == 3.0
    limited = classify_status(429, "Too Many Requests", headers={"retry-after": "3"})
    assert type(limited) is RateLimited
    assert limited.retry_after == 3.0


def test_retry_after_as_an_http_date_sets_the_wait() -> None:
    date = now_http_date(20)
    lifecycle, route, sleeps = send([httpx.Response(429, headers={"Retry-After": date}), ok()])

    assert route.call_count == 2
    (wait,) = sleeps
    assert 18.0 <= wait <= 20.0  # the date has one-second resolution
    assert lifecycle.attempts[1].wait_before_s == pytest.approx(wait)


def test_a_retry_after_in_the_past_falls_back_to_the_backoff() -> None:
    date = now_http_date(-30)
    _, _, sleeps = send([httpx.Response(429, headers={"Retry-After": date}), ok()])

    assert sleeps == [0.5]


def test_retry_after_is_capped_by_max_retry_after() -> None:
    policy = RetryPolicy(max_elapsed=1000, jitter=0.0, max_retry_after=30)
    _, _, sleeps = send([httpx.Response(429, headers={"Retry-After": "500"}), ok()], retry=policy)

    assert sleeps == [30.0]


def test_a_retry_after_beyond_the_time_budget_gives_up_with_the_reason() -> None:
    lifecycle, route, sleeps = send(
        [httpx.Response(429, headers={"Retry-After": "120"}), ok()],
        retry=RetryPolicy(max_elapsed=60, max_retry_after=300, jitter=0.0),
    )

    assert route.call_count == 1
    assert sleeps == []
    assert lifecycle.outcome == "failed: retryable exhausted"
    record = lifecycle.to_dict()
    retry = record["attempts"][0]["retry"]
    assert retry["decision"] == "give up"
    assert "max_elapsed=60s" in retry["reason"]
    assert "120.00s" in retry["reason"]
    assert record["error"]["class"] == "RateLimited"


# -- bounds ----------------------------------------------------------------------------------


def test_max_attempts_bounds_the_retries() -> None:
    lifecycle, route, sleeps = send([httpx.Response(500)] * 10)

    assert route.call_count == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert lifecycle.outcome == "failed: retryable exhausted"
    record = lifecycle.to_dict()
    assert [a["wait_before_s"] for a in record["attempts"]] == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert [a["retry"]["decision"] for a in record["attempts"]] == ["retry"] * 4 + ["give up"]
    assert [a["retry"]["wait_s"] for a in record["attempts"]] == [0.5, 1.0, 2.0, 4.0, None]
    assert "max_attempts=5" in record["attempts"][-1]["retry"]["reason"]
    assert record["error"] == {
        "class": "RetryableError",
        "message": "HTTP 500 Internal Server Error",
        "status": 500,
        "retryable": True,
    }


def test_max_elapsed_bounds_the_total_wait_even_with_an_injected_sleep() -> None:
    # Waits 1, 2, then 4 would bring the total to 7s > 5s: the third retry is never made.
    policy = RetryPolicy(max_attempts=10, max_elapsed=5, initial_backoff=1.0, jitter=0.0)
    lifecycle, route, sleeps = send([httpx.Response(503)] * 10, retry=policy)

    assert sleeps == [1.0, 2.0]
    assert route.call_count == 3
    assert lifecycle.outcome == "failed: retryable exhausted"
    last = lifecycle.attempts[-1].retry
    assert last is not None and last.decision == "give up"
    assert "max_elapsed=5s" in last.reason


def test_a_single_attempt_policy_never_retries() -> None:
    lifecycle, route, sleeps = send([httpx.Response(500), ok()], retry=RetryPolicy(max_attempts=1))

    assert route.call_count == 1
    assert sleeps == []
    assert lifecycle.outcome == "failed: retryable exhausted"


# -- timeouts and network errors -------------------------------------------------------------


def test_timeouts_and_connection_errors_are_retried_and_recorded() -> None:
    lifecycle, route, sleeps = send(
        [
            httpx.ReadTimeout("read timed out"),
            httpx.ConnectTimeout("connect timed out"),
            httpx.ConnectError("[Errno 111] Connection refused"),
            ok(),
        ]
    )

    assert route.call_count == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert lifecycle.outcome == "delivered"
    record = lifecycle.to_dict()
    errors = [a["exchanges"][0]["error"] for a in record["attempts"][:3]]
    assert [e["class"] for e in errors] == ["RetryableError"] * 3
    assert errors[0]["message"] == "timed out: ReadTimeout"
    assert errors[1]["message"] == "timed out: ConnectTimeout"
    assert errors[2]["message"] == "network error: ConnectError: [Errno 111] Connection refused"
    for attempt in record["attempts"][:3]:
        (exchange,) = attempt["exchanges"]
        assert exchange["response"] is None
        assert exchange["request"]["url"] == URL
        assert exchange["timings"]["total_ms"] is not None
        assert attempt["error"]["retryable"] is True
        assert attempt["retry"]["decision"] == "retry"
    assert record["attempts"][3]["exchanges"][0]["response"]["status"] == 200


def test_timeouts_until_exhausted() -> None:
    lifecycle, route, _ = send([httpx.ReadTimeout("slow")] * 5)

    assert route.call_count == 5
    assert lifecycle.outcome == "failed: retryable exhausted"
    assert lifecycle.error is not None
    assert lifecycle.error.message == "timed out: ReadTimeout"
    assert lifecycle.error.status is None


def test_the_timeout_setting_reaches_httpx() -> None:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    with respx.mock() as mock:
        mock.post(URL).mock(side_effect=answer)
        with Delivery(destination, {"endpoint": ENDPOINT, "timeout": 2.5}) as d:
            assert d.send(EVENT).delivered
    assert seen[0]["read"] == 2.5
    assert seen[0]["connect"] == 2.5


# -- response bodies -------------------------------------------------------------------------


def test_an_html_response_is_recorded_as_text() -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    lifecycle, route, _ = send(
        [
            httpx.Response(502, text=html, headers={"content-type": "text/html"}),
            httpx.Response(200, text="<p>thanks</p>", headers={"content-type": "text/html"}),
        ]
    )

    assert route.call_count == 2
    assert lifecycle.delivered
    first, second = (a.exchanges[0].response for a in lifecycle.attempts)
    assert first is not None and second is not None
    assert (first.body_kind, first.body) == ("text", html)
    assert (second.body_kind, second.body) == ("text", "<p>thanks</p>")
    assert lifecycle.attempts[0].error is not None
    assert "502 Bad Gateway" in lifecycle.attempts[0].error.message
    assert "\n" not in lifecycle.attempts[0].error.message
    json.loads(lifecycle.to_json())


def test_an_empty_response_is_recorded_as_empty() -> None:
    lifecycle, _, _ = send([httpx.Response(204)])

    assert lifecycle.delivered
    response = lifecycle.to_dict()["attempts"][0]["exchanges"][0]["response"]
    assert response["status"] == 204
    assert response["body_kind"] == "empty"
    assert response["body"] is None


def test_an_empty_error_response_fails_cleanly() -> None:
    lifecycle, _, _ = send([httpx.Response(400)])

    assert lifecycle.outcome == "failed: permanent"
    assert lifecycle.error is not None
    assert lifecycle.error.message == "HTTP 400 Bad Request"


def test_broken_json_with_a_json_content_type_is_recorded_as_text() -> None:
    broken = '{"ok": tru'
    lifecycle, _, _ = send(
        [httpx.Response(200, content=broken, headers={"content-type": "application/json"})]
    )

    assert lifecycle.delivered
    response = lifecycle.to_dict()["attempts"][0]["exchanges"][0]["response"]
    assert (response["body_kind"], response["body"]) == ("text", broken)


def test_a_gzip_response_is_recorded_as_its_json() -> None:
    body = gzip.compress(b'{"ok": true, "id": 7}')
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    lifecycle, _, _ = send([httpx.Response(200, content=body, headers=headers)])

    response = lifecycle.to_dict()["attempts"][0]["exchanges"][0]["response"]
    assert (response["body_kind"], response["body"]) == ("json", {"ok": True, "id": 7})


def test_a_response_that_cannot_be_decoded_is_recorded_not_crashed() -> None:
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    lifecycle, route, _ = send(
        [httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers=headers), ok()]
    )

    assert route.call_count == 2
    assert lifecycle.delivered
    error = lifecycle.attempts[0].exchanges[0].error
    assert error is not None and error.cls == "RetryableError"
    assert "DecodingError" in error.message


def test_the_request_is_recorded_as_sent() -> None:
    lifecycle, route, _ = send([ok()])

    sent = route.calls.last.request
    assert json.loads(sent.content) == {"user": "u-1", "type": "track"}
    request = lifecycle.to_dict()["attempts"][0]["exchanges"][0]["request"]
    assert request["method"] == "POST"
    assert request["url"] == URL
    assert request["body_kind"] == "json"
    assert request["body"] == {"user": "u-1", "type": "track"}
    assert request["headers"]["authorization"] == "Bearer [REDACTED]"
    assert sent.headers["authorization"] == "Bearer retry-test-secret-key"


# -- the async face --------------------------------------------------------------------------


async def test_async_delivery_retries_with_the_injected_sleep() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with respx.mock() as mock:
        route = mock.post(URL).mock(side_effect=[httpx.Response(500), httpx.Response(429), ok()])
        async with AsyncDelivery(destination, {"endpoint": ENDPOINT}, sleep=sleep) as delivery:
            lifecycle = await delivery.send(EVENT)

    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]
    assert lifecycle.outcome == "delivered"
    assert [a.wait_before_s for a in lifecycle.attempts] == [0.0, 0.5, 1.0]


# -- the policy's arithmetic, exactly ---------------------------------------------------------


def test_the_backoff_grows_then_stays_at_its_cap() -> None:
    policy = RetryPolicy(initial_backoff=0.5, multiplier=2.0, max_backoff=3.0, jitter=0.0)
    waits = [policy.backoff(n) for n in range(1, 8)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]


def test_the_backoff_jitter_stays_within_its_bound() -> None:
    policy = RetryPolicy(initial_backoff=1.0, multiplier=3.0, max_backoff=100.0, jitter=0.25)
    for attempt, base in ((1, 1.0), (2, 3.0), (3, 9.0)):
        waits = {policy.backoff(attempt) for _ in range(50)}
        assert all(base <= wait <= base + 0.25 for wait in waits)
        assert len(waits) > 1  # it is random


@pytest.mark.parametrize(
    ("elapsed", "decision"),
    [(8.0, "retry"), (8.5, "retry"), (8.6, "give up")],
)
def test_max_elapsed_is_inclusive(elapsed: float, decision: str) -> None:
    # The wait is exactly 1.5 s: a retry landing exactly on max_elapsed=10 is still made.
    policy = RetryPolicy(initial_backoff=1.5, multiplier=1.0, jitter=0.0, max_elapsed=10.0)
    made, reason, wait = policy.decide(1, RetryableError("HTTP 503"), elapsed)
    assert made == decision
    if decision == "retry":
        assert wait == 1.5
        assert reason == "RetryableError is retryable; waiting (backoff)"
    else:
        assert wait is None
        assert reason == "waiting 1.50s would pass max_elapsed=10s"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_elapsed", 0.0, "max_elapsed: must be positive"),
        ("max_elapsed", -1.0, "max_elapsed: must be positive"),
        ("max_attempts", 0, "max_attempts: must be at least 1"),
    ],
)
def test_policy_bounds_are_checked(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RetryPolicy(**{field: value})
    assert str(caught.value) == message


def test_the_smallest_bounds_are_accepted() -> None:
    assert RetryPolicy(max_attempts=1, max_elapsed=0.001).max_elapsed == 0.001


def test_decide_names_each_reason() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    assert policy.decide(1, None, 0.0) == ("done", "delivered", None)
    assert policy.decide(1, classify_status(400), 0.0) == (
        "give up",
        "PayloadValidationError is not retryable",
        None,
    )
    assert policy.decide(3, RetryableError("x"), 0.0) == (
        "give up",
        "reached max_attempts=3",
        None,
    )
    assert policy.decide(2, RetryableError("x"), 0.0)[0] == "retry"
    limited = RateLimited("HTTP 429", retry_after=7.0, status=429)
    assert policy.decide(1, limited, 0.0) == (
        "retry",
        "RateLimited is retryable; waiting (Retry-After)",
        7.0,
    )


def test_a_retry_after_longer_than_the_cap_waits_the_cap_and_says_retry_after() -> None:
    policy = RetryPolicy(max_retry_after=5.0, jitter=0.0, initial_backoff=0.5)
    error = RetryableError("HTTP 503", retry_after=30.0)
    assert policy.wait_for(1, error) == 5.0
    assert policy.decide(1, error, 0.0) == (
        "retry",
        "RetryableError is retryable; waiting (Retry-After)",
        5.0,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("", None),
        ("   ", None),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),  # 30 s after ``now``
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        ("Wed, 21 Oct 2015 07:28:30", 30.0),  # no zone: taken as UTC
    ],
)
def test_parse_retry_after_against_a_given_now(value: str | None, expected: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(value, now=now) == expected


def test_parse_retry_after_defaults_now_to_the_clock() -> None:
    wait = parse_retry_after(now_http_date(60))
    assert wait is not None and 58 <= wait <= 60


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (299, None, None),
        (300, "IntegrationError", False),
        (399, "IntegrationError", False),
        (400, "PayloadValidationError", False),
        (499, "PayloadValidationError", False),
        (500, "RetryableError", True),
        (501, "IntegrationError", False),
        (599, "RetryableError", True),
        (600, "RetryableError", True),
    ],
)
def test_classification_at_every_boundary(status: int, cls: str | None, retryable: bool) -> None:
    error = classify_status(status, "Reason")
    if cls is None:
        assert error is None
        return
    assert error is not None
    assert type(error).__name__ == cls
    assert error.retryable is retryable
    assert error.status == status


def test_a_body_message_is_quoted_from_the_first_field_that_has_one() -> None:
    cases: list[tuple[Any, str]] = [
        ({"message": "bad  email\n here"}, "HTTP 400 Bad Request: bad email here"),
        ({"error": {"message": "nested"}}, "HTTP 400 Bad Request: nested"),
        ({"error": {"code": 7}}, "HTTP 400 Bad Request: {'code': 7}"),
        ({"message": "", "error_description": "desc"}, "HTTP 400 Bad Request: desc"),
        ({"detail": "d", "errors": ["e"]}, "HTTP 400 Bad Request: d"),
        ({"errors": ["e1", "e2"]}, "HTTP 400 Bad Request: ['e1', 'e2']"),
        ({"other": "x"}, "HTTP 400 Bad Request"),
        ("  plain   text ", "HTTP 400 Bad Request: plain text"),
        ("   ", "HTTP 400 Bad Request"),
        (None, "HTTP 400 Bad Request"),
        ("x" * 400, "HTTP 400 Bad Request: " + "x" * 300),
        ({"message": "y" * 400}, "HTTP 400 Bad Request: " + "y" * 300),
    ]
    for body, message in cases:
        error = classify_status(400, "Bad Request", body=body)
        assert error is not None and error.message == message, body


def test_a_redirect_names_where_without_credentials() -> None:
    error = classify_status(
        301, "Moved", headers={"location": "https://u:p@new.test/x?api_key=k1&page=2"}
    )
    assert error is not None
    assert error.message == (
        "HTTP 301 Moved: redirected to https://[REDACTED]@new.test/x?api_key=[REDACTED]&page=2;"
        " redirects are not followed, so set the endpoint to where the destination now answers"
    )
    bare = classify_status(302, "Found")
    assert bare is not None
    assert bare.message == "HTTP 302 Found: a redirect (no Location) is not a delivery"


def test_now_http_date_is_an_http_date_offset_from_now() -> None:
    import email.utils
    import time

    text = now_http_date(3600)
    assert text.endswith(" GMT")
    assert abs(email.utils.parsedate_to_datetime(text).timestamp() - (time.time() + 3600)) < 2


def test_a_status_without_a_reason_says_only_the_status() -> None:
    error = classify_status(400)
    assert error is not None and error.message == "HTTP 400"


def test_a_429_is_rate_limited_with_its_message_status_and_wait() -> None:
    error = classify_status(429, "Too Many Requests", headers={"retry-after": "12"})
    assert isinstance(error, RateLimited)
    assert (error.message, error.status, error.retry_after) == (
        "HTTP 429 Too Many Requests",
        429,
        12.0,
    )


def test_a_location_split_over_lines_is_shown_on_one() -> None:
    error = classify_status(
        308, "Permanent Redirect", headers={"location": "https://a.test/x\n  y"}
    )
    assert error is not None
    assert "redirected to https://a.test/x y;" in error.message


@pytest.fixture
def far_timezone(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A local time zone far from UTC, so code that forgets the zone gives another answer."""
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_http_dates_are_utc_whatever_the_local_zone(far_timezone: Any) -> None:
    import email.utils
    import time

    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30", now=now) == 30.0
    text = now_http_date()
    parsed = email.utils.parsedate_to_datetime(text).timestamp()
    assert time.time() - 2 < parsed <= time.time()
