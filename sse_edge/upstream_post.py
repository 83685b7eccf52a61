"""A held-open HTTP/1.1 connection for POSTing client messages to one worker session.

One connection per upstream session (`http11.Http11Connection`, not the shared httpx client: on
the hot path of every `tools/call` the httpx layers were most of what the edge added), opened
on first use and kept alive; POSTs on it take turns (the worker answers 202 at once); a broken
connection is re-opened once per POST.
"""

from __future__ import annotations

import trio

from mcpfleet.errors import Unavailable
from sse_edge.http11 import EndOfMessage, Http11Connection, ProtocolError, Response, origin

CONNECT_TIMEOUT_SECONDS = 5.0
POST_TIMEOUT_SECONDS = 10.0
_MAX_ANSWER_BYTES = 1024 * 1024


class PostError(Unavailable):
    """The worker could not be reached or broke HTTP/1.1."""


class UpstreamPoster:
    """POSTs to one absolute URL over one kept-alive HTTP/1.1 connection."""

    def __init__(self, url: str) -> None:
        self.host, self.port, self.target, self.host_header = origin(url)
        self._http: Http11Connection | None = None
        self._lock = trio.Lock()

    async def post(self, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
        """POST `body` to the URL; return (HTTP status, response body). Raises PostError."""
        try:  # uncontended (one request at a time): no scheduling round before the send
            self._lock.acquire_nowait()
        except trio.WouldBlock:
            await self._lock.acquire()
        try:
            for attempt in (1, 2):
                fresh = self._http is None
                try:
                    with trio.fail_after(POST_TIMEOUT_SECONDS):
                        return await self._exchange(body, content_type)
                except (OSError, trio.BrokenResourceError, trio.ClosedResourceError, ProtocolError,
                        trio.TooSlowError) as err:
                    await self._drop()
                    if fresh or attempt == 2:
                        raise PostError(f"POST {self.host}:{self.port}{self.target}: {type(err).__name__}: {err}") \
                            from None
            raise AssertionError("unreachable")
        finally:
            self._lock.release()

    async def _exchange(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        if self._http is None:
            with trio.fail_after(CONNECT_TIMEOUT_SECONDS):
                self._http = await Http11Connection.open(self.host, self.port)
        http = self._http
        await http.request("POST", self.target, [
            ("Host", self.host_header), ("Content-Type", content_type), ("Content-Length", str(len(body))),
            ("Accept", "application/json, text/event-stream")], body)
        status = 0
        chunks: list[bytes] = []
        size = 0
        while not isinstance(event := await http.next_event(), EndOfMessage):
            if isinstance(event, Response):
                status = event.status_code
            else:
                size += len(event.data)
                if size <= _MAX_ANSWER_BYTES:
                    chunks.append(event.data)
        if not event.keep_alive:
            await self._drop()
        return status, b"".join(chunks)

    async def _drop(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    def close(self) -> None:
        """Forget the connection (sync: closes the socket now)."""
        http, self._http = self._http, None
        if http is not None:
            http.close_now()
