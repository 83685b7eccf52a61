"""The edge's per-app state: settings, resolver and route cache, client sessions, the shared HTTP
client, known peer edges. Routes (HTTP) live in `routes.py` (streams) and `posts.py` (the hot
POST path, raw ASGI)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import trio

from mcpfleet.errors import DeadlineExceeded, NotFound, Unavailable
from mcpfleet.model import Route
from sse_edge.proxy_session import ProxySession
from sse_edge.routing_table import Resolver, RoutingTable
from sse_edge.sessions import SessionRegistry
from sse_edge.upstream import UpstreamError

log = logging.getLogger(__name__)


@dataclass
class EdgeOptions:
    """Runtime knobs of one edge (from `settings.EdgeSettings`): times in seconds, sizes in
    bytes / messages. `allowed_hosts` / `allowed_origins`: exact `host[:port]` and origin values;
    empty `allowed_hosts` = loopback names only; `*` allows any."""

    edge_id: str = "edge"
    session_key: bytes = b""
    keepalive_seconds: float = 15.0
    route_ttl_seconds: float = 2.0
    resolve_timeout_seconds: float = 5.0
    queue_messages: int = 256
    max_body_bytes: int = 4 * 1024 * 1024
    idle_session_seconds: float = 600.0
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    peers: dict[str, str] = field(default_factory=dict)  # edge id -> public base URL


class Edge:
    """Per-app state. `start(nursery)` before serving (the app's `before_serving` does it);
    session tasks run in that nursery. `begin_shutdown()` ends every session and refuses new
    ones; `aclose()` also closes the HTTP client."""

    def __init__(self, resolver: Resolver, options: EdgeOptions | None = None) -> None:
        self.options = options or EdgeOptions()
        if self.options.keepalive_seconds <= 0:
            raise ValueError(f"keepalive_seconds must be > 0, got {self.options.keepalive_seconds}")
        self.resolver = resolver
        self.keepalive_seconds = self.options.keepalive_seconds
        self.routes = RoutingTable(self.options.route_ttl_seconds)
        self.sessions: SessionRegistry[ProxySession] = SessionRegistry(self.options.edge_id, self.options.session_key)
        self.closing = False
        self.watched = False  # True while a watch stream feeds `routes` (then no TTL expiry)
        self._client: httpx.AsyncClient | None = None
        self._nursery: trio.Nursery | None = None
        self.on_connection: list[Any] = []  # callables(event: str, session: ProxySession)
        self.admin_urls: list[str] = []

    def start(self, nursery: trio.Nursery) -> None:
        """Create the shared HTTP client (forwarding to peer edges, sessionless requests), adopt
        `nursery` for session tasks, start the idle reaper."""
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), trust_env=False,
                                         follow_redirects=False)
        self._nursery = nursery
        self.closing = False
        nursery.start_soon(self._reap_idle)

    async def _reap_idle(self) -> None:
        """End Streamable HTTP sessions idle longer than `idle_session_seconds` (no stream open,
        nothing in flight, no request): clients that never sent DELETE."""
        limit = self.options.idle_session_seconds
        while not self.closing:
            await trio.sleep(min(30.0, limit / 2))
            now = datetime.now(UTC)
            for s in self.sessions.sessions():
                p = s.handle
                if p.streaming_client or p.stream_attached or len(p.pending):
                    continue
                if (now - p.last_activity).total_seconds() > limit:
                    self.end_session(s.session_id, f"idle for more than {limit:g} s")

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared HTTP client. Raises RuntimeError before `start()`."""
        if self._client is None:
            raise RuntimeError("Edge.start() was not called (serve the app through its lifespan)")
        return self._client

    @property
    def nursery(self) -> trio.Nursery:
        """Where session tasks run. Raises RuntimeError before `start()`."""
        if self._nursery is None:
            raise RuntimeError("Edge.start() was not called (serve the app through its lifespan)")
        return self._nursery

    def begin_shutdown(self) -> None:
        """Refuse new sessions and end every open one (their client streams end promptly)."""
        self.closing = True
        for session in self.sessions.sessions():
            session.handle.close("edge shutting down")

    async def aclose(self) -> None:
        """`begin_shutdown()`, then close the HTTP client (bounded to 2 s)."""
        self.begin_shutdown()
        if self._client is not None:
            with trio.move_on_after(2.0):
                await self._client.aclose()

    def end_session(self, session_id: str, reason: str = "client went away") -> None:
        """Forget a session and close it (its upstream session ends). Sync, idempotent."""
        session = self.sessions.remove(session_id)
        if session is not None:
            session.handle.close(reason)
            log.info("session closed (%s)", reason, extra={"workspace": session.workspace, "session": session_id[:12]})
            self._notify("closed", session.handle)

    def _notify(self, event: str, session: ProxySession) -> None:
        for callback in self.on_connection:
            try:
                callback(event, session)
            except Exception:  # a reporting hook must never break traffic
                log.exception("connection hook failed")

    async def open_session(self, workspace: str, route: Route, *, streaming_client: bool) -> ProxySession:
        """Open a client session of `workspace` with its own upstream session. Raises
        UpstreamError when the worker cannot be reached."""
        session_id = self.sessions.new_id(workspace)
        proxy = ProxySession(session_id, workspace, route, route_source=self.fresh_route,
                             queue_size=self.options.queue_messages, streaming_client=streaming_client)

        async def supervise(task_status: trio.TaskStatus[None]) -> None:
            try:
                await proxy.run(task_status=task_status)
            finally:
                self.end_session(session_id, proxy.close_reason or "session ended")

        self.sessions.add(session_id, workspace, proxy, trio.current_time())
        try:
            await self.nursery.start(supervise)
        except UpstreamError:
            self.sessions.remove(session_id)
            raise
        self._notify("opened", proxy)
        proxy.on_client_info = lambda: self._notify("opened", proxy)  # again, now with clientInfo
        log.info("session opened", extra={"workspace": workspace, "session": session_id[:12]})
        return proxy

    def apply_route(self, route: Route, now: float) -> None:
        """Store a route from the watch stream; when its status, health or breaker changed, tell
        each client session of that workspace (`workspace/statusChanged` + log message)."""
        before = self.routes.last_known(route.workspace)
        self.routes.put(route, now)
        changed = before is None or (before.status, before.health, before.breaker) != (
            route.status, route.health, route.breaker)
        for s in self.sessions.sessions():
            if s.workspace != route.workspace:
                continue
            if changed:
                s.handle.announce(route)
            if route.status == "running" and s.handle.upstream is not None \
                    and route.config_version != s.handle.tools_version:
                s.handle.tools_changed(route.config_version)  # re-opened on the new config already

    async def fresh_route(self, workspace: str, fresh: bool) -> Route:
        """`route_for` for sessions; `fresh` skips the TTL cache (not a watched table)."""
        if fresh and not self.watched:
            self.routes.invalidate_fresh(workspace)
        return await self.route_for(workspace)

    async def route_for(self, workspace: str) -> Route:
        """The route of `workspace`, from the cache (fed by the watch stream, or by the
        resolver with a TTL) or the resolver (bounded by `resolve_timeout_seconds`). Raises
        NotFound, or Unavailable when the control plane cannot answer and no running route of
        this workspace is known from before (a known one is used then: traffic to running
        workspaces survives a control-plane outage, new sessions included)."""
        route = self.routes.get(workspace, trio.current_time())
        if route is not None:
            return route
        if self.watched:
            stale = self.routes.last_known(workspace)
            if stale is not None:
                return stale
            raise NotFound(f"workspace {workspace!r} not found")
        try:
            with trio.fail_after(self.options.resolve_timeout_seconds):
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
