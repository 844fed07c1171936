"""Standard Webhooks signing and verification.

The test vector is the one published in the standard-webhooks repository's libraries
(libraries/python/tests/test_webhooks.py and libraries/javascript/src/webhook.test.ts:
"sign function works"): secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, message id
msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330, payload {"test": 2432232314}.
"""

from __future__ import annotations

import base64
import hmac
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk._errors import DestkitError, InvalidEvent, InvalidSettings
from sdk.connector._signing import (
    DEFAULT_TOLERANCE,
    WebhookVerificationError,
    sign,
    signature_headers,
    verify,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BARE_SECRET = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# The vector's invalid signature: the expected one with its last character changed.
INVALID = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
OTHER_SECRET = "whsec_" + base64.b64encode(b"another secret of 24 byte").decode()


def vector_headers(signature: str = EXPECTED) -> dict[str, str]:
    return {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": signature,
    }


def reason(call: object) -> str:
    assert callable(call)
    with pytest.raises(WebhookVerificationError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    assert BARE_SECRET not in message
    return message


# --------------------------------------------------------------------------- published vector


def test_published_vector_signs() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, PAYLOAD) == EXPECTED


def test_bare_base64_secret_signs_the_same() -> None:
    assert sign(BARE_SECRET, MSG_ID, TIMESTAMP, PAYLOAD) == EXPECTED


def test_published_vector_verifies_with_and_without_prefix() -> None:
    verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP)
    verify(BARE_SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP)


def test_published_invalid_signature_fails() -> None:
    message = reason(lambda: verify(SECRET, vector_headers(INVALID), PAYLOAD, now=TIMESTAMP))
    assert message == "no matching signature"


@pytest.mark.parametrize(
    "signature",
    [
        "v1,dawfeoifkpqwoekfpqoekf",  # not even base64 of a digest
        EXPECTED[:8],  # partial signature
        "v1,",
        "v1",
        "",
        "v2," + EXPECTED[3:],  # right bytes, unknown version
        EXPECTED[3:],  # no version at all
    ],
)
def test_malformed_signatures_fail_cleanly(signature: str) -> None:
    reason(lambda: verify(SECRET, vector_headers(signature), PAYLOAD, now=TIMESTAMP))


def test_multiple_signatures_accept_when_any_v1_matches() -> None:
    signatures = " ".join(
        [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            EXPECTED,
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        ]
    )
    verify(SECRET, vector_headers(signatures), PAYLOAD, now=TIMESTAMP)


def test_multiple_signatures_all_wrong_fail() -> None:
    signatures = f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {INVALID}"
    assert (
        reason(lambda: verify(SECRET, vector_headers(signatures), PAYLOAD, now=TIMESTAMP))
        == "no matching signature"
    )


def test_header_names_are_case_insensitive() -> None:
    headers = {
        "Webhook-Id": MSG_ID,
        "WEBHOOK-TIMESTAMP": str(TIMESTAMP),
        "Webhook-Signature": EXPECTED,
    }
    verify(SECRET, headers, PAYLOAD, now=TIMESTAMP)


# --------------------------------------------------------------------------- round trip


def test_round_trip_with_defaults() -> None:
    body = b'{"type":"track","event":"Audience Entered"}'
    before = int(time.time())
    headers = signature_headers(SECRET, body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"].startswith("msg_")
    assert "." not in headers["webhook-id"]
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time())
    assert headers["webhook-signature"].startswith("v1,")
    verify(SECRET, headers, body)


def test_signature_headers_with_given_id_and_timestamp_match_the_vector() -> None:
    headers = signature_headers(SECRET, PAYLOAD, msg_id=MSG_ID, timestamp=TIMESTAMP)
    assert headers == vector_headers()


def test_each_call_gets_a_new_message_id() -> None:
    assert (
        signature_headers(SECRET, b"{}")["webhook-id"]
        != signature_headers(SECRET, b"{}")["webhook-id"]
    )


