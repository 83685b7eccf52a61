"""The edge's public HTTP routes for the legacy HTTP+SSE MCP transport, and its per-app state.

- `GET /workspaces/<ws>/sse`: resolve the workspace, open ONE upstream SSE session to its worker,
  answer with an event stream whose first event, `endpoint`, names the edge's own messages URL;
  then relay the worker's `message` events, with a keep-alive comment every `keepalive_seconds`.
- `POST /workspaces/<ws>/messages?session_id=<id>`: forward one client message to that
  session's upstream messages URL; 202 `Accepted`.
- `GET /healthz`: 200 `{"status": "ok"}`.

Error answers are JSON `{"error": "<what and why>", ...}`; JSON-RPC parse/shape errors are
JSON-RPC error objects (-32700, -32600) with HTTP 400.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import trio
from quart import Quart, Response, request

from mcpfleet.errors import DeadlineExceeded, NotFound, Unavailable
from mcpfleet.workspace import NAME_RE
from sse_edge.routing_table import Resolver, Route, RoutingTable
from sse_edge.sessions import Session, SessionRegistry
from sse_edge.sse_frames import encode_comment, encode_event
from sse_edge.upstream import UpstreamError, UpstreamSession, make_client, open_upstream, post_message

log = logging.getLogger(__name__)

ON_CLOSE_KEY = "sse_edge.on_close"
"""ASGI scope key: a sync callable the app wrapper calls once the HTTP exchange is over."""
RESOLVE_TIMEOUT_SECONDS = 5.0
SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*/?$")
_PING = encode_comment("ping")
_DRAIN_MAX = 64  # upstream messages written to the client in one send, at most

EdgeSession = Session[UpstreamSession]


class Edge:
    """Per-app state of the edge: resolver, route cache, sessions, the shared HTTP client.

    `start(nursery)` must run before serving (the app's `before_serving` does it); upstream
    reader tasks run in that nursery. `begin_shutdown()` ends every SSE stream and refuses new
    ones; `aclose()` also closes the HTTP client.
    """

    def __init__(
        self, resolver: Resolver, *, keepalive_seconds: float = 15.0, route_ttl_seconds: float = 2.0,
        resolve_timeout_seconds: float = RESOLVE_TIMEOUT_SECONDS,
    ) -> None:
        if keepalive_seconds <= 0:
            raise ValueError(f"keepalive_seconds must be > 0, got {keepalive_seconds}")
        self.resolver = resolver
        self.keepalive_seconds = keepalive_seconds
        self.resolve_timeout_seconds = resolve_timeout_seconds
        self.routes = RoutingTable(route_ttl_seconds)
        self.sessions: SessionRegistry[UpstreamSession] = SessionRegistry()
        self.closing = False
        self._client: httpx.AsyncClient | None = None
        self._nursery: trio.Nursery | None = None

    def start(self, nursery: trio.Nursery) -> None:
        """Create the shared HTTP client and adopt `nursery` for upstream reader tasks."""
        self._client = make_client()
        self._nursery = nursery
        self.closing = False

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared HTTP client. Raises RuntimeError before `start()`."""
        if self._client is None:
            raise RuntimeError("Edge.start() was not called (serve the app through its lifespan)")
        return self._client

    @property
    def nursery(self) -> trio.Nursery:
        """Where upstream reader tasks run. Raises RuntimeError before `start()`."""
        if self._nursery is None:
            raise RuntimeError("Edge.start() was not called (serve the app through its lifespan)")
        return self._nursery

    def begin_shutdown(self) -> None:
        """Refuse new SSE sessions and end every open one (their client streams end promptly)."""
        self.closing = True
        for session in self.sessions.sessions():
            session.handle.close()

    async def aclose(self) -> None:
        """`begin_shutdown()`, then close the HTTP client (bounded to 2 s)."""
        self.begin_shutdown()
        if self._client is not None:
            with trio.move_on_after(2.0):
                await self._client.aclose()

    def end_session(self, session_id: str) -> None:
        """Forget a session and close its upstream stream. Sync, idempotent."""
        session = self.sessions.remove(session_id)
        if session is not None:
            session.handle.close()
            session.handle.messages.close()
            log.info("session closed", extra={"workspace": session.workspace, "session": session_id[:8]})

    async def route_for(self, workspace: str) -> Route:
        """The route of `workspace`, from the cache or the resolver (bounded by
        `resolve_timeout_seconds`). Raises NotFound, or Unavailable when the control plane
        cannot answer (Unavailable, DeadlineExceeded, timeout) and no running route of this
        workspace is known from before (a known one is used then: traffic to running
        workspaces survives a control-plane outage)."""
        route = self.routes.get(workspace, trio.current_time())
        if route is not None:
            return route
        try:
            with trio.fail_after(self.resolve_timeout_seconds):
                route = await self.resolver.resolve(workspace)
        except NotFound:
            self.routes.invalidate(workspace)
            raise
        except (Unavailable, DeadlineExceeded, trio.TooSlowError) as err:
            stale = self.routes.last_known(workspace)
            if stale is not None and stale.status == "running":
                log.warning("control plane unavailable; using last known route of %s", workspace)
                return stale
            raise Unavailable(f"control plane unavailable: {err}") from err
        self.routes.put(route, trio.current_time())
        return route


def _error(
    http_status: int, message: str, headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None
) -> Response:
    body = json.dumps({"error": message, **(extra or {})})
    return Response(body, status=http_status, headers=headers or {}, content_type="application/json")


def _jsonrpc_error(code: int, message: str) -> Response:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}})
    return Response(body, status=400, content_type="application/json")


