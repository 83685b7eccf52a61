"""The edge's admin listener (raw ASGI, never on the public port): `/metrics` (Prometheus text
format), `/api/debug/state/connections` (the seed's SSEConnectionState of every session on this
edge, JSON, camelCase, UTC RFC 3339 times), `/healthz`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sse_edge.edge import Edge


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def connections_state(edge: Edge) -> dict[str, Any]:
    """`{"edgeId", "connections": [{sessionId (first 12 chars), workspace, transport, clientInfo,
    connectedAt, lastActivity, activeRequests, pendingRequests: [{method, startedSecondsAgo,
    timeoutSeconds}]}]}`."""
    connections = []
    for s in edge.sessions.sessions():
        p = s.handle
        connections.append({
            "sessionId": s.session_id[:12], "workspace": s.workspace, "transport": p.transport,
            "clientInfo": p.client_info, "connectedAt": _rfc3339(p.connected_at),
            "lastActivity": _rfc3339(p.last_activity), "activeRequests": len(p.pending),
            "upstream": "open" if p.upstream is not None else "reconnecting",
            "streamAttached": p.stream_attached,
        })
    return {"edgeId": edge.options.edge_id, "connections": connections}


def metrics_text(edge: Edge) -> str:
    """A few gauges in the Prometheus text exposition format."""
    by_ws: dict[str, int] = {}
    pending = 0
    for s in edge.sessions.sessions():
        by_ws[s.workspace] = by_ws.get(s.workspace, 0) + 1
        pending += len(s.handle.pending)
    lines = ["# HELP mcpfleet_edge_sessions Open client sessions by workspace.",
             "# TYPE mcpfleet_edge_sessions gauge"]
    lines += [f'mcpfleet_edge_sessions{{workspace="{ws}"}} {n}' for ws, n in sorted(by_ws.items())]
    lines += ["# HELP mcpfleet_edge_pending_requests Requests in flight to workers.",
              "# TYPE mcpfleet_edge_pending_requests gauge", f"mcpfleet_edge_pending_requests {pending}"]
    return "\n".join(lines) + "\n"


class AdminASGI:
    """ASGI app of the admin listener."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if scope["method"] != "GET":
            status, ctype, body = 405, "application/json", b'{"error": "method not allowed"}'
        elif path == "/metrics":
            status, ctype, body = 200, "text/plain; version=0.0.4", metrics_text(self.edge).encode()
        elif path == "/api/debug/state/connections":
            status, ctype, body = 200, "application/json", json.dumps(connections_state(self.edge)).encode()
        elif path == "/healthz":
            status, ctype, body = 200, "application/json", b'{"status": "ok"}'
        else:
            status, ctype, body = 404, "application/json", b'{"error": "not found"}'
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
