"""``Delivery``: the synchronous twin of :class:`AsyncDelivery`, on a private event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from sdk.connector._destination import AnyMessage, Destination
from sdk.delivery._async import AsyncDelivery
from sdk.delivery._client import HTTPBackend
from sdk.delivery._engine import Clock, Event, Listener, SettingsT, Sleep
from sdk.delivery._results import DeliveryResult, Record
from sdk.delivery._stream import StreamRun
from sdk.transport._lifecycle import Lifecycle
from sdk.transport._retry import RetryPolicy

__all__ = ["Delivery"]

T = TypeVar("T")


class Delivery(Generic[SettingsT]):
    """The synchronous twin of :class:`AsyncDelivery`: same names, same arguments.

    It runs its own event loop. Called from a thread where an event loop is already running (a
    Jupyter notebook, an async web handler), it runs that loop on a worker thread and blocks
    until the call is done, rather than refusing.
    """

    def __init__(
        self,
        destination: Destination[SettingsT],
        settings: SettingsT | Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        on_update: Listener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 8,
        batching: bool = True,
        clock: Clock = time.monotonic,
        http: HTTPBackend = "auto",
    ) -> None:
        self._runner = asyncio.Runner()
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        async_sleep: Sleep = asyncio.sleep
        if sleep is not None:
            blocking = sleep

            async def async_sleep(seconds: float) -> None:
                blocking(seconds)

        async def build() -> AsyncDelivery[SettingsT]:
            return AsyncDelivery(
                destination,
                settings,
                retry=retry,
                sleep=async_sleep,
                on_update=on_update,
                transport=transport,
                concurrency=concurrency,
                batching=batching,
                clock=clock,
                http=http,
            )

        try:
            self._async = self._run(build())
        except BaseException:
            self._shutdown()
            raise
        self.destination = destination
        self.settings = self._async.settings

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the private loop: here, or on the worker thread when this thread already
        runs an event loop (``asyncio.Runner.run`` refuses to nest)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if self._worker is None:
                return self._runner.run(coroutine)
        if self._worker is None:
            # One worker, kept: the loop, and the pooled connections bound to it, stay on it.
            self._worker = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="destkit-delivery"
            )
        return self._worker.submit(self._runner.run, coroutine).result()

    def _shutdown(self) -> None:
        try:
            if self._worker is not None:
                self._worker.submit(self._runner.close).result()
            else:
                self._runner.close()
        finally:
            if self._worker is not None:
                self._worker.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled HTTP client and the private event loop."""
        try:
            self._run(self._async.aclose())
        finally:
            self._shutdown()

    def send(self, event: AnyMessage | Mapping[str, Any]) -> Lifecycle:
        """Deliver one event and return its lifecycle."""
        return self._run(self._async.send(event))

    def send_many(self, events: Iterable[AnyMessage | Mapping[str, Any]]) -> list[Lifecycle]:
        """Deliver events, batching where the action allows; one lifecycle per event."""
        return self._run(self._async.send_many(list(events)))

    def stream(
        self,
        events: Iterable[Event] | AsyncIterable[Event],
        *,
        window: int | None = None,
        record: Record = "failures",
        linger: float = 0.05,
    ) -> Iterator[DeliveryResult]:
        """Deliver events as they are pulled, yielding one result per event as it settles;
        see :meth:`AsyncDelivery.stream` (same arguments). Delivery runs while the loop waits
        for results: between two results taken, nothing is sent."""

        async def start() -> StreamRun:
            return self._async.open_stream(events, window=window, record=record, linger=linger)

        run = self._run(start())
        try:
            while results := self._run(run.next_results()):
                yield from results
        finally:
            self._run(run.aclose())

    def test_authentication(self) -> Lifecycle:
        """Run the destination's credentials check once and record it."""
        return self._run(self._async.test_authentication())