@given(
    body=st.binary(max_size=300),
    msg_id=st.from_regex(r"[A-Za-z0-9_\-]{1,40}", fullmatch=True),
    timestamp=st.integers(min_value=0, max_value=2**40),
)
def test_any_body_round_trips_and_any_flipped_byte_fails(
    body: bytes, msg_id: str, timestamp: int
) -> None:
    headers = signature_headers(SECRET, body, msg_id=msg_id, timestamp=timestamp)
    verify(SECRET, headers, body, now=timestamp)
    if body:
        tampered = bytes([body[0] ^ 0x01]) + body[1:]
        with pytest.raises(WebhookVerificationError):
            verify(SECRET, headers, tampered, now=timestamp)


# --------------------------------------------------------------------------- rotation


def test_rotation_signs_with_every_secret() -> None:
    headers = signature_headers([OTHER_SECRET, SECRET], PAYLOAD, msg_id=MSG_ID, timestamp=TIMESTAMP)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert signatures[1] == EXPECTED
    verify(SECRET, headers, PAYLOAD, now=TIMESTAMP)
    verify(OTHER_SECRET, headers, PAYLOAD, now=TIMESTAMP)


def test_verify_accepts_any_of_several_secrets() -> None:
    verify([OTHER_SECRET, SECRET], vector_headers(), PAYLOAD, now=TIMESTAMP)
    reason(lambda: verify([OTHER_SECRET], vector_headers(), PAYLOAD, now=TIMESTAMP))


# --------------------------------------------------------------------------- failures


def test_tampered_body_fails() -> None:
    tampered = b'{"test": 2432232315}'
    assert (
        reason(lambda: verify(SECRET, vector_headers(), tampered, now=TIMESTAMP))
        == "no matching signature"
    )


def test_wrong_secret_fails() -> None:
    assert (
        reason(lambda: verify(OTHER_SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP))
        == "no matching signature"
    )


def test_tampered_id_or_timestamp_fails() -> None:
    headers = vector_headers() | {"webhook-id": "msg_other"}
    reason(lambda: verify(SECRET, headers, PAYLOAD, now=TIMESTAMP))
    headers = vector_headers() | {"webhook-timestamp": str(TIMESTAMP + 1)}
    reason(lambda: verify(SECRET, headers, PAYLOAD, now=TIMESTAMP))


def test_stale_timestamp_fails() -> None:
    now = TIMESTAMP + DEFAULT_TOLERANCE + 1
    message = reason(lambda: verify(SECRET, vector_headers(), PAYLOAD, now=now))
    assert message.startswith("webhook-timestamp too old")


def test_future_timestamp_fails() -> None:
    now = TIMESTAMP - DEFAULT_TOLERANCE - 1
    message = reason(lambda: verify(SECRET, vector_headers(), PAYLOAD, now=now))
    assert message.startswith("webhook-timestamp too new")


def test_timestamps_at_the_edge_of_the_tolerance_pass() -> None:
    verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP + DEFAULT_TOLERANCE)
    verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP - DEFAULT_TOLERANCE)
    verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP + 3600, tolerance=3600)
    reason(lambda: verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP + 1, tolerance=0))


def test_default_clock_is_now() -> None:
    # The vector's timestamp is years old: against the real clock it is stale.
    assert reason(lambda: verify(SECRET, vector_headers(), PAYLOAD)).startswith(
        "webhook-timestamp too old"
    )


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_fail(header: str) -> None:
    headers = vector_headers()
    del headers[header]
    assert (
        reason(lambda: verify(SECRET, headers, PAYLOAD, now=TIMESTAMP))
        == f"missing header {header}"
    )
    headers[header] = "  "
    assert (
        reason(lambda: verify(SECRET, headers, PAYLOAD, now=TIMESTAMP))
        == f"missing header {header}"
    )


@pytest.mark.parametrize("value", ["hello", "1614265330.5", "-1614265330", "1e9", "+1614265330"])
def test_invalid_timestamp_fails(value: str) -> None:
    headers = vector_headers() | {"webhook-timestamp": value}
    message = reason(lambda: verify(SECRET, headers, PAYLOAD, now=TIMESTAMP))
    assert message.startswith("invalid webhook-timestamp")


