"""The edge's admin listener (raw ASGI, never on the public port): `/metrics` (Prometheus text
format), `/api/debug/state/connections` (the seed's SSEConnectionState of every session on this
edge, JSON, camelCase, UTC RFC 3339 times), `/healthz`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mcpfleet.ops_http import Response, Route, json_response, metrics_response
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


class EdgeCollector(Collector):
    """Prometheus gauges read from the edge at scrape time."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge

    def collect(self) -> Iterator[Any]:
        sessions = GaugeMetricFamily("mcpfleet_edge_sessions", "Open client sessions by workspace",
                                     labels=["workspace"])
        pending = GaugeMetricFamily("mcpfleet_edge_pending_requests", "Requests in flight to workers")
        by_ws: dict[str, int] = {}
        in_flight = 0
        for s in self.edge.sessions.sessions():
            by_ws[s.workspace] = by_ws.get(s.workspace, 0) + 1
            in_flight += len(s.handle.pending)
        for ws, n in sorted(by_ws.items()):
            sessions.add_metric([ws], n)
        pending.add_metric([], in_flight)
        yield sessions
        yield pending


def admin_route(edge: Edge) -> Route:
    """The admin listener's routes: `/metrics`, `/api/debug/state/connections`, `/healthz`."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(EdgeCollector(edge))

    def route(method: str, path: str) -> Response:
        if method not in ("GET", "HEAD"):
            return json_response(405, {"error": "method not allowed"})
        if path == "/metrics":
            return metrics_response(registry)
        if path == "/api/debug/state/connections":
            return json_response(200, connections_state(edge))
        if path == "/healthz":
            return json_response(200, {"status": "ok"})
        return json_response(404, {"error": "not found"})

    return route
