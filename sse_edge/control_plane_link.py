"""The edge's resolver: asks the control plane's RoutingService where a workspace runs."""

from __future__ import annotations

from mcpfleet.convert import route_from_pb
from mcpfleet.model import Route
from mcpfleet.rpc import Channel
from mcpfleet.v1 import routing_pb2, routing_pb2_grpc

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