def test_verification_error_is_a_destkit_error() -> None:
    assert issubclass(WebhookVerificationError, DestkitError)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("sdk.connector._signing.hmac.compare_digest", spy)
    verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP)
    assert calls
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "secret",
    ["whsec_!!!not-base64!!!", "not base64 at all", "whsec_abcde", "", "   ", "whsec_", "===="],
)
def test_bad_secret_is_a_settings_error_without_the_secret(secret: str) -> None:
    for call in (
        lambda: sign(secret, MSG_ID, TIMESTAMP, PAYLOAD),
        lambda: signature_headers(secret, PAYLOAD),
        lambda: verify(secret, vector_headers(), PAYLOAD, now=TIMESTAMP),
    ):
        with pytest.raises(InvalidSettings) as caught:
            call()
        assert caught.value.field == "signing_secret"
        message = str(caught.value)
        assert message.startswith("signing_secret: ")
        body = secret.removeprefix("whsec_").strip()
        if body:
            assert body not in message


def test_no_secrets_at_all_is_a_settings_error() -> None:
    with pytest.raises(InvalidSettings):
        signature_headers([], PAYLOAD)
    with pytest.raises(InvalidSettings):
        verify([], vector_headers(), PAYLOAD, now=TIMESTAMP)


def test_unpadded_secret_is_accepted() -> None:
    key = b"twenty-five bytes of key!"
    padded = base64.b64encode(key).decode()
    assert padded.endswith("=")
    unpadded = padded.rstrip("=")
    assert sign("whsec_" + unpadded, MSG_ID, TIMESTAMP, PAYLOAD) == sign(
        "whsec_" + padded, MSG_ID, TIMESTAMP, PAYLOAD
    )


@pytest.mark.parametrize("msg_id", ["msg.1700000000", "", "msg id", "msg\n"])
def test_ids_that_make_the_signed_content_ambiguous_are_refused(msg_id: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        sign(SECRET, msg_id, TIMESTAMP, PAYLOAD)
    assert caught.value.field == "webhook-id"


@pytest.mark.parametrize("timestamp", [-1, True])
def test_bad_timestamps_are_refused_when_signing(timestamp: int) -> None:
    with pytest.raises(InvalidEvent) as caught:
        sign(SECRET, MSG_ID, timestamp, PAYLOAD)
    assert caught.value.field == "webhook-timestamp"


def test_negative_tolerance_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP, tolerance=-1)


# --------------------------------------------------------------------------- exact reasons
# Each failure says *which* rule failed, word for word: a test that only checks that some
# error is raised would not notice a check that fails for the wrong reason.


def test_an_undecodable_entry_before_a_valid_one_is_skipped_not_the_end() -> None:
    for junk in ("v1,!!!not-base64!!!", "v1,abc", "v1,", "v2,whatever", "nocomma"):
        verify(SECRET, vector_headers(f"{junk} {EXPECTED}"), PAYLOAD, now=TIMESTAMP)


