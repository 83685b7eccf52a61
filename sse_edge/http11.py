"""One client-side HTTP/1.1 connection to a worker: a trio TCP stream, requests written as bytes,
answers parsed by httptools (llhttp, the parser uvicorn uses).

Why not httpx or h11 on the session path: every forwarded message crosses it twice (the POST and
the answer on the SSE stream). On this machine an httpx POST costs ~1.3 ms of CPU, an h11
exchange ~0.19 ms, and this ~0.01 ms (bench/results.md). Requests here are ours (method, path
and headers the edge chose, the path checked for control characters), so writing them needs no
general-purpose encoder; answers come from a worker and are parsed by the library. The edge's
shared httpx client still serves the rare paths (forwarding to a peer edge, sessionless requests).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools
import trio

RECEIVE_BYTES = 65536
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


class ProtocolError(Exception):
    """The worker's answer broke HTTP/1.1."""


@dataclass(frozen=True)
class Response:
    """The status line and headers of an answer have arrived."""

    status_code: int


@dataclass(frozen=True)
class Data:
    """A piece of the answer's body (chunked transfer coding already removed)."""

    data: bytes


@dataclass(frozen=True)
class EndOfMessage:
    """The answer is complete; `keep_alive` says whether the connection may carry another."""

    keep_alive: bool


Event = Response | Data | EndOfMessage


class Http11Connection:
    """An open connection to a worker. `request()` sends one request; `next_event()` returns the
    next event of its answer (Response, then Data..., then EndOfMessage), reading as needed.
    Raises trio.BrokenResourceError when the peer closes mid-answer, OSError on socket errors,
    ProtocolError when the answer breaks HTTP/1.1."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self._events: deque[Event] = deque()
        self._parser = httptools.HttpResponseParser(self)

    @classmethod
    async def open(cls, host: str, port: int) -> Http11Connection:
        """Connect (unbounded: wrap in a deadline). Raises OSError when nobody listens."""
        return cls(await trio.open_tcp_stream(host, port))

    async def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        """Send one request (`target` from `origin`; add Content-Length to `headers` for a body)."""
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        await self.stream.send_all(head.encode("latin-1") + body)

    async def next_event(self) -> Event:
        """The next event of the answer being received."""
        while not self._events:
            data = await self.stream.receive_some(RECEIVE_BYTES)
            if not data:
                raise trio.BrokenResourceError("worker closed the connection")
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserError as err:
                raise ProtocolError(f"worker broke HTTP/1.1: {err}") from None
        return self._events.popleft()

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self._events.append(Response(self._parser.get_status_code()))

    def on_body(self, body: bytes) -> None:
        self._events.append(Data(body))

    def on_message_complete(self) -> None:
        self._events.append(EndOfMessage(self._parser.should_keep_alive()))

    async def aclose(self) -> None:
        """Close the socket (shielded: safe in cancelled code)."""
        with trio.CancelScope(shield=True):
            await self.stream.aclose()

    def close_now(self) -> None:
        """Close the socket synchronously (for non-async cleanup paths)."""
        try:
            self.stream.socket.close()
        except OSError:
            pass


def origin(url: str) -> tuple[str, int, str, str]:
    """(host, port, request target with query, Host header) of an absolute http URL. Raises
    ValueError when the target or host holds spaces or control characters."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if _UNSAFE.search(target) or _UNSAFE.search(parts.netloc):
        raise ValueError(f"unsafe characters in URL {url!r}")
    return parts.hostname or "127.0.0.1", parts.port or 80, target, parts.netloc
