"""The edge's settings (documented key by key in deploy/sse-edge.example.toml).

Sources, later winning: defaults < TOML file (`--config`) < `MCPFLEET_EDGE_<KEY>` env < flags
(`--<key-with-dashes>`); unknown keys are errors at startup (`mcpfleet.settings`, exit 2).
Seconds unless the name says otherwise. Lists from env/flags are comma-separated; `peers` from
env/flags is `id=url,id=url`.
"""

from __future__ import annotations

import secrets
import socket
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sse_edge.edge import EdgeOptions
from sse_edge.sessions import EDGE_ID_RE


def _default_edge_id() -> str:
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:40] or "edge"
    return f"{host}-{secrets.token_hex(3)}"


class EdgeSettings(BaseModel):
    """Every edge setting; see the module docstring for where values come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control_plane: str = Field("127.0.0.1:50051", description="control plane gRPC address")
    bind: str = Field("127.0.0.1:8080", description="public listener host:port (port 0 = any free port)")
    admin_bind: str = Field("127.0.0.1:8083", description="admin listener (/metrics, "
                            "/api/debug/state/connections) host:port; never the public one")
    public_url: str = Field("", description="base URL clients and peer edges reach this edge at "
                            "(default: the bound public address)")
    edge_id: str = Field(default_factory=_default_edge_id, description="this edge's id "
                         "(letters, digits, - and _); part of every session id it mints")
    session_key: str = Field("", description="edge-to-edge HMAC key shared by every edge of the "
                             "fleet (session ids, forwarded requests); empty = random per process "
                             "(sessions then cannot move between edges)")
    keepalive: float = Field(15.0, gt=0, description="seconds between SSE keep-alive comments")
    route_ttl: float = Field(2.0, ge=0, description="seconds a route resolved by unary Resolve is "
                             "cached (routes from the watch stream do not expire)")
    resolve_timeout: float = Field(5.0, gt=0, description="bound on one Resolve call, seconds")
    queue_messages: int = Field(256, ge=1, description="messages queued per client stream before a "
                                "client that does not read is disconnected")
    idle_session: float = Field(600.0, gt=0, description="seconds a Streamable HTTP session with no "
                                "stream, request or activity lives before the edge ends it")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="largest POST body (HTTP 413 above)")
    allowed_hosts: list[str] = Field(default_factory=list, description="accepted Host header values "
                                     "(host or host:port; * = any); empty = loopback names only")
    allowed_origins: list[str] = Field(default_factory=list, description="accepted Origin values "
                                       "(scheme://host[:port]; * = any); loopback origins and "
                                       "requests without Origin are always accepted")
    peers: dict[str, str] = Field(default_factory=dict, description="static peer edges, id -> "
                                  "public URL (added to the edges the control plane lists)")
    watch: bool = Field(True, description="learn routes and peer edges from RoutingService.WatchRoutes")
    log_level: str = Field("INFO", description="log level")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("peers", mode="before")
    @classmethod
    def _split_peers(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("peers must look like id=http://host:port,id2=...")
            return {k.strip(): v.strip() for k, v in pairs}
        return value

    @field_validator("edge_id")
    @classmethod
    def _edge_id(cls, value: str) -> str:
        if not EDGE_ID_RE.match(value):
            raise ValueError(f"must match {EDGE_ID_RE.pattern}")
        return value

    def options(self) -> EdgeOptions:
        """The runtime options these settings describe (a random session key when none is set)."""
        key = self.session_key.encode() if self.session_key else secrets.token_bytes(32)
        return EdgeOptions(
            edge_id=self.edge_id, session_key=key, keepalive_seconds=self.keepalive,
            route_ttl_seconds=self.route_ttl, resolve_timeout_seconds=self.resolve_timeout,
            queue_messages=self.queue_messages, max_body_bytes=self.max_body_bytes,
            idle_session_seconds=self.idle_session,
            allowed_hosts=list(self.allowed_hosts), allowed_origins=list(self.allowed_origins),
            peers=dict(self.peers),
        )
