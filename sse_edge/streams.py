"""Client event streams in raw ASGI (no framework between a worker's message and the socket):
legacy SSE `GET /workspaces/<ws>/sse` and Streamable HTTP `GET /workspaces/<ws>/mcp`.

- `GET .../sse`: resolve the workspace, open a client session with ONE upstream session to its
  worker, answer with an event stream whose first event, `endpoint`, names the edge's own
  messages URL (honouring the ASGI root path and `X-Forwarded-Prefix`); then the session's
  messages, with a keep-alive comment every `keepalive_seconds`. No response timeout. A client
  that goes away ends the session (and its upstream) at once; a session the edge ends (slow
  reader, shutdown, workspace deleted) ends the stream with a final comment giving the reason.
- `GET .../mcp` with `Mcp-Session-Id`: the same stream without `endpoint` (one per session: 409).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import trio

from mcpfleet.workspace import NAME_RE
from sse_edge.edge import Edge
from sse_edge.posts import HttpError, header, resolve_route
from sse_edge.proxy_session import ProxySession
from sse_edge.sse_frames import encode_comment, encode_event
from sse_edge.upstream import UpstreamError

log = logging.getLogger(__name__)

SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
               (b"x-accel-buffering", b"no")]
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*/?$")
_PING = encode_comment("ping")
_DRAIN_MAX = 64  # queued messages written to the client in one send, at most


def path_prefix(scope: dict[str, Any]) -> str:
    """The path prefix clients see: `X-Forwarded-Prefix` when present and well-formed, else the
    ASGI root_path; no trailing slash."""
    forwarded = header(scope, "x-forwarded-prefix")
    if forwarded is not None and _PREFIX_RE.match(forwarded):
        return forwarded.rstrip("/")
    return str(scope.get("root_path") or "").rstrip("/")


async def sse_get(edge: Edge, scope: Any, receive: Any, send: Any, workspace: str) -> None:
    """`GET /workspaces/<ws>/sse`. Raises HttpError for refusals (404, 502, 503)."""
    if not NAME_RE.match(workspace):
        raise HttpError(404, f"workspace {workspace!r} not found")
    if edge.closing:
        raise HttpError(503, "edge is shutting down", headers=[(b"retry-after", b"1")])
    route = await resolve_route(edge, workspace)
    try:
        session = await edge.open_session(workspace, route, streaming_client=True)
    except UpstreamError as err:
        log.warning("workspace %s: %s", workspace, err)
        raise HttpError(502, f"workspace {workspace!r} worker unreachable", headers=[(b"retry-after", b"2")]) \
            from None
    session.stream_attached = True
    endpoint = f"{path_prefix(scope)}/workspaces/{workspace}/messages?session_id={session.session_id}"
    try:
        await _stream(edge, session, receive, send, encode_event("endpoint", endpoint))
    finally:
        edge.end_session(session.session_id)


async def mcp_get(edge: Edge, scope: Any, receive: Any, send: Any, workspace: str) -> None:
    """`GET /workspaces/<ws>/mcp`: the session's server-to-client stream. Raises HttpError 404/409."""
    found = edge.sessions.lookup(header(scope, "mcp-session-id"), workspace)
    if found is None or found.handle.closed.is_set():
        raise HttpError(404, "session not found")
    session = found.handle
    if session.stream_attached:
        raise HttpError(409, "this session already has a stream open")
    session.stream_attached = True
    try:
        await _stream(edge, session, receive, send, None)
    finally:
        session.stream_attached = False


async def _stream(edge: Edge, session: ProxySession, receive: Any, send: Any, first: bytes | None) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    async with trio.open_nursery() as nursery:

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            nursery.cancel_scope.cancel()  # the client went away: stop at once

        nursery.start_soon(watch_disconnect)
        if first is not None:
            await send({"type": "http.response.body", "body": first, "more_body": True})
        await _pump(edge, session, send)
        tail = encode_comment(f"closed: {session.close_reason}") if session.close_reason else b""
        with trio.CancelScope(shield=True, deadline=trio.current_time() + 1.0):
            await send({"type": "http.response.body", "body": tail, "more_body": False})
        nursery.cancel_scope.cancel()


async def _pump(edge: Edge, session: ProxySession, send: Any) -> None:
    """Write queued messages (batched) and keep-alives until the session's queue ends."""
    outbox = session.outbox
    while True:
        data: str | None = None
        with trio.move_on_after(edge.keepalive_seconds):
            try:
                data = await outbox.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                return
        if data is None:
            await send({"type": "http.response.body", "body": _PING, "more_body": True})
            continue
        frames = [encode_event("message", data)]
        ended = False
        while len(frames) < _DRAIN_MAX:
            try:
                frames.append(encode_event("message", outbox.receive_nowait()))
            except trio.WouldBlock:
                break
            except (trio.EndOfChannel, trio.ClosedResourceError):
                ended = True
                break
        await send({"type": "http.response.body", "body": b"".join(frames), "more_body": True})
        if ended:
            return
