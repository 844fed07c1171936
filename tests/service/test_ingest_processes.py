"""``destkit serve --ingest-processes 2``: two processes serve ingest on one port (real HTTP,
real SQLite, real signals). Connections reach both; what both accept arrives at the sandbox;
``/metrics`` counts all of it whichever process answers; the backlog's 429 holds across them;
SIGTERM exits 0 with every process gone; a killed server leaves no ingest process answering; a
killed ingest process is started again."""

from __future__ import annotations

import http.client
import os
import re
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

from sdk.testing import Faults, Sandbox
from tests.service.conftest import WRITE_KEY, batch_of, config_text, delivered, wait_until
from tests.service.test_worker_process import _alive

AUTH = "Basic " + __import__("base64").b64encode(f"{WRITE_KEY}:".encode()).decode()


def _ingest_pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"ingest_started pid=(\d+)", log.read_text())]


def _owner(client_port: int, pids: list[int]) -> int | None:
    """The process (of ``pids``) holding the server's end of the loopback connection from
    ``client_port``: its socket's inode in /proc/net/tcp, then whose descriptor it is."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == client_port and fields[3] == "01":
                inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


def _connections(url: str, n: int) -> list[http.client.HTTPConnection]:
    parts = urlsplit(url)
    made = []
    for _ in range(n):
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.connect()
        made.append(connection)
    return made


def _post(connection: http.client.HTTPConnection, ids: list[str]) -> int:
    body = orjson.dumps(batch_of(ids, f"u-{ids[0]}"))
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    connection.request("POST", "/v1/batch", body, headers)
    answer = connection.getresponse()
    answer.read()
    return answer.status


def _server_ends(server, connections: list[http.client.HTTPConnection]) -> set[int | None]:
    pids = [server.proc.pid, *_ingest_pids(server.log)]
    return {_owner(c.sock.getsockname()[1], pids) for c in connections}


def test_two_ingest_processes_share_the_port_and_everything_they_accept_arrives(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    server = serve_process(config_text(sandbox.url), "--ingest-processes", "2").start()
    children = _ingest_pids(server.log)
    assert len(children) == 1
    log = server.log.read_text()
    assert log.count(" started address=") == 1  # one "started", one "listening" line
    connections = _connections(server.url, 16)
    ids: list[str] = []
    for k, connection in enumerate(connections):
        batch = [f"c{k}-{i}" for i in range(5)]
        assert _post(connection, batch) == 200
        ids += batch
    # Both processes hold some of the 16 connections (the kernel's hash: all on one is a
    # 1 in 30,000 chance), so both accepted messages.
    assert _server_ends(server, connections) == {server.proc.pid, children[0]}
    assert wait_until(lambda: len(delivered(sandbox)) == len(ids), timeout=20)
    assert sorted(m["messageId"] for m in delivered(sandbox)) == sorted(ids)

    # /metrics counts every accepted message, whichever process answers it.
    expected = f'destkit_accepted_total{{source="web"}} {float(len(ids))}'
    for connection in connections:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        assert expected in text, text
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() == b'{"ok": true}'
    assert _post(connections[0], ["after-metrics"]) == 200  # still keep-alive after /metrics
    for connection in connections:
        connection.close()
    assert server.terminate() == 0
    assert not _alive(children[0])  # SIGTERM stopped the ingest process too
    log = server.log.read_text()
    assert "ingest_exited" not in log
    assert WRITE_KEY not in log


def test_the_backlog_429_holds_in_every_ingest_process(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    sandbox.set_faults(Faults(status=503))  # nothing is delivered: every job stays pending
    config = config_text(sandbox.url, delivery="max_backlog: 40")
    server = serve_process(config, "--ingest-processes", "2").start()
    children = _ingest_pids(server.log)
    connections = _connections(server.url, 16)
    assert _post(connections[0], [f"b{i}" for i in range(50)]) == 200  # past the backlog now
    time.sleep(0.3)  # the other process reads the shared count again within 0.1 s
    answers = [_post(c, [f"late-{k}"]) for k, c in enumerate(connections[1:])]
    assert answers == [429] * 15
    assert _server_ends(server, connections) == {server.proc.pid, children[0]}

    def counted() -> bool:  # an ingest process sends its counts within 10 ms
        text = httpx.get(f"{server.url}/metrics").text
        return 'destkit_rejected_total{reason="backlog"} 15.0' in text

    assert wait_until(counted, timeout=5)
    assert "destkit_queue_depth 50.0" in httpx.get(f"{server.url}/metrics").text
    for connection in connections:
        connection.close()
    assert server.terminate() == 0


def test_a_killed_server_leaves_no_ingest_process_answering(
    sandbox: Sandbox, tmp_path: Path, serve_process
):
    server = serve_process(config_text(sandbox.url), "--ingest-processes", "3").start()
    children = _ingest_pids(server.log)
    assert len(children) == 2
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    assert wait_until(lambda: not any(_alive(pid) for pid in children), timeout=10)
    try:
        httpx.post(f"{server.url}/v1/batch", json=batch_of(["z"]), auth=(WRITE_KEY, ""))
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("something still answers on the killed server's port")
    # A new server takes over the data directory and delivers.
    server.start()
    answer = httpx.post(f"{server.url}/v1/batch", json=batch_of(["k1"]), auth=(WRITE_KEY, ""))
    assert answer.status_code == 200
    assert wait_until(lambda: len(delivered(sandbox)) == 1, timeout=15)
    assert server.terminate() == 0


def test_a_killed_ingest_process_is_started_again(sandbox: Sandbox, tmp_path: Path, serve_process):
    server = serve_process(config_text(sandbox.url), "--ingest-processes", "2").start()
    first = _ingest_pids(server.log)[0]
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: len(_ingest_pids(server.log)) == 2, timeout=15)
    assert f"ingest_exited pid={first} code=-9" in server.log.read_text()
    ids = [f"after-{k}" for k in range(8)]
    for connection, one in zip(_connections(server.url, 8), ids, strict=True):
        assert _post(connection, [one]) == 200
        connection.close()
    assert wait_until(lambda: len(delivered(sandbox)) == 8, timeout=15)
    second = _ingest_pids(server.log)[1]
    assert server.terminate() == 0
    assert not _alive(second)


def test_ingest_processes_is_checked_on_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "serve.yaml"
    config.write_text(config_text("http://127.0.0.1:9"))
    argv = [sys.executable, "-m", "sdk.cli", "serve", "--config", str(config)]
    done = subprocess.run(
        [*argv, "--ingest-processes", "0"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "--ingest-processes: must be a whole number 1 to 64" in done.stderr


def test_durability_full_with_two_ingest_processes(sandbox: Sandbox, tmp_path: Path, serve_process):
    # Each ingest process commits on its writer thread (an fsync a commit), taking turns on
    # the write lock there.
    config = config_text(sandbox.url, delivery="durability: full")
    server = serve_process(config, "--ingest-processes", "2").start()
    connections = _connections(server.url, 16)
    ids = [f"f{k}" for k in range(len(connections))]
    assert [_post(c, [one]) for c, one in zip(connections, ids, strict=True)] == [200] * 16
    assert _server_ends(server, connections) == {server.proc.pid, *_ingest_pids(server.log)}
    assert wait_until(lambda: len(delivered(sandbox)) == 16, timeout=15)
    assert sorted(m["messageId"] for m in delivered(sandbox)) == sorted(ids)
    for connection in connections:
        connection.close()
    assert server.terminate() == 0
