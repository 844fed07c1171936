"""Webhook: POST each event as JSON to a URL, optionally batched and signed.

Signing follows the Standard Webhooks specification (https://www.standardwebhooks.com/):
``webhook-id``, ``webhook-timestamp`` (unix seconds) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with a ``whsec_`` secret.
Receivers verify with any Standard Webhooks library, or ``sdk.connector._signing.verify``.

Many receivers authenticate with the URL itself (a path token, as Slack and Discord do;
``?code=`` for Azure Functions; ``sig=`` for Logic Apps) or with a header
(``Ocp-Apim-Subscription-Key``, ``X-Functions-Key``, ``X-Auth-Key``). So every query value of
``url``, every token-like path segment (8+ characters with a digit, or 20+ characters) and every
value of ``headers`` is masked in every record, error and screen, like a ``SecretStr``; a header
named in ``public_headers`` is shown in clear.

| event | request |
|---|---|
| any message, ``batch_size`` = 1 | ``POST {url}`` with the message as a JSON object |
| messages, ``batch_size`` > 1 | ``POST {url}``, a JSON array of up to ``batch_size`` messages |
| test_authentication | ``POST {url}`` with ``{"type": "destkit.ping"}`` (2xx = reachable) |
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from connectors.webhook._notes import NOTES
from sdk import (
    Action,
    AnyMessage,
    Authentication,
    BatchLimits,
    Context,
    Destination,
    DestinationKind,
    DestinationSettings,
    InvalidSettings,
    Subscription,
)
from sdk.connector import sign, signature_headers
from sdk.mapping import mapped
from sdk.transport import compact_json

__all__ = ["WebhookSettings", "destination", "secret_headers", "url_credentials"]

#: Keep a webhook body under 1 MB, as most receivers (and proxies) accept.
MAX_BODY_BYTES = 1_000_000
#: An HTTP header name is a token (RFC 9110 section 5.1).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: A header value httpx can send: visible ASCII, spaces and tabs. CR, LF or NUL would split or
#: end the header; other controls and non-ASCII are refused by the HTTP client when sending.
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


class WebhookSettings(DestinationSettings):
    """Settings of the webhook destination."""

    url: str = Field(
        description="Where to send events (http or https).", pattern=r"^https?://[^\s/]+"
    )
    method: Literal["POST", "PUT", "PATCH"] = Field(default="POST", description="HTTP method.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra headers sent with every request; their values are masked in every "
        "record (credentials such as X-Functions-Key) unless named in public_headers.",
    )
    public_headers: list[str] = Field(
        default_factory=list,
        description="Names of headers in 'headers' whose values are not secret and may be "
        "shown in clear (e.g. X-Team); matched case-insensitively.",
    )
    signing_secret: SecretStr | None = Field(
        default=None, description="Standard Webhooks secret (whsec_<base64>); signs when set."
    )
    batch_size: int = Field(
        default=1, ge=1, le=1000, description="Events per request; above 1 the body is an array."
    )

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if _HEADER_NAME.fullmatch(name) is None:
                shown = "".join(c if c.isprintable() else "?" for c in name)[:60]
                raise ValueError(f"header name {shown!r} is not a valid HTTP header name")
            if _HEADER_VALUE.fullmatch(text) is None:
                # The value is not echoed: a header may well carry a credential.
                raise ValueError(
                    f"the value of header {name!r} must be printable ASCII "
                    "(no CR, LF, NUL or other control character)"
                )
        return value

    @model_validator(mode="after")
    def _public_headers_are_configured(self) -> WebhookSettings:
        configured = {name.lower() for name in self.headers}
        for name in self.public_headers:
            if name.lower() not in configured:
                shown = "".join(c if c.isprintable() else "?" for c in name)[:60]
                raise ValueError(f"public_headers: {shown!r} is not one of the headers")
        return self

    @field_validator("signing_secret")
    @classmethod
    def _decodable_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:  # signing once with the secret decodes it exactly as sending will
                sign(value.get_secret_value(), "msg_check", 0, b"")
            except InvalidSettings as exc:
                raise ValueError(exc.rule) from None
        return value


class WebhookFields(BaseModel):
    """What is sent: by default the whole message; a ``mapping:`` override reshapes it."""

    body: dict[str, Any] = mapped("$", required=True, description="The JSON object sent.")


class PostEvent(Action[WebhookSettings, dict[str, Any]]):
    """POST the message as JSON (an array of messages when batching)."""

    name = "post_event"
    description = "Send each message, unchanged, as JSON."
    subscribe = Subscription.of("track", "identify", "page", "screen", "group", "alias")
    fields = WebhookFields

    def batch_limits(self, settings: WebhookSettings) -> BatchLimits | None:
        if settings.batch_size <= 1:
            return None
        return BatchLimits(max_events=settings.batch_size, max_bytes=MAX_BODY_BYTES)

    def map(self, event: AnyMessage, settings: WebhookSettings) -> dict[str, Any]:
        fields: WebhookFields = self.resolve(event)
        return fields.body

    async def perform(self, ctx: Context[WebhookSettings], payload: dict[str, Any]) -> None:
        await _send(ctx, payload, message_id=_webhook_id([payload]))

    async def perform_batch(
        self, ctx: Context[WebhookSettings], payloads: Sequence[dict[str, Any]]
    ) -> None:
        await _send(ctx, list(payloads), message_id=_webhook_id(payloads))


#: A messageId sent as is in ``webhook-id``: an HTTP token without ``.`` (which Standard
#: Webhooks forbids in an id), ASCII only, at most 256 characters.
_CLEAN_ID = re.compile(r"[!#$%&'*+\-^_`|~0-9A-Za-z]{1,256}")


def _webhook_id(payloads: Sequence[Mapping[str, Any]]) -> str:
    """The ``webhook-id``: the same on every retry, so receivers can deduplicate.

    One message whose messageId is a clean header token (ASCII letters, digits and ``-_~``
    and the like; no ``.``, white space, control character or non-ASCII) keeps it; otherwise
    (a batch, or any other id) ``msg_`` and a digest of the messageIds.
    """
    ids = [str(payload.get("messageId") or "") for payload in payloads]
    if len(ids) == 1 and _CLEAN_ID.fullmatch(ids[0]) is not None:
        return ids[0]
    # A body reshaped by a mapping may have no messageId: its content then names it.
    ids = [
        message_id or _digest(payload) for message_id, payload in zip(ids, payloads, strict=True)
    ]
    joined = "\n".join(ids).encode("utf-8", errors="surrogatepass")
    return "msg_" + hashlib.sha256(joined).hexdigest()[:32]


#: A path segment that looks like a credential: 8+ characters with a digit, or 20+ characters.
_PATH_TOKEN = re.compile(r"(?=.*[0-9]).{8,}|.{20,}")


def url_credentials(url: str) -> list[str]:
    """What in a webhook URL may be a credential: every query value, every token-like path
    segment, and the user info's password (raw and percent-decoded)."""
    parts = urlsplit(url)
    found: list[str] = []
    for _, value in parse_qsl(parts.query, keep_blank_values=True):
        found.append(value)
    for segment in parts.path.split("/"):
        if _PATH_TOKEN.fullmatch(unquote(segment)):
            found += [segment, unquote(segment)]
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    return [value for value in dict.fromkeys(found) if value]


