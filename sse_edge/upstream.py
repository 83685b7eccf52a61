"""The edge's side of a worker's legacy HTTP+SSE MCP transport.

One upstream SSE session per client session, held for the life of the client session: a task
reads the worker's `GET /sse` stream, learns the worker's messages URL from its `endpoint`
event, and hands each upstream `message` event's data to the client side's handler.
Client messages are POSTed to that messages URL over a kept-alive connection of the session's
own (`upstream_post`). Both connections are hand-driven HTTP/1.1 (`http11`), not httpx: every
forwarded message crosses them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import trio

from mcpfleet.errors import Unavailable
from sse_edge.http11 import Data, Http11Connection, ProtocolError, Response, origin
from sse_edge.sse_frames import SSEParser, SSEProtocolError
from sse_edge.upstream_post import PostError, UpstreamPoster

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
"""Bound on connecting to a worker and receiving its `endpoint` event."""


_SSE_HEADERS = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]


class UpstreamError(Unavailable):
    """The worker could not be reached, refused the session, or broke the SSE protocol."""


MessageHandler = Callable[[str], None]
"""Called (synchronously, in the reader task) with the data of each upstream `message` event."""


@dataclass
class UpstreamSession:
    """One open upstream SSE session. Its reader hands each upstream `message` event's data (str,
    a JSON-RPC message) to the session's MessageHandler as it arrives (no channel, no extra task
    switch: every answer crosses this path). `ended` is set when the stream ends, fails or
    `close()` is called; `messages_url` is the absolute URL client messages are POSTed to.
    """

    sse_url: str
    messages_url: str
    cancel_scope: trio.CancelScope
    ended: trio.Event = field(default_factory=trio.Event)
    end_reason: str = ""
    poster: UpstreamPoster = field(init=False)

    def __post_init__(self) -> None:
        self.poster = UpstreamPoster(self.messages_url)

    def close(self) -> None:
        """End the upstream stream now (sync, idempotent: safe inside cancelled code)."""
        self.cancel_scope.cancel()


async def open_upstream(nursery: trio.Nursery, sse_url: str, on_message: MessageHandler, *,
                        timeout: float = CONNECT_TIMEOUT_SECONDS) -> UpstreamSession:
    """Connect to the worker's SSE endpoint `sse_url` and return the running session; its
    messages go to `on_message`. The reader task runs in `nursery` until the stream ends or the
    session is closed. Raises UpstreamError if the worker is unreachable, answers non-200, sends
    no `endpoint` event within `timeout` seconds, or names a messages URL on another origin.
    """
    try:
        with trio.fail_after(timeout):
            session: UpstreamSession = await nursery.start(_run_session, sse_url, on_message)
    except trio.TooSlowError:
        raise UpstreamError(f"worker at {sse_url} sent no endpoint event within {timeout:g} s") from None
    return session


async def _run_session(sse_url: str, on_message: MessageHandler, *,
                       task_status: trio.TaskStatus[UpstreamSession]) -> None:
    scope = trio.CancelScope()
    session: UpstreamSession | None = None
    reason = "cancelled"
    host, port, target, host_header = origin(sse_url)
    http: Http11Connection | None = None
    try:
        with scope:
            try:
                http = await Http11Connection.open(host, port)
                await http.request("GET", target, [("Host", host_header), *_SSE_HEADERS])
                response = await http.next_event()
                if not isinstance(response, Response) or response.status_code != 200:
                    status = getattr(response, "status_code", "without a status line")
                    raise UpstreamError(f"worker at {sse_url} answered HTTP {status}")
                parser = SSEParser()
                while isinstance(chunk := await http.next_event(), Data):
                    for event in parser.feed(chunk.data):
                        if event.event == "message":
                            if session is not None:
                                on_message(event.data)
                        elif event.event == "endpoint" and session is None:
                            session = UpstreamSession(sse_url, _messages_url(sse_url, event.data), scope)
                            task_status.started(session)
                reason = "upstream stream ended"
            except (OSError, ProtocolError, SSEProtocolError) as err:
                if session is None:
                    raise UpstreamError(f"worker at {sse_url}: {type(err).__name__}: {err}") from err
                reason = f"upstream failed: {type(err).__name__}: {err}"
            except trio.BrokenResourceError as err:
                if session is None:
                    raise UpstreamError(f"worker at {sse_url}: {err}") from err
                reason = "upstream stream ended"
            if session is None:
                raise UpstreamError(f"worker at {sse_url} closed the stream before its endpoint event")
    except Exception:
        if session is None:
            raise
        # After started() this task lives in the edge's nursery: an error here must not kill it.
        log.exception("upstream session %s failed", sse_url)
        reason = "upstream reader crashed"
    finally:
        if http is not None:
            http.close_now()
        if session is not None:
            session.end_reason = reason
            session.ended.set()
            session.poster.close()
            log.debug("upstream session %s ended: %s", sse_url, reason)


def _messages_url(sse_url: str, endpoint_data: str) -> str:
    url = urljoin(sse_url, endpoint_data.strip())
    a, b = urlsplit(sse_url), urlsplit(url)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        raise UpstreamError(f"worker at {sse_url} named a messages URL on another origin: {url}")
    try:
        origin(url)
    except ValueError as err:
        raise UpstreamError(f"worker at {sse_url} named a bad messages URL: {err}") from None
    return url


@dataclass(frozen=True)
class PostAnswer:
    """The worker's answer to a forwarded POST (202 with an empty or short body, normally)."""

    status_code: int
    content: bytes


async def post_message(session: UpstreamSession, body: bytes) -> PostAnswer:
    """POST one client message (`body`, JSON bytes) to the worker over the session's own
    kept-alive connection (`upstream_post`); return its answer. Raises UpstreamError when the
    worker cannot be reached or does not answer within `upstream_post.POST_TIMEOUT_SECONDS`."""
    try:
        status, content = await session.poster.post(body)
    except PostError as err:
        raise UpstreamError(f"worker at {session.messages_url}: {err}") from err
    return PostAnswer(status, content)
