"""Google's OAuth 2.0 refresh-token flow for the Ads API: a cached access token, refreshed
once when the API answers 401, and the refresh token sent only to Google (or a loopback
``endpoint``, the sandbox), never to a proxy set as ``endpoint``."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any
from urllib.parse import urlsplit

from connectors.google_ads_customer_match._answers import ads_error, token_error
from sdk import Context, Response

__all__ = ["TOKEN_URL", "call"]

TOKEN_URL = "https://oauth2.googleapis.com/token"
#: Seconds before an access token's expiry at which it is refreshed anyway.
TOKEN_MARGIN = 60.0

_TOKEN_STATE = "google_ads_customer_match.access_token"
_LOCK_STATE = "google_ads_customer_match.token_lock"


def _is_loopback(url: str) -> bool:
    """True when ``url``'s host is ``localhost``, in ``127.0.0.0/8`` or ``::1``."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token_url(settings: Any) -> str:
    """Where the refresh token goes: ``oauth_url``; else ``{endpoint}/token`` for a loopback
    ``endpoint`` only (a real proxy must not see the refresh token); else Google's."""
    if settings.oauth_url:
        return str(settings.oauth_url)
    if settings.endpoint and _is_loopback(settings.endpoint):
        return f"{settings.endpoint.rstrip('/')}/token"
    return TOKEN_URL


async def _access_token(ctx: Context[Any], *, stale: str | None = None) -> str:
    """A cached access token; a new one when none is cached, it expires, or ``stale`` (the one
    the API just refused) is still the cached one."""
    lock: asyncio.Lock = ctx.state.setdefault(_LOCK_STATE, asyncio.Lock())
    async with lock:
        cached = ctx.state.get(_TOKEN_STATE)
        if cached is not None:
            token, expires_at = cached
            if token != stale and time.monotonic() < expires_at:
                return str(token)
        settings = ctx.settings
        response = await ctx.http.post(
            _token_url(settings),
            data={
                "grant_type": "refresh_token",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
                "refresh_token": settings.refresh_token.get_secret_value(),
            },
            raise_for_status=False,
        )
        answer = response.json()
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code >= 300 or not isinstance(token, str) or not token:
            raise token_error(response)
        ctx.add_secret(token)
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 3600.0
        ctx.state[_TOKEN_STATE] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0))
        return token


def _headers(settings: Any, token: str) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {token}",
        "developer-token": settings.developer_token.get_secret_value(),
    }
    if settings.login_customer_id:
        headers["login-customer-id"] = settings.login_customer_id
    return headers


async def call(
    ctx: Context[Any],
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> Response:
    """An API call with a fresh token; on 401 the token is refreshed once and the call made
    again; any other error answer raises the taxonomy's error."""
    token = await _access_token(ctx)
    response = await ctx.http.request(
        method, path, json=body, headers=_headers(ctx.settings, token), raise_for_status=False
    )
    if response.status_code == 401:
        token = await _access_token(ctx, stale=token)
        response = await ctx.http.request(
            method, path, json=body, headers=_headers(ctx.settings, token), raise_for_status=False
        )
    if response.status_code >= 300:
        raise ads_error(response)
    return response