def secret_headers(settings: WebhookSettings) -> list[str]:
    """The configured headers whose values are secret: all but ``public_headers``."""
    public = {name.lower() for name in settings.public_headers}
    return [name for name in settings.headers if name.lower() not in public]


def _digest(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class _Session:
    """What every request of one delivery shares, worked out on its first request: the
    secrets registered with the delivery's redactor, the target and the fixed headers."""

    __slots__ = ("headers", "redactor", "settings", "signing_secret", "target")

    def __init__(self, ctx: Context[WebhookSettings]) -> None:
        settings = ctx.settings
        secret = secret_headers(settings)
        # Registered before anything is sent, so every record and error of this delivery
        # masks them.
        ctx.redactor.mask_headers(*secret)
        ctx.redactor.add(*url_credentials(settings.url))
        if settings.endpoint:
            ctx.redactor.add(*url_credentials(settings.endpoint))
        ctx.redactor.add(*(settings.headers[name] for name in secret))
        self.redactor = ctx.redactor
        self.settings = settings
        self.headers: dict[str, str] = {"Content-Type": "application/json", **settings.headers}
        self.signing_secret = (
            None if settings.signing_secret is None else settings.signing_secret.get_secret_value()
        )
        # ``endpoint``, when given, replaces ``url`` whole (a proxy, the sandbox, a test server).
        self.target = settings.endpoint or settings.url


#: Where a delivery's :class:`_Session` is kept in ``ctx.state`` (which lives as long as the
#: delivery: its settings and redactor).
_SESSION = "webhook.session"


def _session(ctx: Context[WebhookSettings]) -> _Session:
    session = ctx.state.get(_SESSION)
    if (
        not isinstance(session, _Session)
        or session.settings is not ctx.settings
        or session.redactor is not ctx.redactor
    ):
        session = ctx.state[_SESSION] = _Session(ctx)
    return session


async def _send(ctx: Context[WebhookSettings], body: Any, *, message_id: str | None) -> None:
    session = _session(ctx)
    content = compact_json(body, allow_nan=True)
    headers = session.headers
    if session.signing_secret is not None:
        headers = {
            **headers,
            **signature_headers(session.signing_secret, content, msg_id=message_id),
        }
    await ctx.http.request(ctx.settings.method, session.target, content=content, headers=headers)


async def _ping(ctx: Context[WebhookSettings]) -> None:
    await _send(ctx, {"type": "destkit.ping"}, message_id=None)


def _default_headers(settings: WebhookSettings) -> Mapping[str, str]:
    return {"User-Agent": "destkit-webhook/1"}


destination: Destination[WebhookSettings] = Destination(
    name="Webhook",
    slug="webhook",
    kind=DestinationKind.EVENT,
    settings=WebhookSettings,
    actions=[PostEvent()],
    description="POSTs events as JSON to a URL; optional batching and Standard Webhooks signing.",
    headers=_default_headers,
    authentication=Authentication(scheme="custom", test=_ping),
    api_version="Standard Webhooks v1 (https://github.com/standard-webhooks/standard-webhooks)",
    notes=NOTES,
)
