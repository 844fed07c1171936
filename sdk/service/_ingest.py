"""Ingest: Segment's HTTP Tracking API, so clients work with only their host changed.

``POST /v1/{track,identify,page,screen,group,alias}`` take one message, ``/v1/batch`` (and
``/v1/import``, its alias) take ``{"batch": [...]}``. The write key is the HTTP Basic username
(or ``writeKey`` in the body); ``Content-Encoding: gzip`` bodies are inflated with a bound.
Limits: 32 KB a message, 500 KB a batch (413 over them). Answers: 200 ``{"success": true}``
once every message is committed to the queue; 400 naming the field and rule (nothing of that
request is accepted); 401 for an unknown write key; 429 with ``Retry-After`` when the queue is
past ``max_backlog``; 503 with ``Retry-After`` when the queue cannot commit.

Timestamps the way Segment documents them: ``receivedAt`` is set here (the server's clock);
``sentAt`` is the client's clock when it sent (a batch's ``sentAt`` applies to its messages);
the client's ``timestamp`` is kept as ``originalTimestamp`` and, when ``sentAt`` is known,
``timestamp`` is corrected for the device's clock skew:
``timestamp = receivedAt - (sentAt - originalTimestamp)``. With no ``timestamp`` at all it is
``receivedAt``. ``messageId`` is kept (destinations deduplicate on it); one is generated when
missing.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from sdk._errors import InvalidEvent, PayloadTooLarge
from sdk.queue._interface import Accepted, Queue, QueueError
from sdk.routing._integrations import route
from sdk.service._config import ServiceConfig
from sdk.service._http import Request, Response
from sdk.spec._messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    parse_message,
    validate_message,
)

__all__ = ["MAX_REQUEST_BYTES", "Ingest"]

#: Bytes read of a request body (gzip or not): a batch's limit with room for its envelope.
MAX_REQUEST_BYTES = MAX_BATCH_BYTES + 16 * 1024
_SINGLE = {"track", "identify", "page", "screen", "group", "alias"}
_OK = Response(200, b'{"success": true}')
#: How much longer a stamped message's wire JSON (what its worker sends: the SDK's model of the
#: stored body, written by pydantic) can be than the stored body (the stamped document written
#: by orjson): the model's defaults (``context``, ``integrations``, ``properties`` or
#: ``traits``: 47 bytes) and its four datetimes written in full (a timestamp given as ``0``
#: becomes ``"1970-01-01T00:00:00Z"``: 31 bytes each at most); values are written alike by
#: both (JSON parsed strictly: no NaN, Infinity or lone surrogate). A body this close to the
#: 32 KB limit is checked exactly: the stamped message validated and written as it will be sent.
_WIRE_ROOM = 512
#: A stored body longer than this is checked exactly (see ``_WIRE_ROOM``).
_EXACT_ABOVE = MAX_MESSAGE_BYTES - _WIRE_ROOM
#: ``Accepted(...)`` without the named tuple's Python-level ``__new__``: one C call.
_accepted: Callable[[tuple[str, bytes, str, Sequence[str], Sequence[tuple[str, str]]]], Accepted]
_accepted = functools.partial(tuple.__new__, Accepted)


def _error(status: int, message: str, *, retry_after: int | None = None) -> Response:
    body = json.dumps({"success": False, "message": message}).encode()
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
    return Response(status, body, headers=headers)


def _aware(moment: datetime) -> datetime:
    """A client's time without a zone is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class Ingest:
    """The request handler for the tracking API, ``/healthz`` and ``/metrics``."""

    def __init__(
        self,
        config: ServiceConfig,
        queue: Queue,
        *,
        on_accepted: Callable[[str, int], None],
        on_rejected: Callable[[str], None],
        on_enqueued: Callable[[], None],
        metrics: Callable[[], tuple[bytes, str]],
        health: Callable[[], bool],
    ) -> None:
        self.config = config
        self.queue = queue
        self._keys = {s.write_key.get_secret_value(): s.name for s in config.sources}
        #: Every destination, in order: where a message without an integrations object goes.
        self._everyone = tuple(d.name for d in config.destinations)
        self._on_accepted = on_accepted
        self._on_rejected = on_rejected
        self._on_enqueued = on_enqueued
        self._metrics = metrics
        self._health = health

    async def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if request.method == "GET" and path == "/healthz":
            ok = self._health()
            return Response(200 if ok else 503, b'{"ok": true}' if ok else b'{"ok": false}')
        if request.method == "GET" and path == "/metrics":
            body, content_type = self._metrics()
            return Response(200, body, content_type=content_type)
        if not path.startswith("/v1/"):
            return self._reject(404, "not_found", "path: not an endpoint of the tracking API")
        kind = path[4:]
        if kind not in _SINGLE and kind not in ("batch", "import"):
            return self._reject(404, "not_found", f"path: /v1/{kind} is not an endpoint")
        if request.method != "POST":
            return self._reject(405, "method", "method: the tracking API takes POST")
        try:
            return await self._ingest(request, kind)
        except _Refused as refused:
            return refused.response

    def _reject(self, status: int, reason: str, message: str, **kw: Any) -> Response:
        self._on_rejected(reason)
        return _error(status, message, **kw)

    def _refuse(self, status: int, reason: str, message: str, **kw: Any) -> _Refused:
        return _Refused(self._reject(status, reason, message, **kw))

    async def _ingest(self, request: Request, kind: str) -> Response:
        body = self._inflate(request)
        limit = MAX_MESSAGE_BYTES if kind in _SINGLE else MAX_BATCH_BYTES
        if len(body) > limit:
            raise self._refuse(413, "too_large", f"body: {len(body)} bytes is over {limit} bytes")
        try:
            document = orjson.loads(body)
        except (ValueError, RecursionError):
            raise self._refuse(400, "invalid", "body: is not valid JSON") from None
        if not isinstance(document, dict):
            raise self._refuse(400, "invalid", "body: must be a JSON object")
        source = self._authenticate(request, document)
        if source is None:
            raise self._refuse(401, "unauthorized", "writeKey: unknown or missing write key")
        items: Any
        if kind in _SINGLE:
            items = [document]
            document.pop("writeKey", None)
            document["type"] = kind
        else:
            items = document.get("batch")
            if not isinstance(items, list):
                raise self._refuse(400, "invalid", "batch: must be a list of messages")
        if self.queue.pending() >= self.config.delivery.max_backlog:
            raise self._refuse(
                429, "backlog", "queue: past its backlog; retry later", retry_after=5
            )
        batch_sent_at = document.get("sentAt") if kind not in _SINGLE else None
        accepted = self._accept_all(items, datetime.now(UTC), batch_sent_at, kind not in _SINGLE)
        # The parsed request is done with: freed now, not kept alive while the commit is
        # awaited (with a few requests waiting on one group commit, their hundreds of dicts
        # each would be young objects the garbage collector walks again and again).
        del document, items
        try:
            await self.queue.enqueue(accepted)
        except QueueError:
            raise self._refuse(503, "store", "queue: cannot store now", retry_after=1) from None
        self._on_accepted(source, len(accepted))
        self._on_enqueued()
        return _OK

    def _invalid(self, where: str, exc: InvalidEvent | PayloadTooLarge) -> _Refused:
        status = 413 if isinstance(exc, PayloadTooLarge) else 400
        return self._refuse(status, "invalid", f"{where}{exc.message}")

    def _inflate(self, request: Request) -> bytes:
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("identity", ""):
            return request.body
        if encoding != "gzip":
            raise self._refuse(400, "invalid", "Content-Encoding: must be gzip or none")
        inflater = zlib.decompressobj(wbits=31)
        try:
            out = inflater.decompress(request.body, MAX_BATCH_BYTES + 1)
        except zlib.error:
            raise self._refuse(400, "invalid", "body: is not valid gzip") from None
        if len(out) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
            raise self._refuse(413, "too_large", f"body: inflates past {MAX_BATCH_BYTES} bytes")
        return out

    def _authenticate(self, request: Request, document: dict[str, Any]) -> str | None:
        header = request.headers.get("authorization", "")
        key = ""
        if header[:6].lower() == "basic ":
            try:
                key = base64.b64decode(header[6:].strip(), validate=True).decode().split(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        if not key:
            value = document.get("writeKey")
            key = value if isinstance(value, str) else ""
        return self._keys.get(key)

    def _accept_all(
        self, items: list[Any], received: datetime, batch_sent_at: Any, in_batch: bool
    ) -> list[Accepted]:
        """Validate and stamp every message of a request, in order; the first invalid one
        refuses the whole request (nothing of it is accepted)."""
        received_text = _iso(received)  # once a request
        received_utc = received.replace(tzinfo=None)  # naive UTC: the skew arithmetic's base
        everyone = self._everyone
        accepted: list[Accepted] = []
        # Names read once a request, not once a message (locals are the cheapest reads).
        append, validate, dumps = accepted.append, validate_message, orjson.dumps
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                where = _where(index, in_batch)
                raise self._refuse(400, "invalid", f"{where}message: must be a JSON object")
            if batch_sent_at is not None and "sentAt" not in item:
                item["sentAt"] = batch_sent_at
            try:
                message = validate(item)
            except InvalidEvent as exc:
                raise self._invalid(_where(index, in_batch), exc) from None
            message_id = message.message_id
            item["messageId"] = message_id
            item["receivedAt"] = received_text
            # The client's time of the message: its ``timestamp`` (validated: a datetime, never
            # falsy), or else its ``originalTimestamp``; with neither, it is ``receivedAt``.
            if "timestamp" in item:
                if "originalTimestamp" not in item:
                    item["originalTimestamp"] = item["timestamp"]  # the client's text, as is
                timed = True
            else:
                timed = message.original_timestamp is not None
            if not timed:
                item["timestamp"] = received_text
            elif message.sent_at is not None:
                original = message.original_timestamp or message.timestamp
                try:
                    item["timestamp"] = _corrected(received_utc, message.sent_at, original)
                except OverflowError:  # a device clock thousands of years off
                    where = _where(index, in_batch)
                    raise self._refuse(
                        400,
                        "invalid",
                        f"{where}sentAt: is too far from timestamp to correct the clock skew "
                        "(the corrected timestamp is outside years 1 to 9999)",
                    ) from None
            body = dumps(item)
            if len(body) > _EXACT_ABOVE:
                # The limit holds for what will be delivered, stamps included: a message over
                # it is refused now, not accepted and then refused by every destination's worker.
                try:
                    parse_message(item)
                except (InvalidEvent, PayloadTooLarge) as exc:
                    raise self._invalid(_where(index, in_batch), exc) from None
            integrations = message.integrations
            fanout: Sequence[str]
            filtered: Sequence[tuple[str, str]]
            if integrations:
                fanout, filtered = self._route(integrations)
            else:  # most messages: every destination, as route() says of an empty object
                fanout, filtered = everyone, ()
            user_key = message.user_id or message.anonymous_id or ""
            append(_accepted((message_id, body, user_key, fanout, filtered)))
        return accepted

    def _route(self, integrations: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
        fanout: list[str] = []
        filtered: list[tuple[str, str]] = []
        for name in self._everyone:
            decision = route(integrations, name)
            if decision.delivered:
                fanout.append(name)
            else:
                filtered.append((name, decision.reason))
        return fanout, filtered


def _where(index: int, in_batch: bool) -> str:
    """Where an error is, in a batch."""
    return f"batch[{index}]." if in_batch else ""


def _corrected(received_utc: datetime, sent_at: datetime, original: datetime) -> str:
    """``timestamp = receivedAt - (sentAt - originalTimestamp)`` as text; ``received_utc`` is
    naive UTC. A client's time without a zone is read as UTC."""
    try:
        skew = sent_at - original
    except TypeError:  # one has a zone, the other not
        skew = _aware(sent_at) - _aware(original)
    return _milliseconds(received_utc - skew)


def _milliseconds(moment: datetime) -> str:
    """``moment.isoformat(timespec="milliseconds") + "Z"`` of a naive datetime, 0.1 us cheaper
    (a message's corrected timestamp): its full form cut to milliseconds, which truncates as
    ``timespec`` does; the full form leaves out a zero fraction."""
    text = moment.isoformat()
    return (text[:23] if len(text) > 19 else text + ".000") + "Z"
