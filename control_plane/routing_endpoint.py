"""gRPC RoutingService: edges ask where a workspace runs (Resolve) and watch routes
(WatchRoutes: registration, connection events, snapshot then changes, fed by the event bus)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import trio

from control_plane.coordinator import Coordinator
from control_plane.edges import Connection, EdgeRegistry
from control_plane.events import Event, EventType, Resync, Subscription
from mcpfleet import errors
from mcpfleet.convert import route_to_pb
from mcpfleet.model import Route
from mcpfleet.rpc import CallContext, ServiceBinding
from mcpfleet.rpc_streams import Stream
from mcpfleet.v1 import routing_pb2, routing_pb2_grpc

log = logging.getLogger(__name__)


ROUTE_EVENTS = frozenset({
    EventType.PROCESS_STATUS_CHANGED, EventType.PROCESS_STARTED, EventType.PROCESS_STOPPED, EventType.PROCESS_ERROR,
    EventType.BREAKER_CHANGED, EventType.CONFIG_CHANGED, EventType.RESOURCE_ALLOCATED, EventType.RESOURCE_RELEASED,
    EventType.AGENT_CHANGED,
})
HELLO_TIMEOUT_SECONDS = 10.0


class WatchRoutesMixin:
    """RoutingService.WatchRoutes: edge registration, connection events, routes snapshot + changes."""

    coordinator: Coordinator
    edges: EdgeRegistry
    _edges_changed: trio.Event

    def _route(self, name: str) -> Route:
        return replace(self.coordinator.state.route(name), breaker=self.coordinator.breaker_state(name))

    def _snapshot(self) -> routing_pb2.RoutesMessage:
        routes = []
        for name in sorted(self.coordinator.state.configs):
            try:
                routes.append(route_to_pb(self._route(name)))
            except errors.NotFound:
                continue
        return routing_pb2.RoutesMessage(snapshot=routing_pb2.RoutesSnapshot(routes=routes, edges=self._edge_infos()))

    def _edge_infos(self) -> list[routing_pb2.EdgeInfo]:
        return [routing_pb2.EdgeInfo(edge_id=e["edgeId"], public_address=e["publicAddress"],
                                     admin_address=e["adminAddress"], version=e["version"],
                                     connections=e["connections"], connected_at=e["connectedAt"])
                for e in self.edges.edges_json()]

    def _notify_edges(self) -> None:
        self._edges_changed.set()
        self._edges_changed = trio.Event()

    async def WatchRoutes(self, stream: Stream, ctx: CallContext) -> None:  # noqa: N802 (gRPC name)
        """First message must be `hello` (else INVALID_ARGUMENT; none within 10 s: DEADLINE_EXCEEDED)."""
        with trio.move_on_after(HELLO_TIMEOUT_SECONDS) as scope:
            first = await stream.receive()
        if scope.cancelled_caught:
            raise errors.DeadlineExceeded("no hello from edge")
        if first.WhichOneof("body") != "hello" or not first.hello.edge_id:
            raise errors.InvalidArgument("the first message on WatchRoutes must be hello with an edge_id")
        hello = first.hello
        bus = self.coordinator.bus
        token = self.edges.register(hello.edge_id, hello.public_address, hello.admin_address, hello.version,
                                    bus.clock())
        log.info("edge %s registered (%s, admin %s)", hello.edge_id, hello.public_address, hello.admin_address)
        self._notify_edges()
        seq = 0
        send_lock = trio.Lock()

        async def send(msg: routing_pb2.RoutesMessage) -> None:
            nonlocal seq
            async with send_lock:
                seq += 1
                msg.seq = seq
                await stream.send(msg)

        try:
            with bus.subscribe(types=ROUTE_EVENTS, maxsize=1024) as sub:
                await send(self._snapshot())
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._send_changes, sub, send)
                    nursery.start_soon(self._send_edges, send)
                    await self._receive_edge(stream, hello.edge_id)
                    nursery.cancel_scope.cancel()
        finally:
            for conn in list(self.edges.connections()):
                if conn.edge_id == hello.edge_id:
                    bus.post(Event(EventType.CONNECTION_CLOSED, conn.workspace, "", {
                        "edgeId": conn.edge_id, "connectionId": conn.session, "reason": "edge went away"}))
            if self.edges.unregister(hello.edge_id, token):
                log.info("edge %s gone", hello.edge_id)
                self._notify_edges()

    async def _receive_edge(self, stream: Stream, edge_id: str) -> None:
        async for msg in stream:
            if msg.WhichOneof("body") != "connection":
                continue
            c = msg.connection
            conn = Connection(edge_id, c.session_id_prefix[:12], c.workspace, c.transport, c.client_name,
                              c.connected_at)
            if self.edges.connection_event(edge_id, c.event, conn):
                kind = EventType.CONNECTION_OPENED if c.event == "connection/opened" else EventType.CONNECTION_CLOSED
                self.coordinator.bus.post(Event(kind, c.workspace, "", {
                    "edgeId": edge_id, "connectionId": conn.session, "transport": c.transport,
                    "clientName": c.client_name}))

    async def _send_changes(self, sub: Subscription, send: Any) -> None:
        async for item in sub:
            if isinstance(item, Resync) or not item.workspace:
                await send(self._snapshot())
                continue
            try:
                route = self._route(item.workspace)
            except errors.NotFound:
                await send(routing_pb2.RoutesMessage(change=routing_pb2.RouteChange(
                    route=routing_pb2.Route(workspace=item.workspace), removed=True)))
                continue
            await send(routing_pb2.RoutesMessage(change=routing_pb2.RouteChange(route=route_to_pb(route))))

    async def _send_edges(self, send: Any) -> None:
        while True:
            await self._edges_changed.wait()
            await send(routing_pb2.RoutesMessage(edges=routing_pb2.EdgesChanged(edges=self._edge_infos())))


class RoutingEndpoint(WatchRoutesMixin):
    """Trio servicer for mcpfleet.v1.RoutingService (WatchRoutes from `WatchRoutesMixin`)."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator
        self.edges: EdgeRegistry = coordinator.edges
        self._edges_changed = trio.Event()

    def binding(self) -> ServiceBinding:
        return ServiceBinding(
            routing_pb2_grpc.add_RoutingServiceServicer_to_server, "mcpfleet.v1.RoutingService", self
        )

    async def Resolve(  # noqa: N802 (gRPC name)
        self, request: routing_pb2.ResolveRequest, ctx: CallContext
    ) -> routing_pb2.ResolveResponse:
        """NOT_FOUND (errors.NotFound) for a workspace that is not configured."""
        route = self._route(request.workspace)
        return routing_pb2.ResolveResponse(route=route_to_pb(route))

