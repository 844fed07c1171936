"""Fixtures for the delivery service: a sandbox destination, a service in this process (real
HTTP on loopback, real SQLite), and ``destkit serve`` as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdk.service import Service, ServiceConfig, ServiceLog, parse_config
from sdk.testing import Sandbox

WRITE_KEY = "test-write-key"


def config_text(endpoint: str, *, delivery: str = "", extra_destinations: str = "") -> str:
    """A config with one source and the sandbox (as "Sandbox") at ``endpoint``."""
    text = f"""
sources:
  - name: web
    write_key: {WRITE_KEY}
destinations:
  - name: Sandbox
    connector: sandbox
    settings: {{endpoint: "{endpoint}"}}
{extra_destinations}
"""
    if delivery:
        text += "delivery:\n" + "".join(f"  {line}\n" for line in delivery.splitlines())
    return text


def delivered(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every message the sandbox answered 200 for, in arrival order."""
    found: list[dict[str, Any]] = []
    for request in sandbox.requests:
        if request.status != 200 or not isinstance(request.json, dict):
            continue
        if request.path.endswith("/v1/batch"):
            found.extend(request.json["batch"])
        else:
            found.append(request.json)
    return found


def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``condition()`` until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


async def until(condition: Any, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """``wait_until`` for tests whose service runs in this event loop (it must keep running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(interval)
    return bool(condition())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as server:
        yield server


class Running:
    """A service running in this process's event loop, and a client for it."""

    def __init__(self, service: Service, url: str, client: httpx.AsyncClient) -> None:
        self.service = service
        self.url = url
        self.client = client

    async def post(self, path: str, document: Any, **kw: Any) -> httpx.Response:
        kw.setdefault("auth", (WRITE_KEY, ""))
        return await self.client.post(f"{self.url}{path}", json=document, **kw)


@contextlib.asynccontextmanager
async def running(
    config: ServiceConfig | str, data: Path, *, workers: bool = True
) -> AsyncIterator[Running]:
    """Start a service on a free port; stop it (as SIGTERM would) on the way out."""
    if isinstance(config, str):
        config = parse_config(config)
    log_lines = data.parent / f"{data.name}.log"
    with log_lines.open("a") as stream:
        service = Service(config, data, log=ServiceLog(stream), workers=workers)
        host, port = await service.start("127.0.0.1", 0)
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                yield Running(service, f"http://{host}:{port}", client)
            finally:
                await service.stop()


class ServeProcess:
    """``destkit serve`` as a subprocess (real signals, real kill -9)."""

    def __init__(self, config: Path, data: Path, log: Path, args: tuple[str, ...] = ()) -> None:
        self.config = config
        self.data = data
        self.log = log
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> ServeProcess:
        argv = [sys.executable, "-m", "sdk.cli", "serve", "--config", str(self.config)]
        argv += ["--port", "0", "--data", str(self.data), *self.args]
        with self.log.open("a") as errors:
            self.proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=dict(os.environ)
            )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        assert first.startswith("listening on http://"), (first, self.log.read_text())
        self.url = first.removeprefix("listening on ")
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout)


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Any]:
    """A factory of ``destkit serve`` subprocesses; every one left running is killed."""
    made: list[ServeProcess] = []

    def make(config_body: str, *args: str) -> ServeProcess:
        config = tmp_path / "serve.yaml"
        config.write_text(config_body)
        process = ServeProcess(config, tmp_path / "data", tmp_path / "serve.log", args)
        made.append(process)
        return process

    yield make
    for process in made:
        if process.proc is not None and process.proc.poll() is None:
            process.kill()


def batch_of(ids: list[str], user: str = "u1") -> dict[str, Any]:
    """A ``/v1/batch`` document of track messages with these message ids."""
    return {
        "batch": [
            {"type": "track", "event": "Clicked", "userId": user, "messageId": i} for i in ids
        ]
    }


def dumps(document: Any) -> bytes:
    return json.dumps(document).encode()


class BatchStream:
    """Posts ``/v1/batch`` requests of 20 messages from a thread until stopped (or its server is
    gone), remembering every id it sent and every id answered 200: the crash tests' client."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.accepted: set[str] = set()
        self._counter = 0

    def start(self, url: str, tag: int) -> tuple[threading.Event, threading.Thread]:
        """A running sender to ``url`` (ids ``r<tag>-<n>``); set the event and join to stop it."""
        stop = threading.Event()
        sender = threading.Thread(target=self._send, args=(url, stop, tag))
        sender.start()
        return stop, sender

    def _send(self, url: str, stop: threading.Event, tag: int) -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                ids = [f"r{tag}-{self._counter + i}" for i in range(20)]
                self._counter += 20
                self.sent.update(ids)
                try:
                    answer = client.post(
                        f"{url}/v1/batch",
                        json=batch_of(ids, f"u{self._counter % 7}"),
                        auth=(WRITE_KEY, ""),
                    )
                except httpx.HTTPError:
                    return
                if answer.status_code == 200:
                    self.accepted.update(ids)
