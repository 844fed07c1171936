"""The built-in sandbox in its own process, so it never shares the tester's GIL.

In the tester's process the sandbox's server thread waits for the GIL while the UI thread lays
out and draws; measured on a 2-core machine, a loopback request took 16-20 ms that way against
about 1 ms from a separate process. :class:`SandboxProcess` starts ``python -m
tester_tui.sandbox_process`` (the same interpreter, so ``pip install -e .`` is all it needs): the
child starts ``sdk.testing.Sandbox`` on a free loopback port, prints its URL, and serves until its
standard input closes, which happens when the tester stops it or dies in any way, so no child
outlives its tester.

It is driven like the in-process one: ``url``, ``set_faults(Faults(...))`` and ``requests``
go through the sandbox's control endpoints (``/_sandbox/faults``, ``/_sandbox/requests``),
whose recorded requests have credential-named headers and query parameters masked.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdk.testing import Faults, RecordedRequest

__all__ = ["SandboxProcess", "main"]

_READY = "sandbox listening on "
#: How long the child may take to import sdk and listen (a loaded machine is slow).
_START_TIMEOUT = 60.0
_CONTROL_TIMEOUT = 10.0
#: Longest control answer read: the recorded requests, whose bodies the sandbox keeps within
#: 64 MB (``max_recorded_bytes``), base64 and JSON around them.
_MAX_CONTROL_BYTES = 128 * 1024 * 1024


class SandboxProcess:
    """``sdk.testing.Sandbox`` run in a child process; ``start()`` returns once it listens."""

    def __init__(self, *, start_timeout: float = _START_TIMEOUT) -> None:
        self.url = ""
        #: The child's command line (the same interpreter as the tester).
        self.command = [sys.executable, "-m", "tester_tui.sandbox_process"]
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[str] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=50)  # its last lines
        self._stderr_reader: threading.Thread | None = None

    def start(self) -> SandboxProcess:
        """Start the child and wait for its URL; ``RuntimeError`` with its last words if not."""
        process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._process = process
        assert process.stdout is not None and process.stderr is not None
        lines: queue.Queue[str] = queue.Queue()
        # Both pipes are read for as long as the child lives: a full pipe would block it.
        threading.Thread(target=_drain, args=(process.stdout, lines.put), daemon=True).start()
        self._stderr_reader = threading.Thread(
            target=_drain, args=(process.stderr, self._stderr.append), daemon=True
        )
        self._stderr_reader.start()
        try:
            line = lines.get(timeout=self._start_timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"no answer in {self._start_timeout:g} s") from None
        if not line.startswith(_READY):
            self.stop()
            self._stderr_reader.join(timeout=5)  # its last words, read to the end
            raise RuntimeError(self._last_words() or "it exited")
        self.url = line.removeprefix(_READY).strip()
        return self

    def _last_words(self) -> str:
        """The child's last line on stderr (a traceback's last line names the error)."""
        lines = [line.strip() for line in list(self._stderr) if line.strip()]
        return lines[-1] if lines else ""

    def stop(self) -> None:
        """Stop the child: its standard input closes (it exits), else it is terminated."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(Exception):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @property
    def running(self) -> bool:
        """Whether the child is alive."""
        return self._process is not None and self._process.poll() is None

    # -- the control endpoints -----------------------------------------------------------

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        # Imported here: start() runs on a thread while sdk is imported on another, and two
        # threads importing the same modules at once is best avoided.
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=_CONTROL_TIMEOUT) as response:
                raw = response.read(_MAX_CONTROL_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(4096).decode(errors="replace").strip()
            raise ValueError(f"sandbox {method} /_sandbox/{path}: {exc.code} {detail}") from None
        if len(raw) > _MAX_CONTROL_BYTES:
            raise ValueError(
                f"sandbox {method} /_sandbox/{path}: answer over {_MAX_CONTROL_BYTES} bytes"
            )
        text = raw.decode()
        return json.loads(text) if text.strip() else None

    def set_faults(self, faults: Faults | None) -> None:
        """Replace the fault plan (None: no faults), as ``Sandbox.set_faults`` does."""
        from sdk.testing import Faults

        self._control("PUT", "faults", (faults or Faults()).to_dict())

    @property
    def faults(self) -> Faults:
        """The fault plan in force."""
        from sdk.testing import Faults

        return Faults.from_dict(self._control("GET", "faults"))

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests recorded so far, oldest first (credentials masked; bodies decoded)."""
        from sdk.testing import RecordedRequest

        data = self._control("GET", "requests")
        items = data.get("requests", data) if isinstance(data, dict) else data
        recorded = []
        for item in items:
            text = item.get("body") or ""
            base64_body = item.get("body_encoding") == "base64"
            body = base64.b64decode(text) if base64_body else text.encode()
            headers = {k: v for k, v in item["headers"].items() if k != "content-encoding"}
            recorded.append(
                RecordedRequest(
                    method=item["method"],
                    path=item["path"],
                    query=item["query"],
                    headers=headers,
                    body=body,
                    json=item.get("json"),
                    received_at=item.get("received_at", 0.0),
                    request_id=item.get("request_id", ""),
                    status=item.get("status"),
                    fault=item.get("fault"),
                )
            )
        return recorded

    def clear(self) -> None:
        """Forget the recorded requests."""
        self._control("DELETE", "requests")


def _drain(stream: IO[str], sink: Callable[[str], object]) -> None:
    """Hand each line of the child's ``stream`` to ``sink`` until it closes, then ``""``."""
    with contextlib.suppress(Exception), stream:
        for line in stream:
            sink(line)
    sink("")


def main() -> int:
    """The child: serve ``sdk.testing.Sandbox`` on a free loopback port until stdin closes."""
    from sdk.testing import Sandbox

    sandbox = Sandbox()
    sandbox.start()
    try:
        sys.stdout.write(f"{_READY}{sandbox.url}\n")
        sys.stdout.flush()
        with contextlib.suppress(Exception):
            sys.stdin.read()  # returns at EOF: the tester stopped us, or is gone
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
