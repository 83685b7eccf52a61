"""The hot path in raw ASGI (no framework per request): client POSTs of both transports and
Streamable HTTP DELETE, plus the checks every public request passes first.

- every request: `Host` allowlist (else 421), `Origin` allowlist (else 403), then, for workspace
  routes, the workspace's bearer token when it has any (else 401); a request forwarded by a peer
  edge with a valid edge credential skips these (its receiving edge did them).
- `POST /workspaces/<ws>/messages?session_id=`: legacy HTTP+SSE; 202, the answer goes on the stream.
- `POST /workspaces/<ws>/mcp`: Streamable HTTP; `initialize` without `Mcp-Session-Id` opens a
  session (its id in the answer's `Mcp-Session-Id`); requests are answered in the POST's body
  (JSON, or one SSE event when the client accepts only `text/event-stream`); notifications and
  responses get 202. Without a session id and not `initialize` (the sessionless 2026-07-28
  revision), the POST goes straight to the worker's `/mcp`.
- `DELETE /workspaces/<ws>/mcp`: ends the session.
- A session id minted by another edge (sessions.owner_of) is forwarded to that edge.
Bad input: body > max -> 413, wrong Content-Type -> 415, invalid JSON -> -32700, not a JSON-RPC
message -> -32600 with id null (both HTTP 400), unknown session -> 404. No stack traces.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from mcpfleet.errors import NotFound, Unavailable
from mcpfleet.model import Route
from sse_edge.edge import Edge
from sse_edge.guards import (
    EDGE_AUTH_HEADER,
    bearer_ok,
    edge_credential,
    edge_credential_ok,
    host_allowed,
    origin_allowed,
)
from sse_edge.pending import classify
from sse_edge.sessions import owner_of
from sse_edge.upstream import UpstreamError

log = logging.getLogger(__name__)

StreamHandler = Callable[[Edge, Any, Any, Any, str], Awaitable[None]]
"""`await handler(edge, scope, receive, send, workspace)` for a GET stream route."""

_PATH_RE = re.compile(r"^/workspaces/([^/]+)/(messages|mcp|sse)$")
_JSON = [(b"content-type", b"application/json")]
HANDSHAKE_FREE_VERSIONS = ("2026-07-28",)
"""Protocol revisions without `initialize` and session ids (answered per request by the worker)."""
_ALLOWED = {"sse": "GET", "messages": "POST", "mcp": "GET, POST, DELETE"}
"""The methods each MCP path answers (anything else: 405 with Allow)."""
_STRIP_UPSTREAM = {"host", "authorization", "cookie", "origin", "content-length", "connection",
                   "mcp-session-id", EDGE_AUTH_HEADER, "transfer-encoding", "proxy-authorization"}


class ClientGone(Exception):
    """The client disconnected before its request was read: answer nothing (the server itself
    answers a truncated request; a second concurrent send on its socket would crash it)."""


class HttpError(Exception):
    """Answer the request with `status` and a JSON body (JSON-RPC error object when `rpc_code`)."""

    def __init__(self, status: int, message: str, *, rpc_code: int | None = None,
                 headers: list[tuple[bytes, bytes]] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.rpc_code = status, message, rpc_code
        self.headers = headers or []
        self.extra = extra or {}

    def body(self) -> bytes:
        if self.rpc_code is not None:
            error = {"code": self.rpc_code, "message": self.message}
            obj: dict[str, Any] = {"jsonrpc": "2.0", "id": None, "error": error}
        else:
            obj = {"error": self.message, **self.extra}
        return json.dumps(obj).encode()


async def respond(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a whole response."""
    await send({"type": "http.response.start", "status": status,
                "headers": [*(headers or _JSON), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def header(scope: dict[str, Any], name: str) -> str | None:
    """The first value of request header `name` (lowercase), decoded as latin-1, or None."""
    key = name.encode()
    for k, v in scope["headers"]:
        if k == key:
            return str(v.decode("latin-1"))
    return None


async def read_body(receive: Any, scope: dict[str, Any], limit: int) -> bytes:
    """The whole request body; raises HttpError 413 above `limit` bytes (checked against
    Content-Length first, then while reading)."""
    declared = header(scope, "content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"request body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"request body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def parse_message(body: bytes, content_type: str | None) -> tuple[dict[str, Any], str]:
    """Check and parse one client JSON-RPC message; return it and its kind (pending.classify).
    Raises HttpError 415 / 400 (-32700, -32600)."""
    if content_type is None or content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise HttpError(415, "Content-Type must be application/json")
    try:
        message = json.loads(body)
    except ValueError as err:
        raise HttpError(400, f"Parse error: {err}", rpc_code=-32700) from None
    except RecursionError:
        raise HttpError(400, "Parse error: nested too deeply", rpc_code=-32700) from None
    if isinstance(message, list):
        raise HttpError(400, "Invalid Request: JSON-RPC batches are not supported", rpc_code=-32600)
    kind = classify(message)
    if kind == "invalid":
        raise HttpError(400, "Invalid Request: expected a JSON-RPC 2.0 request, notification or response",
                        rpc_code=-32600)
    return message, kind


def route_refusal(workspace: str, route: Route) -> HttpError | None:
    """The answer for a route that cannot take a new session, or None if it can."""
    extra = {"status": route.status}
    if route.config_error:
        return HttpError(503, f"workspace {workspace!r} config rejected: {route.config_error}", extra=extra)
    if route.status != "running":
        # starting / stopping (a restart): worth retrying soon; stopped or error: not by itself
        headers = [(b"retry-after", b"2")] if route.status in ("starting", "stopping") else []
        return HttpError(503, f"workspace {workspace!r} is {route.status}", headers=headers, extra=extra)
    if not route.address or route.port <= 0:
        return HttpError(503, f"workspace {workspace!r} is not placed on any host", extra=extra)
    return None


async def resolve_route(edge: Edge, workspace: str) -> Route:
    """The route for a new session; raises HttpError 404/503 when there is none usable."""
    try:
        route = await edge.route_for(workspace)
    except NotFound:
        raise HttpError(404, f"workspace {workspace!r} not found") from None
    except Unavailable as err:
        log.warning("resolve %s failed: %s", workspace, err)
        raise HttpError(503, "control plane unavailable", headers=[(b"retry-after", b"2")]) from None
    refusal = route_refusal(workspace, route)
    if refusal is not None:
        raise refusal
    return route


class PublicASGI:
    """ASGI app in front of the Quart app (`inner`): checks, then the hot routes, else `inner`."""

    def __init__(self, edge: Edge, inner: Any, streams: dict[str, StreamHandler] | None = None) -> None:
        self.edge = edge
        self.inner = inner
        self.streams = streams or {}  # "sse" / "mcp" -> GET handler (sse_edge.streams)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        body_done = scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS")

        async def tracked_receive() -> Any:
            nonlocal body_done
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        try:
            await self._http(scope, tracked_receive, send)
        except HttpError as err:
            try:  # read the rest of the body first: answering a request still being sent races
                while not body_done:  # the server's own error answer when the client then drops it
                    if (await tracked_receive())["type"] == "http.disconnect":
                        return
            except ClientGone:
                return
            await respond(send, err.status, err.body(), [*_JSON, *err.headers])
        except ClientGone:
            return

    async def _http(self, scope: Any, receive: Any, send: Any) -> None:
        path: str = scope["path"]
        match = _PATH_RE.match(path)
        forwarded = match is not None and self._forwarded_ok(scope, match.group(2))
        if not forwarded:
            if not host_allowed(header(scope, "host"), self.edge.options.allowed_hosts):
                raise HttpError(421, "Host not allowed")
            if not origin_allowed(header(scope, "origin"), self.edge.options.allowed_origins):
                raise HttpError(403, "Origin not allowed")
        if match is None:
            await self.inner(scope, receive, send)
            return
        workspace, kind = match.group(1), match.group(2)
        if not forwarded:
            route = await self._route_or_none(workspace)
            if route is not None and not bearer_ok(header(scope, "authorization"), route.token_sha256):
                raise HttpError(401, "missing or wrong bearer token", headers=[(b"www-authenticate", b"Bearer")])
        method = scope["method"]
        if kind == "messages" and method == "POST":
            await self._legacy_post(scope, receive, send, workspace)
        elif kind == "mcp" and method == "POST":
            await self._mcp_post(scope, receive, send, workspace)
        elif kind == "mcp" and method == "DELETE":
            await self._mcp_delete(scope, send, workspace)
        elif method == "GET" and kind in self.streams:
            await self.streams[kind](self.edge, scope, receive, send, workspace)
        else:
            allowed = _ALLOWED[kind]
            raise HttpError(405, f"method {method} not allowed here (allowed: {allowed})",
                            headers=[(b"allow", allowed.encode())])

    async def _route_or_none(self, workspace: str) -> Route | None:
        """The workspace's route for the token check (cached; None when it cannot be known:
        then no session can be opened either)."""
        try:
            return await self.edge.route_for(workspace)
        except (NotFound, Unavailable):
            return None

    def _forwarded_ok(self, scope: Any, kind: str) -> bool:
        presented = header(scope, EDGE_AUTH_HEADER)
        if presented is None:
            return False
        sid = self._session_id(scope, kind)
        return sid is not None and edge_credential_ok(self.edge.options.session_key, sid, presented)

    @staticmethod
    def _session_id(scope: Any, kind: str) -> str | None:
        if kind == "messages":
            values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_id")
            return values[0] if values else None
        return header(scope, "mcp-session-id")

    async def _peer_or_404(self, scope: Any, receive: Any, send: Any, workspace: str, sid: str | None,
                           body: bytes | None) -> None:
        """Forward to the edge that owns `sid`, when it is another known edge; else 404."""
        owner = owner_of(sid, workspace, self.edge.options.session_key)
        peer = self.edge.options.peers.get(owner) if owner else None
        if sid is None or owner is None or owner == self.edge.options.edge_id or peer is None \
                or header(scope, EDGE_AUTH_HEADER) is not None:
            raise HttpError(404, "session not found")
        if body is None:
            body = await read_body(receive, scope, self.edge.options.max_body_bytes)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                   if k.decode("latin-1") not in ("host", "content-length", "connection", EDGE_AUTH_HEADER)}
        headers[EDGE_AUTH_HEADER] = edge_credential(self.edge.options.session_key, sid)
        query = scope.get("query_string", b"").decode("latin-1")
        url = peer.rstrip("/") + scope["path"] + (f"?{query}" if query else "")
        try:
            answer = await self.edge.client.request(scope["method"], url, content=body, headers=headers)
        except httpx.HTTPError as err:
            log.warning("forward to edge %s failed: %s", owner, err)
            raise HttpError(502, f"edge {owner} holding the session is unreachable") from None
        keep = [(k.encode(), v.encode()) for k, v in answer.headers.items()
                if k.lower() in ("content-type", "mcp-session-id", "retry-after")]
        await respond(send, answer.status_code, answer.content, keep or _JSON)

    async def _legacy_post(self, scope: Any, receive: Any, send: Any, workspace: str) -> None:
        sid = self._session_id(scope, "messages")
        session = self.edge.sessions.lookup(sid, workspace)
        if session is None or session.handle.closed.is_set():
            await self._peer_or_404(scope, receive, send, workspace, sid, None)
            return
        body = await read_body(receive, scope, self.edge.options.max_body_bytes)
        message, kind = parse_message(body, header(scope, "content-type"))
        try:
            await session.handle.forward(message, kind, wait=False)
        except UpstreamError as err:
            log.warning("workspace %s: %s", workspace, err)
            raise HttpError(502, f"workspace {workspace!r} worker unreachable") from None
        await respond(send, 202, b"Accepted", [(b"content-type", b"text/plain")])

    async def _mcp_post(self, scope: Any, receive: Any, send: Any, workspace: str) -> None:
        sid = header(scope, "mcp-session-id")
        session = self.edge.sessions.lookup(sid, workspace) if sid else None
        if sid and (session is None or session.handle.closed.is_set()):
            await self._peer_or_404(scope, receive, send, workspace, sid, None)
            return
        body = await read_body(receive, scope, self.edge.options.max_body_bytes)
        message, kind = parse_message(body, header(scope, "content-type"))
        headers: list[tuple[bytes, bytes]] = []
        if session is None:
            if kind == "request" and message.get("method") == "initialize":
                if self.edge.closing:
                    raise HttpError(503, "edge is shutting down", headers=[(b"retry-after", b"1")])
                route = await resolve_route(self.edge, workspace)
                try:
                    proxy = await self.edge.open_session(workspace, route, streaming_client=False)
                except UpstreamError as err:
                    log.warning("workspace %s: %s", workspace, err)
                    raise HttpError(502, f"workspace {workspace!r} worker unreachable",
                                    headers=[(b"retry-after", b"2")]) from None
                headers.append((b"mcp-session-id", proxy.session_id.encode()))
                answer = await self._forward(proxy, message, kind, workspace)
                if answer is not None and "error" in json.loads(answer):
                    self.edge.end_session(proxy.session_id, "initialize failed")
            elif (header(scope, "mcp-protocol-version") or "") in HANDSHAKE_FREE_VERSIONS:
                await self._sessionless(scope, send, workspace, body)
                return
            else:
                raise HttpError(400, "Bad Request: missing Mcp-Session-Id (initialize first)", rpc_code=-32600)
        else:
            answer = await self._forward(session.handle, message, kind, workspace)
        if answer is None:
            await respond(send, 202, b"", [*headers])
            return
        data = answer.encode()
        accept = (header(scope, "accept") or "").lower()
        if "text/event-stream" in accept and "application/json" not in accept and "*/*" not in accept:
            await respond(send, 200, b"event: message\r\ndata: " + data + b"\r\n\r\n",
                          [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), *headers])
        else:
            await respond(send, 200, data, [*_JSON, *headers])

    async def _forward(self, proxy: Any, message: dict[str, Any], kind: str, workspace: str) -> str | None:
        try:
            answer: str | None = await proxy.forward(message, kind, wait=kind == "request")
        except UpstreamError as err:
            log.warning("workspace %s: %s", workspace, err)
            raise HttpError(502, f"workspace {workspace!r} worker unreachable") from None
        return answer

    async def _sessionless(self, scope: Any, send: Any, workspace: str, body: bytes) -> None:
        """The 2026-07-28 revision: one request, one answer, no session: straight to the worker."""
        route = await resolve_route(self.edge, workspace)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                   if k.decode("latin-1") not in _STRIP_UPSTREAM}
        try:
            answer = await self.edge.client.post(route.base_url + "/mcp", content=body, headers=headers,
                                                 timeout=route.request_timeout_seconds)
        except httpx.TimeoutException:
            raise HttpError(504, f"workspace {workspace!r} did not answer within "
                                 f"{route.request_timeout_seconds:g} s") from None
        except httpx.HTTPError as err:
            log.warning("workspace %s: %s", workspace, err)
            raise HttpError(502, f"workspace {workspace!r} worker unreachable") from None
        keep = [(k.encode(), v.encode()) for k, v in answer.headers.items()
                if k.lower() in ("content-type", "mcp-protocol-version")]
        await respond(send, answer.status_code, answer.content, keep or _JSON)

    async def _mcp_delete(self, scope: Any, send: Any, workspace: str) -> None:
        sid = header(scope, "mcp-session-id")
        session = self.edge.sessions.lookup(sid, workspace) if sid else None
        if session is None:
            async def no_body() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._peer_or_404(scope, no_body, send, workspace, sid, b"")
            return
        self.edge.end_session(session.session_id, "client ended the session (DELETE)")
        await respond(send, 200, b"")
