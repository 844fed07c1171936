"""Google Ads Customer Match connector: the OAuth refresh flow, the offline user data job
(create, addOperations, run), partial failures, Google's error shapes, batching, and the
contract suite."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

import sdk
from connectors.google_ads_customer_match import ListMember, _chunks, destination
from connectors.google_ads_customer_match.contract import contract
from sdk.testing import ContractTests

NAME = "Google Ads Customer Match"
FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure"
DEV_TOKEN = "devtok-Test-0042"
CLIENT_SECRET = "GOCSPX-test-client-secret"
REFRESH = "1//0test-refresh-token"
ACCESS = "ya29.a0TestAccessToken0042"
ACCESS_2 = "ya29.a0TestAccessTokenRefreshed"
CID = "1234567890"
ADS = f"https://googleads.googleapis.com/v26/customers/{CID}"
TOKEN_URL = "https://oauth2.googleapis.com/token"
JOB = f"customers/{CID}/offlineUserDataJobs/777"
CREATE_URL = f"{ADS}/offlineUserDataJobs:create"
ADD_URL = f"https://googleads.googleapis.com/v26/{JOB}:addOperations"
RUN_URL = f"https://googleads.googleapis.com/v26/{JOB}:run"
SETTINGS: dict[str, Any] = {
    "developer_token": DEV_TOKEN,
    "client_id": "1234-test.apps.googleusercontent.com",
    "client_secret": CLIENT_SECRET,
    "refresh_token": REFRESH,
    "customer_id": "123-456-7890",
    "user_list_id": "4242",
}
SECRETS = (DEV_TOKEN, CLIENT_SECRET, REFRESH, ACCESS, ACCESS_2)


class TestGoogleAdsCustomerMatchContract(ContractTests):
    contract = contract


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _audience() -> sdk.Audience:
    return sdk.Space("spa_x").audience("Big Spenders", destinations=[NAME])


def _step() -> sdk.JourneyStep:
    return sdk.Space("spa_x").step("First Purchase", "Opened Email", destinations=[NAME])


ADA: dict[str, object] = {
    "email": "  Ada@Example.COM ",
    "phone": "+1 (415) 555-0100",
    "first_name": " Ada ",
    "last_name": "O'Neil",
    "address": {"country": "us", "postal_code": "94045"},
}
ADA_IDENTIFIERS = [
    {"hashedEmail": sha("ada@example.com")},
    {"hashedPhoneNumber": sha("+14155550100")},
    {
        "addressInfo": {
            "hashedFirstName": sha("ada"),
            "hashedLastName": sha("o'neil"),
            "countryCode": "US",
            "postalCode": "94045",
        }
    },
]


def _token(access: str = ACCESS) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": access, "expires_in": 3599, "token_type": "Bearer"}
    )


class Google:
    """A respx-mocked Google: token endpoint and the three job calls."""

    def __init__(self, mock: respx.MockRouter) -> None:
        self.token = mock.post(TOKEN_URL).mock(return_value=_token())
        self.create = mock.post(CREATE_URL).mock(
            return_value=httpx.Response(200, json={"resourceName": JOB})
        )
        self.add = mock.post(ADD_URL).mock(return_value=httpx.Response(200, json={}))
        self.run = mock.post(RUN_URL).mock(
            return_value=httpx.Response(200, json={"name": f"customers/{CID}/operations/1"})
        )

    @staticmethod
    def body(route: respx.Route, call: int = -1) -> Any:
        return json.loads(route.calls[call].request.content)


def _send(
    events: Any, settings: dict[str, Any] | None = None, **kwargs: Any
) -> list[sdk.Lifecycle]:
    with sdk.Delivery(
        destination, settings or SETTINGS, sleep=lambda s: None, **kwargs
    ) as delivery:
        return delivery.send_many(events if isinstance(events, list) else [events])


def _assert_no_secret(lifecycle: sdk.Lifecycle) -> None:
    text = lifecycle.to_json()
    for secret in SECRETS:
        assert secret not in text


# -- the flow ----------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_audience_entered_runs_a_job_with_create_operations(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered
    token_request = google.token.calls.last.request
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(token_request.content.decode())) == {
        "grant_type": "refresh_token",
        "client_id": "1234-test.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH,
    }
    for route in (google.create, google.add, google.run):
        headers = route.calls.last.request.headers
        assert headers["authorization"] == f"Bearer {ACCESS}"
        assert headers["developer-token"] == DEV_TOKEN
        assert "login-customer-id" not in headers
        assert headers["content-type"] == "application/json"
    assert Google.body(google.create) == {
        "job": {
            "type": "CUSTOMER_MATCH_USER_LIST",
            "customerMatchUserListMetadata": {"userList": f"customers/{CID}/userLists/4242"},
        }
    }
    assert Google.body(google.add) == {
        "operations": [{"create": {"userIdentifiers": ADA_IDENTIFIERS}}],
        "enablePartialFailure": True,
    }
    assert Google.body(google.run) == {}
    order = [call.request.url.path for call in respx_mock.calls]
    assert order == [
        "/token",
        f"/v26/customers/{CID}/offlineUserDataJobs:create",
        f"/v26/{JOB}:addOperations",
        f"/v26/{JOB}:run",
    ]
    _assert_no_secret(lifecycle)
    exchanges = lifecycle.attempts[0].exchanges
    assert exchanges[0].request.body["client_secret"] == sdk.MASK
    assert exchanges[0].response is not None
    assert exchanges[0].response.body["access_token"] == sdk.MASK
    assert exchanges[1].request.headers["authorization"] == "Bearer [REDACTED]"
    assert exchanges[1].request.headers["developer-token"] == sdk.MASK


@respx.mock(assert_all_called=True)
def test_audience_exited_runs_remove_operations(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    exited = _audience().event("track", user_id="u1", entered=False, extra=ADA)
    (lifecycle,) = _send(exited)
    assert lifecycle.delivered
    assert Google.body(google.add)["operations"] == [
        {"remove": {"userIdentifiers": ADA_IDENTIFIERS}}
    ]


@respx.mock(assert_all_called=True)
def test_identify_and_journey_steps_add(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    step = _step()
    events = [
        step.event("identify", user_id="u1", extra={"email": "a@example.com"}),
        step.event("track", user_id="u2", extra={"email": "b@example.com"}),
    ]
    lifecycles = _send(events)
    assert all(lc.delivered for lc in lifecycles)
    assert lifecycles[0].payload["key"] == step.key
    assert Google.body(google.add)["operations"] == [
        {"create": {"userIdentifiers": [{"hashedEmail": sha("a@example.com")}]}},
        {"create": {"userIdentifiers": [{"hashedEmail": sha("b@example.com")}]}},
    ]
    assert len(google.token.calls) == 1  # the token is cached


def test_journey_step_exit_is_refused_and_never_sent() -> None:
    step = _step()
    entered = step.event("track", user_id="u1", extra={"email": "a@example.com"})
    assert isinstance(entered, sdk.Track)
    exited = entered.model_copy(
        update={"event": "Audience Exited", "properties": {**entered.properties, step.key: False}}
    )
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (lifecycle,) = _send(exited)
    assert not route.called
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"


@respx.mock(assert_all_called=True)
def test_consent_login_customer_and_list_map(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    settings = {
        **SETTINGS,
        "user_list_id": None,
        "user_list_map": {"big_spenders": "9001"},
        "login_customer_id": "111-222-3333",
        "consent_ad_user_data": "GRANTED",
        "consent_ad_personalization": "DENIED",
    }
    assert _send(_audience().event("track", user_id="u1", extra=ADA), settings)[0].delivered
    assert Google.body(google.create)["job"]["customerMatchUserListMetadata"] == {
        "userList": f"customers/{CID}/userLists/9001",
        "consent": {"adUserData": "GRANTED", "adPersonalization": "DENIED"},
    }
    assert google.add.calls.last.request.headers["login-customer-id"] == "1112223333"


# -- identifiers -------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_crm_id_and_mobile_id_lists(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    event = _audience().event("track", user_id=" crm-42 ", extra={"email": "a@example.com"})
    assert _send(event, {**SETTINGS, "upload_key_type": "CRM_ID"})[0].delivered
    assert Google.body(google.add)["operations"] == [
        {"create": {"userIdentifiers": [{"thirdPartyUserId": "crm-42"}]}}
    ]
    wire = event.to_wire()
    wire["context"]["device"] = {"advertisingId": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}
    assert _send(wire, {**SETTINGS, "upload_key_type": "MOBILE_ADVERTISING_ID"})[0].delivered
    assert Google.body(google.add)["operations"] == [
        {"create": {"userIdentifiers": [{"mobileId": "6d92078a-8246-4ba4-ae5b-76104861e7dc"}]}}
    ]


def test_missing_identifiers_are_refused_naming_the_field() -> None:
    audience = _audience()
    no_device = audience.event("track", user_id="u1", extra={"email": "a@example.com"})
    anonymous = audience.event("track", anonymous_id="anon", extra={"first_name": "Ada"})
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        (device,) = _send(no_device, {**SETTINGS, "upload_key_type": "MOBILE_ADVERTISING_ID"})
        (contact,) = _send(anonymous)
    assert not route.called
    assert device.error is not None and contact.error is not None
    assert device.error.message == (
        "context.device.advertisingId: is required: the user lists match on mobileId "
        "(MOBILE_ADVERTISING_ID)"
    )
    assert contact.error.message.startswith("traits.email: is missing, and so are traits.phone")


@respx.mock(assert_all_called=True)
def test_bad_and_partial_identifiers_are_skipped_and_named(
    respx_mock: respx.MockRouter,
) -> None:
    google = Google(respx_mock)
    traits: dict[str, object] = {"email": "nope", "phone": "0415 555 0100"}
    # A national phone, no user country, no default: nothing usable is left.
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=traits))
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidIdentifier"
    assert not google.add.called
    settings = {**SETTINGS, "phone_country_code": "61"}
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=traits), settings)
    assert lifecycle.delivered
    assert Google.body(google.add)["operations"] == [
        {"create": {"userIdentifiers": [{"hashedPhoneNumber": sha("+614155550100")}]}}
    ]
    # The user's own country comes before the connector-wide default (issue 18).
    traits["address"] = {"country": "AU"}
    (lifecycle,) = _send(
        _audience().event("track", user_id="u1", extra=traits),
        {**SETTINGS, "phone_country_code": "1"},
    )
    assert lifecycle.delivered
    assert Google.body(google.add)["operations"] == [
        {"create": {"userIdentifiers": [{"hashedPhoneNumber": sha("+614155550100")}]}}
    ]
    assert lifecycle.payload["skipped"] == {
        "email": "must look like local@domain.tld, without spaces",
        "address": "needs first_name, last_name, address.postal_code too (Google matches all four)",
    }
    assert lifecycle.notes == [
        "traits.email: left out of the list upload: must look like local@domain.tld, without "
        "spaces",
        "traits.address: left out of the list upload: needs first_name, last_name, "
        "address.postal_code too (Google matches all four)",
    ]


# -- OAuth -------------------------------------------------------------------------------------


@respx.mock(assert_all_called=True)
def test_a_401_refreshes_the_token_once(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.token.mock(side_effect=[_token(ACCESS), _token(ACCESS_2)])
    unauthenticated = httpx.Response(
        401,
        json={
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }
        },
    )
    google.create.mock(
        side_effect=[unauthenticated, httpx.Response(200, json={"resourceName": JOB})]
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered and len(lifecycle.attempts) == 1
    assert len(google.token.calls) == 2
    assert google.create.calls[0].request.headers["authorization"] == f"Bearer {ACCESS}"
    assert google.create.calls[1].request.headers["authorization"] == f"Bearer {ACCESS_2}"
    assert google.run.calls.last.request.headers["authorization"] == f"Bearer {ACCESS_2}"
    _assert_no_secret(lifecycle)


@respx.mock(assert_all_called=True)
def test_a_second_401_is_invalid_authentication(respx_mock: respx.MockRouter) -> None:
    token = respx_mock.post(TOKEN_URL).mock(side_effect=[_token(ACCESS), _token(ACCESS_2)])
    create = respx_mock.post(CREATE_URL).mock(
        return_value=httpx.Response(
            401,
            json={"error": {"code": 401, "message": "Invalid token", "status": "UNAUTHENTICATED"}},
        )
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"
    assert lifecycle.error.message == "Google Ads API UNAUTHENTICATED: Invalid token"
    assert len(token.calls) == 2 and len(create.calls) == 2 and len(lifecycle.attempts) == 1


@respx.mock(assert_all_called=True)
def test_a_revoked_refresh_token_is_invalid_authentication(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400,
            json={"error": "invalid_grant", "error_description": "Token has been revoked."},
        )
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "InvalidAuthentication"
    assert lifecycle.error.message == (
        "OAuth token refresh refused: invalid_grant (Token has been revoked.)"
    )
    assert len(lifecycle.attempts) == 1
    _assert_no_secret(lifecycle)


@respx.mock(assert_all_called=True)
def test_authentication_lists_accessible_customers(respx_mock: respx.MockRouter) -> None:
    # A proxy as endpoint gets the API calls, never the refresh token: that goes to Google.
    token = respx_mock.post(TOKEN_URL).mock(return_value=_token())
    listed = respx_mock.get("https://proxy.test/v26/customers:listAccessibleCustomers").mock(
        return_value=httpx.Response(200, json={"resourceNames": [f"customers/{CID}"]})
    )
    with sdk.Delivery(destination, {**SETTINGS, "endpoint": "https://proxy.test"}) as delivery:
        lifecycle = delivery.test_authentication()
    assert lifecycle.delivered and token.called
    assert listed.calls.last.request.headers["developer-token"] == DEV_TOKEN
    _assert_no_secret(lifecycle)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://proxy.test",
        "https://ads-gateway.example.com:8443/google",
        "http://10.0.0.5:8080",
        "https://localhost.example.com",  # a name that merely starts with localhost
        "https://127.0.0.1.nip.io",
    ],
)
@respx.mock(assert_all_called=True)
def test_a_non_loopback_endpoint_never_receives_the_refresh_token(
    endpoint: str, respx_mock: respx.MockRouter
) -> None:
    google_token = respx_mock.post(TOKEN_URL).mock(return_value=_token())
    proxied = respx_mock.route(url__startswith=endpoint).mock(
        side_effect=lambda request: (
            httpx.Response(404)
            if request.url.path.endswith("/token")
            else httpx.Response(200, json={"resourceName": JOB})
        )
    )
    _send(_audience().event("track", user_id="u1", extra=ADA), {**SETTINGS, "endpoint": endpoint})
    assert google_token.called
    assert proxied.called  # the API calls go through the proxy
    for call in proxied.calls:
        assert not call.request.url.path.endswith("/token")
        assert REFRESH not in call.request.content.decode()
        assert CLIENT_SECRET not in call.request.content.decode()


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8765",
        "http://127.3.4.5:9000",
        "http://localhost:8765",
        "http://[::1]:8765",
    ],
)
@respx.mock(assert_all_called=True)
def test_a_loopback_endpoint_serves_the_token_too(
    endpoint: str, respx_mock: respx.MockRouter
) -> None:
    # The sandbox and local fakes answer /token themselves.
    local_token = respx_mock.post(f"{endpoint}/token").mock(return_value=_token())
    listed = respx_mock.get(f"{endpoint}/v26/customers:listAccessibleCustomers").mock(
        return_value=httpx.Response(200, json={"resourceNames": [f"customers/{CID}"]})
    )
    with sdk.Delivery(destination, {**SETTINGS, "endpoint": endpoint}) as delivery:
        lifecycle = delivery.test_authentication()
    assert lifecycle.delivered
    assert local_token.called and listed.called


@pytest.mark.parametrize("endpoint", [None, "https://proxy.test", "http://127.0.0.1:8765"])
@respx.mock(assert_all_called=True)
def test_an_explicit_oauth_url_always_wins(
    endpoint: str | None, respx_mock: respx.MockRouter
) -> None:
    base = endpoint or "https://googleads.googleapis.com"
    token = respx_mock.post("https://sso.example.com/oauth2/token").mock(return_value=_token())
    listed = respx_mock.get(f"{base}/v26/customers:listAccessibleCustomers").mock(
        return_value=httpx.Response(200, json={"resourceNames": [f"customers/{CID}"]})
    )
    settings = {**SETTINGS, "oauth_url": "https://sso.example.com/oauth2/token"}
    if endpoint:
        settings["endpoint"] = endpoint
    with sdk.Delivery(destination, settings) as delivery:
        lifecycle = delivery.test_authentication()
    assert lifecycle.delivered
    assert token.called and listed.called


# -- partial failures and errors ---------------------------------------------------------------


def _users(count: int) -> list[dict[str, Any]]:
    audience = _audience()
    return [
        audience.event("track", user_id=f"u{n}", extra={"email": f"u{n}@example.com"}).to_wire()
        for n in range(count)
    ]


def _partial_failure(*indices: int) -> dict[str, Any]:
    return {
        "partialFailureError": {
            "code": 3,
            "message": "Multiple errors in 'details'. First error: The SHA256 encoded value "
            "is malformed.",
            "details": [
                {
                    "@type": FAILURE_TYPE,
                    "errors": [
                        {
                            "errorCode": {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"},
                            "message": "The SHA256 encoded value is malformed.",
                            "location": {
                                "fieldPathElements": [
                                    {"fieldName": "operations", "index": index},
                                    {"fieldName": "create"},
                                    {"fieldName": "user_identifiers", "index": 0},
                                    {"fieldName": "hashed_email"},
                                ]
                            },
                        }
                        for index in indices
                    ],
                    "requestId": "req-1",
                }
            ],
        }
    }


@respx.mock(assert_all_called=True)
def test_partial_failures_fail_their_operations_only(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.add.mock(return_value=httpx.Response(200, json=_partial_failure(1)))
    first, second, third = _send(_users(3))
    assert first.delivered and third.delivered
    assert second.outcome is sdk.Outcome.FAILED_PERMANENT
    assert second.error is not None and second.error.cls == "PayloadValidationError"
    assert second.error.message == (
        "operations[1].create.user_identifiers[0].hashed_email: The SHA256 encoded value is "
        "malformed. (offlineUserDataJobError=INVALID_SHA256_FORMAT)"
    )
    assert google.run.called  # the good operations still run


@respx.mock(assert_all_called=False)
def test_a_job_whose_operations_all_failed_is_not_run(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.add.mock(return_value=httpx.Response(200, json=_partial_failure(0, 1)))
    lifecycles = _send(_users(2))
    assert all(
        lc.error is not None and lc.error.cls == "PayloadValidationError" for lc in lifecycles
    )
    assert not google.run.called


@respx.mock(assert_all_called=True)
def test_operations_are_chunked_and_partial_failures_offset(
    respx_mock: respx.MockRouter,
) -> None:
    google = Google(respx_mock)
    google.add.mock(
        side_effect=[
            httpx.Response(200, json={}),
            httpx.Response(200, json=_partial_failure(3)),
            httpx.Response(200, json={}),
        ]
    )
    settings = {**SETTINGS, "batch_size": 25, "operations_per_request": 10}
    lifecycles = _send(_users(25), settings)
    assert len(google.create.calls) == 1 and len(google.run.calls) == 1
    sizes = [len(Google.body(google.add, n)["operations"]) for n in range(3)]
    assert sizes == [10, 10, 5]
    failed = [n for n, lc in enumerate(lifecycles) if not lc.delivered]
    assert failed == [13]  # operations[3] of the second request


def test_requests_never_carry_more_than_100000_identifiers() -> None:
    identifiers = [{"hashedEmail": "a"}, {"hashedPhoneNumber": "b"}, {"addressInfo": {}}]
    member = ListMember("1", "add", "k", {"userIdentifiers": identifiers})
    chunks = list(_chunks([member] * 40_000, 100_000))
    assert [len(chunk) for _, chunk in chunks] == [33_333, 6_667]
    assert [offset for offset, _ in chunks] == [0, 33_333]
    assert all(
        sum(len(m.record["userIdentifiers"]) for m in chunk) <= 100_000 for _, chunk in chunks
    )


@respx.mock(assert_all_called=True)
def test_batches_hold_at_most_10000_users(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.create.mock(
        side_effect=[
            httpx.Response(200, json={"resourceName": JOB}),
            httpx.Response(200, json={"resourceName": JOB}),
        ]
    )
    lifecycles = _send(_users(10_001))
    assert all(lc.delivered for lc in lifecycles)
    sizes = sorted(len(Google.body(google.add, n)["operations"]) for n in range(2))
    assert sizes == [1, 10_000]
    assert len(google.create.calls) == 2 and len(google.run.calls) == 2


def _google_error(
    status: int, grpc: str, code: dict[str, str], message: str, **extra: Any
) -> httpx.Response:
    error: dict[str, Any] = {"errorCode": code, "message": message, **extra}
    return httpx.Response(
        status,
        json={
            "error": {
                "code": status,
                "message": "Request contains an invalid argument.",
                "status": grpc,
                "details": [
                    {
                        "@type": FAILURE_TYPE,
                        "errors": [error],
                        "requestId": "Xy9-req",
                    }
                ],
            }
        },
    )


@respx.mock(assert_all_called=False)
def test_invalid_argument_names_the_field_path(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.create.mock(
        return_value=_google_error(
            400,
            "INVALID_ARGUMENT",
            {"offlineUserDataJobError": "INVALID_USER_LIST_ID"},
            "The user list ID provided for the job is invalid.",
            location={
                "fieldPathElements": [
                    {"fieldName": "job"},
                    {"fieldName": "customer_match_user_list_metadata"},
                    {"fieldName": "user_list"},
                ]
            },
        )
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.error is not None and lifecycle.error.cls == "PayloadValidationError"
    assert lifecycle.error.message == (
        "job.customer_match_user_list_metadata.user_list: Google Ads API INVALID_ARGUMENT: The "
        "user list ID provided for the job is invalid. (offlineUserDataJobError="
        "INVALID_USER_LIST_ID) [request-id Xy9-req]"
    )
    assert len(lifecycle.attempts) == 1 and not google.add.called


@respx.mock(assert_all_called=True)
def test_resource_exhausted_waits_for_the_retry_delay(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    exhausted = _google_error(
        429,
        "RESOURCE_EXHAUSTED",
        {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
        "Too many requests.",
        details={"quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": "42s"}},
    )
    google.add.mock(side_effect=[exhausted, httpx.Response(200, json={})])
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.delivered and len(lifecycle.attempts) == 2
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == "RateLimited"
    assert lifecycle.attempts[1].wait_before_s >= 42
    assert len(google.token.calls) == 1  # the cached token survives the retry


@pytest.mark.parametrize(
    ("response", "cls", "attempts"),
    [
        (
            lambda: _google_error(
                403,
                "PERMISSION_DENIED",
                {"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"},
                "The developer token is only approved for use with test accounts.",
            ),
            "InvalidAuthentication",
            1,
        ),
        (
            lambda: _google_error(
                409,
                "ABORTED",
                {"databaseError": "CONCURRENT_MODIFICATION"},
                "Multiple requests were attempting to modify the same resource at once.",
            ),
            "RetryableError",
            2,
        ),
        (
            lambda: httpx.Response(
                503, json={"error": {"code": 503, "message": "down", "status": "UNAVAILABLE"}}
            ),
            "RetryableError",
            2,
        ),
        (lambda: httpx.Response(502, text="<html>bad gateway</html>"), "RetryableError", 2),
    ],
)
def test_google_errors_map_to_the_taxonomy(
    response: Callable[[], httpx.Response], cls: str, attempts: int
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        google = Google(mock)
        google.run.mock(side_effect=[response(), httpx.Response(200, json={})])
        (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert lifecycle.attempts[0].error is not None
    assert lifecycle.attempts[0].error.cls == cls
    assert len(lifecycle.attempts) == attempts
    assert lifecycle.delivered is (attempts == 2)


def test_settings_are_validated() -> None:
    settings = sdk.load_settings(destination.settings, SETTINGS)
    assert settings.customer_id == CID
    without_list = {k: v for k, v in SETTINGS.items() if k != "user_list_id"}
    with pytest.raises(sdk.InvalidSettings, match=r"^user_list_map: set user_list_id"):
        sdk.load_settings(destination.settings, without_list)
    with pytest.raises(sdk.InvalidSettings, match=r"^customer_id: must be a Google Ads customer"):
        sdk.load_settings(destination.settings, {**SETTINGS, "customer_id": "12-ab"})
    with pytest.raises(sdk.InvalidSettings, match=r"^refresh_token: is required$"):
        sdk.load_settings(
            destination.settings, {k: v for k, v in SETTINGS.items() if k != "refresh_token"}
        )


@respx.mock(assert_all_called=False)
def test_a_redirect_is_a_permanent_failure_not_a_delivery(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.create.mock(
        return_value=httpx.Response(302, headers={"location": "https://example.com/moved"})
    )
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert not lifecycle.delivered
    assert lifecycle.error is not None and lifecycle.error.cls == "IntegrationError"
    assert len(google.create.calls) == 1 and not google.add.called and not google.run.called


@respx.mock(assert_all_called=False)
def test_a_token_endpoint_redirect_is_not_a_token(respx_mock: respx.MockRouter) -> None:
    google = Google(respx_mock)
    google.token.mock(return_value=httpx.Response(302, headers={"location": "https://x.test/"}))
    (lifecycle,) = _send(_audience().event("track", user_id="u1", extra=ADA))
    assert not lifecycle.delivered
    assert lifecycle.error is not None and lifecycle.error.cls == "IntegrationError"
    assert "HTTP 302" in lifecycle.error.message and not google.create.called
