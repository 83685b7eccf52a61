"""The edge's side of a worker's legacy HTTP+SSE MCP transport.

One upstream SSE session per client session, held for the life of the client session: a task
reads the worker's `GET /sse` stream, learns the worker's messages URL from its `endpoint`
event, and hands each upstream `message` event's data to the client side through a channel.
Client messages are POSTed to that messages URL over a kept-alive connection of the session's
own (`upstream_post`); the SSE streams use one shared `httpx.AsyncClient` per edge (`make_client`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import trio

from mcpfleet.errors import Unavailable
from sse_edge.sse_frames import SSEParser, SSEProtocolError
from sse_edge.upstream_post import PostError, UpstreamPoster

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
"""Bound on connecting to a worker and receiving its `endpoint` event."""
POST_TIMEOUT_SECONDS = 10.0
"""Bound on each forwarded POST (the worker answers 202 as soon as it has queued the message)."""
CHANNEL_SIZE = 32
"""Upstream messages buffered per session before the upstream read waits for the client."""


_SSE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
_STREAM_TIMEOUT = httpx.Timeout(POST_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS, read=None)


class UpstreamError(Unavailable):
    """The worker could not be reached, refused the session, or broke the SSE protocol."""


def make_client() -> httpx.AsyncClient:
    """The edge's shared HTTP client: unbounded pool (each open upstream SSE stream holds one
    connection for its lifetime), keep-alive for POSTs, no environment proxies, no redirects."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(POST_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=100, keepalive_expiry=30.0),
        trust_env=False,
        follow_redirects=False,
    )


@dataclass
class UpstreamSession:
    """One open upstream SSE session.

    `messages` yields the data (str, a JSON-RPC message) of each upstream `message` event and
    ends (EndOfChannel) when the upstream stream ends, fails, or `close()` is called.
    `messages_url` is the absolute URL client messages are POSTed to.
    """

    sse_url: str
    messages_url: str
    messages: trio.MemoryReceiveChannel[str]
    cancel_scope: trio.CancelScope
    ended: trio.Event = field(default_factory=trio.Event)
    end_reason: str = ""
    poster: UpstreamPoster = field(init=False)

    def __post_init__(self) -> None:
        self.poster = UpstreamPoster(self.messages_url)

    def close(self) -> None:
        """End the upstream stream now: the reader stops and `messages` then ends with
        EndOfChannel. Synchronous and idempotent, so it is safe inside cancelled code. (The
        consumer closes `messages` itself: closing it under a waiting receive() would raise
        ClosedResourceError there instead of EndOfChannel.)"""
        self.cancel_scope.cancel()


async def open_upstream(
    nursery: trio.Nursery, client: httpx.AsyncClient, sse_url: str, *,
    timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> UpstreamSession:
    """Connect to the worker's SSE endpoint `sse_url` and return the running session.

    The reader task runs in `nursery` until the stream ends or the session is closed.
    Raises UpstreamError if the worker is unreachable, answers non-200, sends no `endpoint`
    event within `timeout` seconds, or names a messages URL on another origin.
    """
    try:
        with trio.fail_after(timeout):
            session: UpstreamSession = await nursery.start(_run_session, client, sse_url)
    except trio.TooSlowError:
        raise UpstreamError(f"worker at {sse_url} sent no endpoint event within {timeout:g} s") from None
    return session


async def _run_session(
    client: httpx.AsyncClient, sse_url: str, *, task_status: trio.TaskStatus[UpstreamSession]
) -> None:
    send, receive = trio.open_memory_channel[str](CHANNEL_SIZE)
    scope = trio.CancelScope()
    session: UpstreamSession | None = None
    reason = "cancelled"
    try:
        async with send:
            with scope:
                try:
                    async with client.stream(
                        "GET", sse_url, headers=_SSE_HEADERS, timeout=_STREAM_TIMEOUT
                    ) as resp:
                        if resp.status_code != 200:
                            raise UpstreamError(f"worker at {sse_url} answered HTTP {resp.status_code}")
                        parser = SSEParser()
                        encoded = resp.headers.get("content-encoding", "identity") != "identity"
                        chunks = resp.aiter_bytes() if encoded else resp.aiter_raw()
                        async for chunk in chunks:
                            for event in parser.feed(chunk):
                                if event.event == "message":
                                    if session is not None:
                                        await send.send(event.data)
                                elif event.event == "endpoint" and session is None:
                                    url = _messages_url(sse_url, event.data)
                                    session = UpstreamSession(sse_url, url, receive, scope)
                                    task_status.started(session)
                    reason = "upstream stream ended"
                except (httpx.HTTPError, SSEProtocolError) as err:
                    if session is None:
                        raise UpstreamError(f"worker at {sse_url}: {type(err).__name__}: {err}") from err
                    reason = f"upstream failed: {type(err).__name__}: {err}"
                except trio.BrokenResourceError:
                    reason = "client side closed"
                if session is None:
                    raise UpstreamError(f"worker at {sse_url} closed the stream before its endpoint event")
    except Exception:
        if session is None:
            receive.close()
            raise
        # After started() this task lives in the edge's nursery: an error here must not kill it.
        log.exception("upstream session %s failed", sse_url)
        reason = "upstream reader crashed"
    finally:
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
    return url


@dataclass(frozen=True)
class PostAnswer:
    """The worker's answer to a forwarded POST (202 with an empty or short body, normally)."""

    status_code: int
    content: bytes


async def post_message(client: httpx.AsyncClient | None, session: UpstreamSession, body: bytes) -> PostAnswer:
    """POST one client message (`body`, JSON bytes) to the worker over the session's own
    kept-alive connection (`upstream_post`; `client` is unused, kept for callers); return its
    answer. Raises UpstreamError when the worker cannot be reached or does not answer within
    POST_TIMEOUT_SECONDS."""
    try:
        status, content = await session.poster.post(body)
    except PostError as err:
        raise UpstreamError(f"worker at {session.messages_url}: {err}") from err
    return PostAnswer(status, content)
