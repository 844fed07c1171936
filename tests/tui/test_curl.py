"""The curl builder: masked by default, unmasked only with the real values, shell-safe."""

from __future__ import annotations

import shlex

from sdk import RecordedRequest
from tester_tui.curl import MASK, curl_command


def _request(**overrides: object) -> RecordedRequest:
    fields: dict[str, object] = {
        "method": "POST",
        "url": "http://127.0.0.1:8787/v1/event",
        "headers": {
            "host": "127.0.0.1:8787",
            "content-length": "42",
            "accept-encoding": "gzip, deflate",
            "authorization": f"Bearer {MASK}",
            "content-type": "application/json",
        },
        "body": {"type": "track", "event": "Audience Entered", "userId": "u1"},
        "body_kind": "json",
    }
    fields.update(overrides)
    return RecordedRequest(**fields)  # type: ignore[arg-type]


def test_mask_constant_matches_the_sdk() -> None:
    import sdk

    assert sdk.MASK == MASK


def test_masked_by_default_and_parses_as_a_shell_command() -> None:
    text = curl_command(_request())
    assert text.startswith("curl -X POST http://127.0.0.1:8787/v1/event")
    assert f"authorization: Bearer {MASK}" in text
    words = shlex.split(text.replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", "http://127.0.0.1:8787/v1/event"]
    assert "--data-raw" in words
    body = words[words.index("--data-raw") + 1]
    assert body == '{"type":"track","event":"Audience Entered","userId":"u1"}'


def test_headers_curl_computes_itself_are_left_out() -> None:
    text = curl_command(_request())
    assert "host:" not in text
    assert "content-length" not in text
    assert "accept-encoding" not in text
    assert "-H 'content-type: application/json'" in text


def test_get_without_body_has_no_method_flag() -> None:
    text = curl_command(
        _request(method="GET", url="http://x.test/v1/auth", body=None, body_kind="empty")
    )
    assert text.splitlines()[0] == "curl http://x.test/v1/auth \\"
    assert "--data-raw" not in text


def test_form_and_text_bodies() -> None:
    form = curl_command(_request(body={"a": "1", "b": "x y"}, body_kind="form"))
    assert "--data-raw 'a=1&b=x+y'" in form
    text = curl_command(_request(body="it's plain", body_kind="text"))
    assert shlex.split(text.replace("\\\n", " "))[-1] == "it's plain"


def test_binary_body_is_noted_not_sent() -> None:
    text = curl_command(_request(body="(2048 bytes)", body_kind="binary"))
    assert "--data-raw" not in text
    assert "# binary body not included" in text


def test_unmask_uses_real_header_values_only_when_given() -> None:
    request = _request()
    text = curl_command(request, real_headers={"Authorization": "Bearer sk-live-123"})
    assert "authorization: Bearer sk-live-123" in text
    assert MASK not in text
    # The record itself is untouched.
    assert request.headers["authorization"] == f"Bearer {MASK}"


def test_unmask_body_and_url_with_a_single_secret() -> None:
    request = _request(
        url=f"http://x.test/v1/event?api_key={MASK}",
        body={"api_key": MASK, "userId": "u1"},
    )
    text = curl_command(request, secrets=["sk-live-123"])
    assert "api_key=sk-live-123" in text
    assert '"api_key":"sk-live-123"' in text
    # A header is unmasked from the real headers only, never by guessing the secret.
    assert f"authorization: Bearer {MASK}" in text


def test_a_header_computed_per_request_keeps_its_mask_with_a_comment() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = {
        "content-type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": MASK,
    }
    text = curl_command(
        _request(headers=headers),
        real_headers={"User-Agent": "destkit-webhook/1"},
        secrets=[secret],
    )
    assert secret not in text
    assert f"-H 'webhook-signature: {MASK}'" in text
    first, second = text.splitlines()[:2]
    assert first.startswith(f"# webhook-signature stays {MASK}: ")
    assert "Standard Webhooks signature" in first and "computed per request" in first
    assert second.startswith("curl -X POST ")
    # Still one shell command: the comment line is outside the line continuations.
    words = shlex.split(text.replace("\\\n", " "), comments=True)
    assert words[:2] == ["curl", "-X"] and "webhook-signature: [REDACTED]" in words


def test_several_secrets_keep_ambiguous_masks() -> None:
    request = _request(body={"api_key": MASK, "userId": "u1"})
    text = curl_command(request, secrets=["one-secret", "two-secret"])
    assert '"api_key":"[REDACTED]"' in text


def test_accepts_the_json_form_of_a_request() -> None:
    text = curl_command(_request().to_dict())
    assert text.startswith("curl -X POST http://127.0.0.1:8787/v1/event")
