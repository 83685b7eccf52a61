"""The edge's link to the control plane's RoutingService: unary `Resolve` (`ControlPlaneResolver`)
and the `WatchRoutes` stream (`watch_routes`: registration, connection events, routes)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import trio

from mcpfleet import __version__
from mcpfleet.convert import route_from_pb
from mcpfleet.errors import FleetError
from mcpfleet.model import Route
from mcpfleet.rpc import Channel
from mcpfleet.v1 import routing_pb2, routing_pb2_grpc
from sse_edge.edge import Edge
from sse_edge.proxy_session import ProxySession

log = logging.getLogger(__name__)

RESOLVE_TIMEOUT = 2.0


class ControlPlaneResolver:
    """Implements `routing_table.Resolver` over gRPC. Raises errors.NotFound for an unknown
    workspace and errors.Unavailable / DeadlineExceeded when the control plane cannot answer."""

    def __init__(self, channel: Channel, timeout: float = RESOLVE_TIMEOUT) -> None:
        self.channel = channel
        self.timeout = timeout

    async def resolve(self, workspace: str) -> Route:
        resp = await self.channel.unary(routing_pb2_grpc.RoutingServiceStub, "Resolve",
                                        routing_pb2.ResolveRequest(workspace=workspace),
                                        timeout=self.timeout)
        return route_from_pb(resp.route)


WATCH_BACKOFF_MIN_SECONDS = 0.2
WATCH_BACKOFF_MAX_SECONDS = 5.0
_EVENT_QUEUE = 1024


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def watch_routes(channel: Channel, edge: Edge, public_url: str, admin_url: str) -> None:
    """Keep `edge`'s route table and peer list fed from RoutingService.WatchRoutes, forever:
    register (hello: edge id, public and admin URL, version), send connection/opened|closed,
    apply the snapshot and each change (telling the workspace's clients about status changes).
    On a broken stream: `edge.watched` goes False (the cache keeps serving), then reconnect with
    backoff (0.2 s doubling to 5 s)."""
    send_events, receive_events = trio.open_memory_channel[routing_pb2.ConnectionEvent](_EVENT_QUEUE)

    def on_connection(event: str, session: ProxySession) -> None:
        msg = routing_pb2.ConnectionEvent(
            event=f"connection/{event}", session_id_prefix=session.session_id[:12], workspace=session.workspace,
            transport=session.transport, client_name=str(session.client_info.get("name", "")),
            connected_at=_rfc3339(session.connected_at))
        try:
            send_events.send_nowait(msg)
        except trio.WouldBlock:
            log.warning("connection event queue full; dropping %s", msg.event)

    edge.on_connection.append(on_connection)
    static_peers = dict(edge.options.peers)
    delay = WATCH_BACKOFF_MIN_SECONDS
    while True:
        try:
            async with channel.bidi(routing_pb2_grpc.RoutingServiceStub, "WatchRoutes") as stream:
                seq = 1
                hello = routing_pb2.EdgeHello(edge_id=edge.options.edge_id, public_address=public_url,
                                              admin_address=admin_url, version=__version__)
                await stream.send(routing_pb2.EdgeMessage(seq=seq, hello=hello))
                for s in edge.sessions.sessions():  # re-report what is open after a reconnect
                    on_connection("opened", s.handle)

                async def pump_events() -> None:
                    nonlocal seq
                    async for event in receive_events:
                        seq += 1
                        await stream.send(routing_pb2.EdgeMessage(seq=seq, connection=event))

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(pump_events)
                    async for msg in stream:
                        _apply(edge, msg, static_peers)
                        delay = WATCH_BACKOFF_MIN_SECONDS
                    nursery.cancel_scope.cancel()
        except FleetError as err:
            log.info("route watch broken: %s", err)
        except BaseExceptionGroup as group:  # from the nursery around the stream
            _, rest = group.split(FleetError)
            if rest is not None:
                raise rest from None
            log.info("route watch broken: %s", group.exceptions[0])
        edge.watched = False
        await trio.sleep(delay)
        delay = min(delay * 2, WATCH_BACKOFF_MAX_SECONDS)


def _apply(edge: Edge, msg: routing_pb2.RoutesMessage, static_peers: dict[str, str]) -> None:
    now = trio.current_time()
    kind = msg.WhichOneof("body")
    if kind == "snapshot":
        for pb in msg.snapshot.routes:
            edge.apply_route(route_from_pb(pb), now)
        _set_peers(edge, msg.snapshot.edges, static_peers)
        if not edge.watched:
            log.info("route watch up: %d routes, %d edges", len(msg.snapshot.routes), len(msg.snapshot.edges))
        edge.watched = True
    elif kind == "change":
        if msg.change.removed:
            edge.routes.invalidate(msg.change.route.workspace)
        else:
            edge.apply_route(route_from_pb(msg.change.route), now)
    elif kind == "edges":
        _set_peers(edge, msg.edges.edges, static_peers)


def _set_peers(edge: Edge, edges: Any, static_peers: dict[str, str]) -> None:
    peers = dict(static_peers)
    for info in edges:
        if info.edge_id != edge.options.edge_id and info.public_address:
            peers[info.edge_id] = info.public_address
    edge.options.peers = peers
