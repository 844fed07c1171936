"""The request a direct carrier sends: what httpx would have built, worked out without an
``httpx.Request`` or a per-request parse of a constant URL.

What goes on the wire and into the record is what httpx would have built: the same header list
in the same order (``host``, the client's defaults, the connector's headers, ``content-length``,
``content-type``), the same body bytes, the same refusals of an unsendable URL or header. A
request this module cannot reproduce exactly (``data=``, ``params=``, an empty body, a ``Host``
or ``Content-Length`` the connector sets itself) is built by httpx and only carried direct.

What the requests with the same method, URL and headers share (their :class:`Shape`) is worked
out, checked and masked once; only the body and its length vary per request.
"""

from __future__ import annotations

import re
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from sdk.transport._json import compact_json
from sdk.transport._redaction import Redactor

if TYPE_CHECKING:
    from yarl import URL

    from sdk.transport._http import DestinationHTTP
    from sdk.transport._response import Response

__all__ = ["OutgoingRequest", "RequestBuilder", "Shape", "Target", "unsendable_header"]

#: An HTTP header name and value as h11 (httpx's HTTP/1.1 engine) accepts them.
_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_VCHAR = r"[\x21-\x7e\x80-\xff]"
_FIELD_VALUE = re.compile(rf"(?:{_VCHAR}+(?:[ \t]+{_VCHAR}+)*)?")

#: Headers whose presence in a connector's headers means httpx's own building is reproduced
#: by building with httpx (they change what httpx adds itself).
_BUILT_BY_HTTPX = frozenset({"host", "content-length", "transfer-encoding", "cookie"})

#: Parsed URLs kept per carrier: a connector's URLs are few (a base URL and a handful of
#: paths); past this many, new ones are parsed each time rather than kept.
_URL_CACHE_SIZE = 256
#: Header pairs remembered (as sendable, or masked): the fixed ones of a connector come first;
#: values that change with every request (a signature, a length) stop being added past this.
_CACHE_SIZE = 2048


class Target:
    """A URL as httpx normalises it, parsed once: its text, ``Host``, origin and request
    target for the lean carrier, and (built on first use) the same for aiohttp."""

    __slots__ = ("_url", "host", "origin", "path", "text")

    def __init__(self, parsed: httpx.URL) -> None:
        self.text = str(parsed)
        self.host = parsed.netloc.decode("ascii")
        scheme = parsed.scheme
        port = parsed.port or (443 if scheme == "https" else 80)
        #: ``(scheme, host, port)``: what a pooled connection is for.
        self.origin = (scheme, parsed.raw_host.decode("ascii"), port)
        #: The request target (path and query) as it goes on the wire.
        self.path = parsed.raw_path.decode("ascii")
        self._url: URL | None = None

    @property
    def url(self) -> URL:
        """The URL for aiohttp."""
        url = self._url
        if url is None:
            from yarl import URL

            url = self._url = URL(self.text, encoded=True)
        return url


class Shape:
    """What the requests with the same method, URL and headers share: all but the body and
    its length. ``checked``: every header is one HTTP allows (else the request is refused when
    sent, as httpx's engine refuses it)."""

    __slots__ = ("after", "before", "checked", "method", "target", "wire")

    def __init__(
        self,
        method: str,
        target: Target,
        before: list[tuple[str, str]],
        after: list[tuple[str, str]],
        checked: bool,
    ) -> None:
        self.method = method
        self.target = target
        #: The headers before ``content-length``, and after it.
        self.before = before
        self.after = after
        self.checked = checked
        #: The request line and headers before ``content-length``, and the headers after it
        #: and the blank line, as HTTP/1.1 bytes (built by the lean carrier on first use).
        self.wire: tuple[bytes, bytes] | None = None


#: A shape not yet worked out (``None`` in the cache means: built by httpx).
_UNKNOWN = object()


