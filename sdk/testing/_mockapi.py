"""A mocked vendor API for contract checks: every request is answered by the contract's recorded
responses, with faults injected on demand, and every request is kept for assertions."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

__all__ = ["MockAPI", "decoded_body", "mock_api"]

Responder = Callable[[httpx.Request], httpx.Response]


def decoded_body(request: httpx.Request) -> Any:
    """A request's body as JSON when it is JSON (gunzipped first), else text, else ``None``."""
    content = request.content
    if not content:
        return None
    if request.headers.get("content-encoding", "").lower() == "gzip":
        content = gzip.decompress(content)
    text = content.decode(errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def default_success(request: httpx.Request) -> httpx.Response:
    """A generic 200 answer, for contracts that declare no recorded response."""
    return httpx.Response(200, json={"ok": True})


@dataclass(frozen=True)
class _Fault:
    """A fault answer that only applies to the requests ``where`` selects."""

    answer: Responder
    where: Callable[[httpx.Request], bool]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.answer(request)


@dataclass
class MockAPI:
    """The mocked API: ``faults`` are answered first, one per request, then ``respond``.

    A fault added with ``fail_with(..., where=...)`` is kept for the first request it selects;
    requests it does not select (an OAuth token call, say) go past it.
    """

    respond: Responder = default_success
    faults: list[Responder] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for index, fault in enumerate(self.faults):
            if not isinstance(fault, _Fault) or fault.where(request):
                del self.faults[index]
                return fault(request)
        return self.respond(request)

    def fail_with(
        self,
        status: int,
        *,
        times: int = 1,
        where: Callable[[httpx.Request], bool] | None = None,
        **kwargs: Any,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (``headers=``, ``json=``...);
        with ``where``, only requests it selects get the fault."""

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, **kwargs)

        fault: Responder = answer if where is None else _Fault(answer, where)
        self.faults.extend([fault] * times)

    def texts(self) -> list[str]:
        """Every request as text (method, URL, headers, decoded body), for searching."""
        out = []
        for request in self.requests:
            body = decoded_body(request)
            body_text = json.dumps(body) if not isinstance(body, str) else body
            headers = " ".join(f"{k}: {v}" for k, v in request.headers.items())
            out.append(f"{request.method} {request.url} {headers} {body_text}")
        return out


@contextmanager
def mock_api(respond: Responder | None = None) -> Iterator[MockAPI]:
    """Mock every HTTP call made through httpx while the block runs."""
    api = MockAPI(respond=respond or default_success)
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route().mock(side_effect=api.handle)
        yield api