def test_a_signature_with_non_base64_characters_is_not_read_leniently() -> None:
    # A lenient decoder drops the junk and finds the valid signature inside it.
    polluted = EXPECTED[:10] + "!" + EXPECTED[10:]
    message = reason(lambda: verify(SECRET, vector_headers(polluted), PAYLOAD, now=TIMESTAMP))
    assert message == "no v1 signature in webhook-signature"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"webhook-signature": "v2,abc"}, "no v1 signature in webhook-signature"),
        ({"webhook-signature": INVALID}, "no matching signature"),
        ({"webhook-timestamp": "12a"}, "invalid webhook-timestamp: not integer unix seconds"),
        (
            {"webhook-timestamp": str(TIMESTAMP - 301)},
            "webhook-timestamp too old: more than 300 s before now",
        ),
        (
            {"webhook-timestamp": str(TIMESTAMP + 301)},
            "webhook-timestamp too new: more than 300 s after now",
        ),
        ({"webhook-id": " "}, "missing header webhook-id"),
        ({"webhook-signature": ""}, "missing header webhook-signature"),
    ],
)
def test_each_verification_failure_names_its_reason(headers: dict[str, str], expected: str) -> None:
    merged = {**vector_headers(), **headers}
    assert reason(lambda: verify(SECRET, merged, PAYLOAD, now=TIMESTAMP)) == expected


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("", "signing_secret: is empty"),
        ("   ", "signing_secret: is empty"),
        ("whsec_", "signing_secret: decodes to an empty key"),
        ("====", "signing_secret: must be base64, optionally prefixed with 'whsec_'"),
        ("whsec_!!!", "signing_secret: must be base64, optionally prefixed with 'whsec_'"),
    ],
)
def test_each_bad_secret_names_its_rule(secret: str, expected: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        sign(secret, MSG_ID, TIMESTAMP, PAYLOAD)
    assert str(caught.value) == expected
    assert caught.value.field == "signing_secret"


def test_a_secret_that_is_not_a_string_is_empty() -> None:
    with pytest.raises(InvalidSettings) as caught:
        sign(None, MSG_ID, TIMESTAMP, PAYLOAD)  # type: ignore[arg-type]
    assert str(caught.value) == "signing_secret: is empty"


def test_no_secrets_at_all_names_the_setting() -> None:
    for call in (
        lambda: signature_headers([], PAYLOAD),
        lambda: verify([], vector_headers(), PAYLOAD, now=TIMESTAMP),
    ):
        with pytest.raises(InvalidSettings) as caught:
            call()
        assert str(caught.value) == "signing_secret: is empty"
        assert caught.value.field == "signing_secret"


@pytest.mark.parametrize("length", [13, 14, 16, 25, 26, 27])
def test_unpadded_secrets_of_every_length_sign_like_padded_ones(length: int) -> None:
    # Base64 of n bytes is 4*ceil(n/3) long; unpadded it is 3 more than a multiple of 4 when
    # n % 3 == 2, and 2 more when n % 3 == 1: both must be padded back the same way.
    key = bytes(range(65, 65 + length))
    padded = base64.b64encode(key).decode()
    unpadded = padded.rstrip("=")
    assert len(unpadded) % 4 == {0: 0, 1: 2, 2: 3}[length % 3]
    expected = sign("whsec_" + padded, MSG_ID, TIMESTAMP, PAYLOAD)
    assert sign("whsec_" + unpadded, MSG_ID, TIMESTAMP, PAYLOAD) == expected
    assert sign(unpadded, MSG_ID, TIMESTAMP, PAYLOAD) == expected


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "field", "rule"),
    [
        ("a.b", TIMESTAMP, "webhook-id", "must be a non-empty id without '.' or white space"),
        ("", TIMESTAMP, "webhook-id", "must be a non-empty id without '.' or white space"),
        (MSG_ID, -1, "webhook-timestamp", "must be a non-negative integer of unix seconds"),
        (MSG_ID, True, "webhook-timestamp", "must be a non-negative integer of unix seconds"),
        (MSG_ID, "1", "webhook-timestamp", "must be a non-negative integer of unix seconds"),
    ],
)
def test_each_bad_id_or_timestamp_names_its_rule(
    msg_id: str, timestamp: int, field: str, rule: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        sign(SECRET, msg_id, timestamp, PAYLOAD)
    assert str(caught.value) == f"{field}: {rule}"


def test_zero_is_a_valid_timestamp_and_tolerance() -> None:
    signature = sign(SECRET, MSG_ID, 0, PAYLOAD)
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": "0", "webhook-signature": signature}
    verify(SECRET, headers, PAYLOAD, now=0, tolerance=0)


def test_a_negative_tolerance_names_the_rule() -> None:
    with pytest.raises(ValueError) as caught:
        verify(SECRET, vector_headers(), PAYLOAD, now=TIMESTAMP, tolerance=-1)
    assert str(caught.value) == "tolerance must be zero or more seconds"