@dataclass(slots=True)
class OutgoingRequest:
    """One request as it goes out: what the record shows and what aiohttp sends."""

    method: str
    url: str
    #: ``(lower-case name, value)`` in httpx's order, as ``Headers.multi_items()`` gives them.
    headers: list[tuple[str, str]]
    content: bytes
    target: Target
    #: What it shares with others, when built here (None: built by httpx).
    shape: Shape | None = None


class RequestBuilder:
    """What both direct carriers share: the request httpx would build, checked and masked
    with caches for what does not change between requests."""

    def __init__(self, max_connections: int, default_headers: httpx.Headers) -> None:
        self.max_connections = max_connections
        #: The httpx client's own default headers (accept, accept-encoding, connection,
        #: user-agent), as ``(lower-case name, value)``.
        self.default_headers = default_headers.multi_items()
        self._targets: dict[str, Target] = {}
        self._shapes: dict[tuple[str, str, str | None, tuple[tuple[str, str], ...]], object] = {}
        #: Header pairs already found sendable (ASCII, legal for HTTP/1.1).
        self._sendable: set[tuple[str, str]] = set()
        #: Masked renderings of header pairs and URLs, valid for one redactor generation.
        self._masks: dict[tuple[str, str], str] = {}
        self._masked_urls: dict[str, str] = {}
        self._shape_masks: dict[Shape, tuple[dict[str, str], dict[str, str], str]] = {}
        self._masks_of: tuple[Redactor | None, tuple[int, int]] = (None, (0, 0))

    def target(self, url: str) -> Target:
        """``url`` parsed and normalised once (raises ``httpx.InvalidURL`` as httpx does)."""
        found = self._targets.get(url)
        if found is None:
            found = Target(httpx.URL(url))
            if len(self._targets) < _URL_CACHE_SIZE:
                self._targets[url] = found
        return found

    def build(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        json: Any,
        content: bytes | str | None,
        data: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
    ) -> OutgoingRequest:
        """The request httpx would build. Raises ``UnicodeEncodeError`` (a non-ASCII header)
        and ``httpx.InvalidURL`` as httpx does; an illegal header is left for
        :func:`unsendable_header`, checked when sending, as httpx's HTTP engine does."""
        if content is not None and json is None:
            body = content.encode() if isinstance(content, str) else content
            content_type = None
        elif json is not None and content is None:
            body = compact_json(json)
            content_type = "application/json"
        else:
            body = b""
        shape = None
        if data is None and params is None and body:
            key = (method, url, content_type, tuple(headers.items()))
            shape = self._shapes.get(key, _UNKNOWN)
            if shape is _UNKNOWN:
                shape = self._shape(method, url, headers, content_type)
                if len(self._shapes) < _CACHE_SIZE:
                    self._shapes[key] = shape
        if shape is None:
            return self._built_by_httpx(client, method, url, json, content, data, params, headers)
        assert isinstance(shape, Shape)
        items = [*shape.before, ("content-length", str(len(body))), *shape.after]
        return OutgoingRequest(shape.method, shape.target.text, items, body, shape.target, shape)

    def _shape(
        self, method: str, url: str, headers: dict[str, str], content_type: str | None
    ) -> Shape | None:
        """What every request with these headers shares, or None when httpx builds them
        (see the module's docstring). Raises ``UnicodeEncodeError`` for a non-ASCII header."""
        lowered = {name.lower(): value for name, value in headers.items()}
        if (
            len(lowered) < len(headers)  # one name twice (in two cases): httpx keeps both
            or _BUILT_BY_HTTPX & lowered.keys()
        ):
            return None
        target = self.target(url)
        # As httpx merges: a default the connector sets again moves to the connector's place.
        merged = {name: value for name, value in self.default_headers if name not in lowered}
        for name, value in lowered.items():
            name.encode("ascii")
            value.encode("ascii")
            merged[name] = value
        before = [("host", target.host), *merged.items()]
        # httpx adds Content-Length after the connector's headers, then its Content-Type.
        after = (
            []
            if content_type is None or "content-type" in merged
            else [("content-type", content_type)]
        )
        checked = unsendable_header(before + after) is None
        return Shape(method.upper(), target, before, after, checked)

    def _built_by_httpx(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        json: Any,
        content: bytes | str | None,
        data: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
    ) -> OutgoingRequest:
        request = client.build_request(
            method, url, json=json, content=content, data=data, params=params, headers=headers
        )
        target = Target(request.url)
        return OutgoingRequest(
            request.method, target.text, request.headers.multi_items(), request.content, target
        )

    def unsendable(self, headers: list[tuple[str, str]]) -> httpx.LocalProtocolError | None:
        """The error httpx's HTTP engine (h11) raises for a header it will not send, else
        None (pairs found sendable are remembered, up to a bound)."""
        sendable = self._sendable
        for pair in headers:
            if pair not in sendable:
                error = unsendable_header([pair])
                if error is not None:
                    return error
                if len(sendable) < _CACHE_SIZE and pair[0].isascii() and pair[1].isascii():
                    sendable.add(pair)
        return None

    def masked_headers(self, redactor: Redactor, headers: list[tuple[str, str]]) -> dict[str, str]:
        """``redactor.headers(headers)``, each pair masked once per redactor generation."""
        return _masked_pairs(redactor, self._masks_for(redactor), headers)

    def masked_request(
        self, redactor: Redactor, sent: OutgoingRequest
    ) -> tuple[dict[str, str], str]:
        """``redactor.headers(sent.headers)`` and ``redactor.url(sent.url)``: for a request
        built here, what its shape shares is masked once per redactor generation, and only
        its length each time."""
        shape = sent.shape
        if shape is None:
            return self.masked_headers(redactor, sent.headers), self.masked_url(redactor, sent.url)
        masks = self._masks_for(redactor)
        found = self._shape_masks.get(shape)
        if found is None:
            found = (
                _masked_pairs(redactor, masks, shape.before),
                _masked_pairs(redactor, masks, shape.after),
                redactor.url(shape.target.text),
            )
            if len(self._shape_masks) < _CACHE_SIZE:
                self._shape_masks[shape] = found
        before, after, url = found
        length = _masked_pairs(redactor, masks, [sent.headers[len(shape.before)]])
        return {**before, **length, **after}, url

    def masked_url(self, redactor: Redactor, url: str) -> str:
        """``redactor.url(url)``, once per redactor generation."""
        self._masks_for(redactor)
        masked = self._masked_urls.get(url)
        if masked is None:
            masked = redactor.url(url)
            if len(self._masked_urls) < _URL_CACHE_SIZE:
                self._masked_urls[url] = masked
        return masked

    def _masks_for(self, redactor: Redactor) -> dict[tuple[str, str], str]:
        generation = redactor.generation
        owner, known = self._masks_of
        if owner is not redactor or known != generation:
            self._masks.clear()
            self._masked_urls.clear()
            self._shape_masks.clear()
            self._masks_of = (redactor, generation)
        return self._masks

    def carry(
        self,
        http: DestinationHTTP,
        method: str,
        path: str,
        json: Any,
        content: bytes | str | None,
        data: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
        raise_for_status: bool,
    ) -> Coroutine[Any, Any, Response]:
        """:meth:`DestinationHTTP.request` carried by this carrier (to be awaited)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close the carrier's connections."""


def _masked_pairs(
    redactor: Redactor, masks: dict[tuple[str, str], str], headers: list[tuple[str, str]]
) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in headers:
        masked = masks.get(pair)
        if masked is None:
            masked = redactor.header(*pair)
            if len(masks) < _CACHE_SIZE:
                masks[pair] = masked
        name = pair[0]
        result[name] = f"{result[name]}, {masked}" if name in result else masked
    return result


def unsendable_header(headers: list[tuple[str, str]]) -> httpx.LocalProtocolError | None:
    """The error httpx's HTTP engine (h11) raises for a header it will not send, else None."""
    for name, value in headers:
        if _TOKEN.fullmatch(name) is None:
            return httpx.LocalProtocolError("Illegal header name")
        if _FIELD_VALUE.fullmatch(value) is None:
            return httpx.LocalProtocolError("Illegal header value")
    return None
