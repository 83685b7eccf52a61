"""The edge's public stream routes (Quart): legacy SSE `GET /workspaces/<ws>/sse`, Streamable
HTTP `GET /workspaces/<ws>/mcp` (the session's server-to-client stream), `/healthz`, `/readyz`.
The POST/DELETE hot path is raw ASGI in `posts.py`; checks (Host, Origin, token) run there first.

- `GET .../sse`: resolve the workspace, open a client session with ONE upstream session to its
  worker, answer with an event stream whose first event, `endpoint`, names the edge's own
  messages URL (honouring the ASGI root path and `X-Forwarded-Prefix`); then the session's
  messages, with a keep-alive comment every `keepalive_seconds`. A session the edge ends (slow
  reader, shutdown, workspace deleted) ends with a final comment giving the reason.
- `GET .../mcp` with `Mcp-Session-Id`: the same stream without `endpoint` (one per session: 409).

Error answers are JSON `{"error": "<what and why>", ...}`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import trio
from quart import Quart, Response, request

from mcpfleet.workspace import NAME_RE
from sse_edge.edge import Edge, EdgeOptions
from sse_edge.posts import HttpError, resolve_route
from sse_edge.proxy_session import ProxySession
from sse_edge.sse_frames import encode_comment, encode_event
from sse_edge.upstream import UpstreamError

__all__ = ["ON_CLOSE_KEY", "Edge", "EdgeOptions", "register_routes"]

log = logging.getLogger(__name__)

ON_CLOSE_KEY = "sse_edge.on_close"
"""ASGI scope key: a sync callable the app wrapper calls once the HTTP exchange is over."""
SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*/?$")
_PING = encode_comment("ping")
_DRAIN_MAX = 64  # queued messages written to the client in one send, at most


def _error(http_status: int, message: str, headers: dict[str, str] | None = None,
           extra: dict[str, Any] | None = None) -> Response:
    body = json.dumps({"error": message, **(extra or {})})
    return Response(body, status=http_status, headers=headers or {}, content_type="application/json")


def _from_http_error(err: HttpError) -> Response:
    headers = {k.decode(): v.decode() for k, v in err.headers}
    return Response(err.body(), status=err.status, headers=headers, content_type="application/json")


def _prefix() -> str:
    """The path prefix clients see: `X-Forwarded-Prefix` when present and well-formed, else the
    ASGI root_path; no trailing slash."""
    header = request.headers.get("X-Forwarded-Prefix")
    if header is not None and _PREFIX_RE.match(header):
        return header.rstrip("/")
    return (request.root_path or "").rstrip("/")


async def _relay(edge: Edge, session: ProxySession, first: bytes | None) -> AsyncIterator[bytes]:
    """The client's event stream: `first` (the endpoint event), then queued messages and
    keep-alives until the session ends. Cancel scopes wrap single awaits, never a yield."""
    outbox = session.outbox
    try:
        if first is not None:
            yield first
        ended = False
        while not ended:
            data: str | None = None
            with trio.move_on_after(edge.keepalive_seconds):
                try:
                    data = await outbox.receive()
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    ended = True
            if data is None:
                if not ended:
                    yield _PING
                continue
            frames = [encode_event("message", data)]
            while len(frames) < _DRAIN_MAX:
                try:
                    frames.append(encode_event("message", outbox.receive_nowait()))
                except trio.WouldBlock:
                    break
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    ended = True
                    break
            yield b"".join(frames)
        if session.close_reason:
            yield encode_comment(f"closed: {session.close_reason}")
    finally:
        session.stream_attached = False
        if session.streaming_client:
            edge.end_session(session.session_id)


def _stream(body: AsyncIterator[bytes], extra: dict[str, str] | None = None) -> Response:
    response = Response(body, status=200, headers={**SSE_HEADERS, **(extra or {})})
    response.timeout = None  # streams have no response timeout
    return response


def register_routes(app: Quart, edge: Edge) -> None:
    """Add the edge's public stream routes to `app`, serving from `edge`."""

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response('{"status": "ok"}', content_type="application/json")

    @app.get("/readyz")
    async def readyz() -> Response:
        if edge.closing:
            return _error(503, "edge is shutting down")
        return Response('{"status": "ready"}', content_type="application/json")

    @app.get("/workspaces/<workspace>/sse")
    async def sse(workspace: str) -> Response:
        if not NAME_RE.match(workspace):
            return _error(404, f"workspace {workspace!r} not found")
        if edge.closing:
            return _error(503, "edge is shutting down", {"Retry-After": "1"})
        try:
            route = await resolve_route(edge, workspace)
            session = await edge.open_session(workspace, route, streaming_client=True)
        except HttpError as err:
            return _from_http_error(err)
        except UpstreamError as err:
            log.warning("workspace %s: %s", workspace, err)
            return _error(502, f"workspace {workspace!r} worker unreachable", {"Retry-After": "2"})
        session.transport = "sse"
        session.stream_attached = True
        # Whatever happens from here (even a disconnect before the body starts), the app
        # wrapper calls this once the exchange is over, so the session cannot leak.
        request.scope[ON_CLOSE_KEY] = lambda: edge.end_session(session.session_id)  # type: ignore[literal-required]
        endpoint = f"{_prefix()}/workspaces/{workspace}/messages?session_id={session.session_id}"
        return _stream(_relay(edge, session, encode_event("endpoint", endpoint)))

    @app.get("/workspaces/<workspace>/mcp")
    async def mcp_stream(workspace: str) -> Response:
        found = edge.sessions.lookup(request.headers.get("Mcp-Session-Id"), workspace)
        if found is None or found.handle.closed.is_set():
            return _error(404, "session not found")
        session = found.handle
        if session.stream_attached:
            return _error(409, "this session already has a stream open")
        session.stream_attached = True
        return _stream(_relay(edge, session, None))