def _not_found(workspace: str) -> Response:
    return _error(404, f"workspace {workspace!r} not found")


def _prefix() -> str:
    """The path prefix clients see: `X-Forwarded-Prefix` when present and well-formed, else the
    ASGI root_path; no trailing slash."""
    header = request.headers.get("X-Forwarded-Prefix")
    if header is not None and _PREFIX_RE.match(header):
        return header.rstrip("/")
    return (request.root_path or "").rstrip("/")


def _unusable(workspace: str, route: Route) -> Response | None:
    """The answer for a route that cannot take a new session, or None if it can."""
    status = {"status": route.status}
    if route.config_error:
        return _error(503, f"workspace {workspace!r} config rejected: {route.config_error}", None, status)
    if route.status != "running":
        headers = {"Retry-After": "2"} if route.status == "starting" else None
        return _error(503, f"workspace {workspace!r} is {route.status}", headers, status)
    if not route.address or route.port <= 0:
        return _error(503, f"workspace {workspace!r} is not placed on any host", None, status)
    return None


async def _relay(edge: Edge, session: EdgeSession, endpoint: str) -> AsyncIterator[bytes]:
    """The client's event stream: `endpoint`, then upstream messages and keep-alives, until the
    upstream ends (or the edge shuts down). Cancel scopes wrap single awaits, never a yield."""
    messages = session.handle.messages
    try:
        yield encode_event("endpoint", endpoint)
        ended = False
        while not ended:
            data: str | None = None
            with trio.move_on_after(edge.keepalive_seconds):
                try:
                    data = await messages.receive()
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    ended = True
            if data is None:
                if not ended:
                    yield _PING
                continue
            frames = [encode_event("message", data)]
            while len(frames) < _DRAIN_MAX:
                try:
                    frames.append(encode_event("message", messages.receive_nowait()))
                except trio.WouldBlock:
                    break
                except (trio.EndOfChannel, trio.ClosedResourceError):
                    ended = True
                    break
            yield b"".join(frames)
    finally:
        edge.end_session(session.session_id)


def register_routes(app: Quart, edge: Edge) -> None:
    """Add the edge's public routes to `app`, serving from `edge`."""

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response('{"status": "ok"}', content_type="application/json")

    @app.get("/workspaces/<workspace>/sse")
    async def sse(workspace: str) -> Response:
        if not NAME_RE.match(workspace):
            return _not_found(workspace)
        if edge.closing:
            return _error(503, "edge is shutting down", {"Retry-After": "1"})
        try:
            route = await edge.route_for(workspace)
        except NotFound:
            return _not_found(workspace)
        except Unavailable as err:
            log.warning("resolve %s failed: %s", workspace, err)
            return _error(503, "control plane unavailable", {"Retry-After": "2"})
        refusal = _unusable(workspace, route)
        if refusal is not None:
            return refusal
        try:
            upstream = await open_upstream(edge.nursery, edge.client, route.base_url + "/sse")
        except UpstreamError as err:
            log.warning("workspace %s: %s", workspace, err)
            return _error(502, f"workspace {workspace!r} worker unreachable", {"Retry-After": "2"})
        session = edge.sessions.create(workspace, upstream, trio.current_time())
        # Whatever happens from here (even a disconnect before the body starts), the app
        # wrapper calls this once the exchange is over, so the session cannot leak.
        request.scope[ON_CLOSE_KEY] = lambda: edge.end_session(session.session_id)  # type: ignore[literal-required]
        log.info("session opened", extra={"workspace": workspace, "session": session.session_id[:8]})
        endpoint = f"{_prefix()}/workspaces/{workspace}/messages?session_id={session.session_id}"
        response = Response(_relay(edge, session, endpoint), status=200, headers=SSE_HEADERS)
        response.timeout = None  # streams have no response timeout
        return response

    @app.post("/workspaces/<workspace>/messages")
    async def messages(workspace: str) -> Response:
        session = edge.sessions.lookup(request.args.get("session_id"), workspace)
        if session is None or session.handle.ended.is_set():
            return _error(404, "session not found")
        body = await request.get_data(as_text=False)
        assert isinstance(body, bytes)
        try:
            message = json.loads(body)
        except ValueError as err:
            return _jsonrpc_error(-32700, f"Parse error: {err}")
        if not isinstance(message, dict | list) or not message:
            return _jsonrpc_error(-32600, "Invalid Request: expected a JSON-RPC object or batch")
        try:
            answer = await post_message(edge.client, session.handle, body)
        except UpstreamError as err:
            log.warning("workspace %s: %s", workspace, err)
            return _error(502, f"workspace {workspace!r} worker unreachable")
        if 200 <= answer.status_code < 300:
            return Response("Accepted", status=202, content_type="text/plain")
        if answer.status_code == 404:  # the worker lost its session: ours is dead too
            edge.end_session(session.session_id)
            return _error(404, "session not found")
        content_type = answer.headers.get("content-type", "text/plain")
        return Response(answer.content, status=answer.status_code, content_type=content_type)
