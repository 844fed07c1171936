"""A 3xx is never a delivery: redirects are not followed (a POST sent elsewhere has not been
delivered, and following it could carry credentials to another host), so a 3xx fails the event
permanently with an error naming the status and the redacted ``Location``."""

from __future__ import annotations

import httpx
import pytest
import respx
from _connectors import SendOne
from pydantic import SecretStr

from sdk import (
    Delivery,
    Destination,
    DestinationKind,
    DestinationSettings,
    IntegrationError,
    Lifecycle,
    RetryPolicy,
    classify_status,
)
from sdk.testing import Faults, Sandbox

ENDPOINT = "http://hooks.mock.test"
URL = f"{ENDPOINT}/v1/track"
SECRET = "redirect-test-secret-value"


class Settings(DestinationSettings):
    api_key: SecretStr = SecretStr(SECRET)


destination: Destination[Settings] = Destination(
    name="Redirect Test",
    slug="redirect_test",
    kind=DestinationKind.EVENT,
    settings=Settings,
    actions=[SendOne()],
    retry=RetryPolicy(max_attempts=3, jitter=0.0),
)

EVENT = {"type": "track", "event": "Order Completed", "userId": "u-1"}


def send(response: httpx.Response) -> tuple[Lifecycle, respx.Route, list[float]]:
    sleeps: list[float] = []
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL).mock(return_value=response)
        # a route where a followed redirect would land: it must never be called
        mock.route(host="hooks.mock.test", scheme="https").mock(return_value=httpx.Response(200))
        with Delivery(destination, {"endpoint": ENDPOINT}, sleep=sleeps.append) as delivery:
            lifecycle = delivery.send(EVENT)
        assert len(mock.calls) == 1
    return lifecycle, route, sleeps


@pytest.mark.parametrize("status", [300, 301, 302, 303, 304, 307, 308])
def test_a_redirect_is_a_permanent_failure_never_followed_nor_retried(status: int) -> None:
    location = "https://hooks.mock.test/v1/track"
    lifecycle, route, sleeps = send(httpx.Response(status, headers={"Location": location}))

    assert route.call_count == 1
    assert sleeps == []
    assert lifecycle.outcome == "failed: permanent"
    assert not lifecycle.delivered
    error = lifecycle.to_dict()["error"]
    assert error["class"] == "IntegrationError"
    assert error["status"] == status
    assert error["retryable"] is False
    assert error["message"].startswith(f"HTTP {status}")
    assert f"redirected to {location}" in error["message"]
    assert "not followed" in error["message"]
    (attempt,) = lifecycle.attempts
    assert attempt.retry is not None and attempt.retry.decision == "give up"
    assert attempt.last_response is not None and attempt.last_response.status == status


def test_the_location_is_redacted_in_the_error_and_the_record() -> None:
    location = f"https://user:pw@hooks.mock.test/in/{SECRET}?api_key=query-secret-123&region=eu"
    lifecycle, _, _ = send(httpx.Response(301, headers={"Location": location}))

    text = lifecycle.to_json()
    for secret in (SECRET, "query-secret-123", "user:pw"):
        assert secret not in text
    assert lifecycle.error is not None
    assert lifecycle.error.message == (
        "HTTP 301 Moved Permanently: redirected to "
        "https://[REDACTED]@hooks.mock.test/in/[REDACTED]?api_key=[REDACTED]&region=eu; "
        "redirects are not followed, so set the endpoint to where the destination now answers"
    )
    response = lifecycle.last_response
    assert response is not None
    assert response.headers["location"] == (
        "https://[REDACTED]@hooks.mock.test/in/[REDACTED]?api_key=[REDACTED]&region=eu"
    )


def test_a_redirect_without_location_still_fails() -> None:
    lifecycle, _, _ = send(httpx.Response(302))

    assert lifecycle.outcome == "failed: permanent"
    assert lifecycle.error is not None
    assert lifecycle.error.message == "HTTP 302 Found: a redirect (no Location) is not a delivery"


def test_classify_status_calls_3xx_an_integration_error() -> None:
    assert classify_status(204) is None
    error = classify_status(
        307, "Temporary Redirect", headers={"location": "https://x.test/?token=abcd1234"}
    )
    assert isinstance(error, IntegrationError)
    assert not error.retryable
    assert error.status == 307
    assert "https://x.test/?token=[REDACTED]" in error.message
    assert "abcd1234" not in error.message


def test_a_redirect_from_a_real_server_is_not_recorded_as_delivered() -> None:
    with Sandbox(faults=Faults(status=302)) as sandbox:
        with Delivery(destination, {"endpoint": sandbox.url}, sleep=lambda _: None) as delivery:
            lifecycle = delivery.send(EVENT)
        assert len(sandbox.requests) == 1

    assert lifecycle.outcome == "failed: permanent"
    assert lifecycle.error is not None and lifecycle.error.status == 302
