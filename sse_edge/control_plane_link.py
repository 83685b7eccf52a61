"""The edge's resolver: asks the control plane's RoutingService where a workspace runs."""

from __future__ import annotations

from mcpfleet.convert import route_from_pb
from mcpfleet.rpc import Channel
from mcpfleet.v1 import routing_pb2, routing_pb2_grpc
from sse_edge.routing_table import Route

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
        r = route_from_pb(resp.route)
        return Route(workspace=r.workspace, status=str(r.status), health=str(r.health),
                     address=r.address, port=r.port,
                     request_timeout_seconds=r.request_timeout_seconds,
                     config_error=r.config_error, breaker=r.breaker)
