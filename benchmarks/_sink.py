"""A minimal loopback HTTP sink for the benchmarks: answers every request ``200 {}`` (an OAuth token
for ``.../token`` and a job name for ``...offlineUserDataJobs:create``, so the list connectors
run through) over
keep-alive HTTP/1.1, counting nothing, in its own process (so it does not share the client's
GIL). Prints ``listening on http://127.0.0.1:PORT`` and serves until killed.

Run: ``python benchmarks/_sink.py [--port 0]``
"""

from __future__ import annotations

import argparse
import asyncio


def _answer(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


_ANSWER = _answer(b"{}")
#: What the list connectors' set-up calls need to read: an OAuth token, a job's name.
_TOKEN = _answer(b'{"access_token":"sink-token","expires_in":3600,"token_type":"Bearer"}')


def _job(target: bytes) -> bytes:
    """``.../customers/CID/offlineUserDataJobs:create`` -> that customer's job name."""
    parts = target.split(b"/")
    cid = parts[parts.index(b"customers") + 1] if b"customers" in parts else b"1"
    return _answer(b'{"resourceName":"customers/' + cid + b'/offlineUserDataJobs/1"}')


#: Largest request head or body accepted (a bench never sends more).
_MAX_BYTES = 64 * 1024 * 1024


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_BYTES:
                    self._close()
                return
            length = 0
            lines = bytes(buffer[:end]).split(b"\r\n")
            target = lines[0].split(b" ")[1] if b" " in lines[0] else b""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length > _MAX_BYTES:
                self._close()
                return
            total = end + 4 + length
            if len(buffer) < total:
                return
            del buffer[:total]
            assert self._transport is not None
            if target.endswith(b"/token"):
                self._transport.write(_TOKEN)
            elif target.endswith(b"offlineUserDataJobs:create"):
                self._transport.write(_job(target))
            else:
                self._transport.write(_ANSWER)

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Sink, "127.0.0.1", port, backlog=512)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on http://127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback sink answering 200 {}.")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
