"""Edges known to the control plane and the client connections they report (the seed's
SSEConnectionState, aggregated across edges).

Pure: no I/O, no clock (`now` is passed in, epoch seconds). Edges register on
RoutingService.WatchRoutes (hello: id, public and admin address, version) and report
`connection/opened|closed`; an edge whose stream ends is forgotten with its connections (they
were in its memory only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def rfc3339(epoch_seconds: float) -> str:
    """UTC RFC 3339 with a Z suffix."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Connection:
    """One client session held by an edge. `session`: the id's first 12 characters only."""

    edge_id: str
    session: str
    workspace: str
    transport: str
    client_name: str
    connected_at: str


@dataclass
class EdgeRecord:
    """One registered edge (`stream`: token of the watch stream that registered it)."""

    edge_id: str
    public_address: str
    admin_address: str
    version: str
    connected_at: float
    stream: int
    connections: dict[str, Connection] = field(default_factory=dict)


class EdgeRegistry:
    """Edges by id. Not thread-safe; one event loop."""

    def __init__(self) -> None:
        self._edges: dict[str, EdgeRecord] = {}
        self._streams = 0
        self.version = 0  # grows on every change of the edge list (not of connections)

    def register(self, edge_id: str, public_address: str, admin_address: str, version: str, now: float) -> int:
        """Add (or replace: a reconnecting edge) an edge; returns its stream token for `unregister`.
        Raises ValueError for an empty id."""
        if not edge_id:
            raise ValueError("edge id is required")
        self._streams += 1
        self._edges[edge_id] = EdgeRecord(edge_id, public_address, admin_address, version, now, self._streams)
        self.version += 1
        return self._streams

    def unregister(self, edge_id: str, stream: int) -> bool:
        """Forget the edge if `stream` still owns its record (a newer stream of the same edge
        keeps it). Returns whether it was removed."""
        record = self._edges.get(edge_id)
        if record is None or record.stream != stream:
            return False
        del self._edges[edge_id]
        self.version += 1
        return True

    def connection_event(self, edge_id: str, event: str, conn: Connection) -> bool:
        """Apply `connection/opened|closed` from `edge_id`. Returns False for an unknown edge or event."""
        record = self._edges.get(edge_id)
        if record is None:
            return False
        if event == "connection/opened":
            record.connections[conn.session] = conn
        elif event == "connection/closed":
            record.connections.pop(conn.session, None)
        else:
            return False
        return True

    def edges(self) -> list[EdgeRecord]:
        """Every registered edge, by id."""
        return [self._edges[k] for k in sorted(self._edges)]

    def connections(self) -> list[Connection]:
        """Every connection on every edge, by workspace, edge, connection time."""
        conns = [c for e in self._edges.values() for c in e.connections.values()]
        return sorted(conns, key=lambda c: (c.workspace, c.edge_id, c.connected_at))

    def edges_json(self) -> list[dict[str, Any]]:
        """`[{edgeId, publicAddress, adminAddress, version, connections, connectedAt}]`."""
        return [{"edgeId": e.edge_id, "publicAddress": e.public_address, "adminAddress": e.admin_address,
                 "version": e.version, "connections": len(e.connections), "connectedAt": rfc3339(e.connected_at)}
                for e in self.edges()]

    def connections_json(self) -> dict[str, Any]:
        """The `connections` state component: totals by workspace and every connection."""
        conns = self.connections()
        by_ws: dict[str, int] = {}
        for c in conns:
            by_ws[c.workspace] = by_ws.get(c.workspace, 0) + 1
        return {"component": "connections", "edges": self.edges_json(), "byWorkspace": by_ws,
                "connections": [{"edgeId": c.edge_id, "sessionId": c.session, "workspace": c.workspace,
                                 "transport": c.transport, "clientName": c.client_name,
                                 "connectedAt": c.connected_at} for c in conns]}
