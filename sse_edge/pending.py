"""Requests in flight on one upstream session: client JSON-RPC ids mapped to edge-owned ids.

Pure: no I/O, no clock (`now` is passed in, seconds of any monotonic clock).

Why: FastMCP 4.2 loses a response when two in-flight requests on one session reuse a JSON-RPC
id (STACK-NOTES), and a replayed `initialize` needs an id no client used. So every client request
is sent upstream under a fresh edge id (`e<n>`, unique per table) and the answer is mapped back to
the client's own id (any JSON value: string, number, even a duplicate of another in-flight id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSONRPC_TIMEOUT = -32001
"""JSON-RPC error code the edge answers with when a request exceeds its timeout."""
JSONRPC_UNAVAILABLE = -32002
"""JSON-RPC error code the edge answers with when the worker went away mid-request."""


@dataclass(frozen=True)
class Pending:
    """One request in flight: the client's id (any JSON value), its method, the edge id used
    upstream, when it started and when it expires (seconds, caller's clock)."""

    edge_id: str
    client_id: Any
    method: str
    started_at: float
    deadline: float
    internal: bool = False  # the edge's own request (a replayed initialize): never shown to the client


class PendingTable:
    """Edge id -> Pending for one upstream session. Not thread-safe; one event loop."""

    def __init__(self) -> None:
        self._by_edge_id: dict[str, Pending] = {}
        self._counter = 0

    def add(self, client_id: Any, method: str, now: float, timeout_seconds: float, *,
            internal: bool = False) -> Pending:
        """Track a new request; return it with its fresh edge id. Raises ValueError if
        `timeout_seconds` <= 0."""
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds}")
        self._counter += 1
        pending = Pending(f"e{self._counter}", client_id, method, now, now + timeout_seconds, internal)
        self._by_edge_id[pending.edge_id] = pending
        return pending

    def pop(self, edge_id: Any) -> Pending | None:
        """Forget and return the request upstream answered under `edge_id`, or None if unknown
        (an id the edge never sent, or one that already expired)."""
        if not isinstance(edge_id, str):
            return None
        return self._by_edge_id.pop(edge_id, None)

    def find_client_id(self, client_id: Any) -> Pending | None:
        """The oldest in-flight client request with `client_id` (for `notifications/cancelled`)."""
        for pending in self._by_edge_id.values():
            if not pending.internal and pending.client_id == client_id and type(pending.client_id) is type(client_id):
                return pending
        return None

    def expire(self, now: float) -> list[Pending]:
        """Remove and return every request whose deadline is <= `now`, oldest first."""
        gone = [p for p in self._by_edge_id.values() if p.deadline <= now]
        for p in gone:
            del self._by_edge_id[p.edge_id]
        return gone

    def next_deadline(self) -> float | None:
        """The earliest deadline of a request in flight, or None when nothing is."""
        return min((p.deadline for p in self._by_edge_id.values()), default=None)

    def drain(self) -> list[Pending]:
        """Remove and return every request in flight (the upstream went away)."""
        gone = list(self._by_edge_id.values())
        self._by_edge_id.clear()
        return gone

    def __contains__(self, edge_id: object) -> bool:
        return edge_id in self._by_edge_id

    def __len__(self) -> int:
        return len(self._by_edge_id)


def error_response(client_id: Any, code: int, message: str) -> dict[str, Any]:
    """A JSON-RPC error response object for `client_id`."""
    return {"jsonrpc": "2.0", "id": client_id, "error": {"code": code, "message": message}}


def cancelled_notification(edge_id: str, reason: str) -> dict[str, Any]:
    """The `notifications/cancelled` the edge sends upstream for an expired request."""
    return {"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": edge_id, "reason": reason}}


def classify(message: Any) -> str:
    """What a JSON-RPC message is: "request" (method + id), "notification" (method, no id),
    "response" (result or error with id), or "invalid". Batches are "invalid" here (callers
    split them first)."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return "invalid"
    method = message.get("method")
    if isinstance(method, str):
        if "id" in message:
            return "request" if _valid_id(message["id"]) else "invalid"
        return "notification"
    if "id" in message and ("result" in message or "error" in message):
        return "response"
    return "invalid"


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
