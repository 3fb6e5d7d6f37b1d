"""A KCI sink that answers every request ``204 No Content`` and counts them, as cheaply as it can.

The KCI dispatch figure is the simulator's, not the receiver's: this sink is an asyncio
protocol on its own thread and event loop, reading just enough of HTTP/1.1 (the header
block and its ``Content-Length``) to find where each request ends, on kept-alive
connections. It is a measuring device for the harness, not a gateway stand-in (that is
``fibresim receiver``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ANSWER = b"HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n"


@dataclass
class Tally:
    """Requests received, and when the first and the last of them arrived (monotonic seconds)."""

    count: int = 0
    first: float | None = None
    last: float | None = None

    def note(self) -> None:
        """Count one request."""
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.last = now
        self.count += 1

    def rate(self) -> float:
        """Requests per second between the first and the last."""
        if self.first is None or self.last is None or self.last <= self.first:
            return 0.0
        return (self.count - 1) / (self.last - self.first)


class _Sink(asyncio.Protocol):
    def __init__(self, tally: Tally, open_transports: set[asyncio.Transport]) -> None:
        self._tally = tally
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._open = open_transports

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._open.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self._buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            total = end + 4 + length
            if len(self._buffer) < total:
                return  # the body is still on its way
            self._buffer = self._buffer[total:]
            self._tally.note()
            assert self._transport is not None
            self._transport.write(ANSWER)


@contextmanager
def sink() -> Iterator[tuple[str, Tally]]:
    """Serve the sink on a free loopback port from a thread; yield its base URL and its tally."""
    tally = Tally()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, asyncio.Server] = {}
    open_transports: set[asyncio.Transport] = set()

    async def open_server() -> None:
        holder["server"] = await loop.create_server(lambda: _Sink(tally, open_transports), "127.0.0.1", 0)
        ready.set()

    def shut() -> None:
        # Connections the server accepted stay open after it stops listening: close them too.
        holder["server"].close()
        for transport in list(open_transports):
            transport.close()
        loop.call_soon(loop.stop)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(open_server())
        loop.run_forever()

    thread = threading.Thread(target=run, name="kci-sink", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the KCI sink did not start")
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", tally
    finally:
        loop.call_soon_threadsafe(shut)
        thread.join(10)
        loop.close()
