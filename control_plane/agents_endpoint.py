"""AdminService RPCs of the `// -- agents and logs` section (gRPC endpoint).

A mixin of AdminEndpoint: `ListAgents` (`mcpfleet agents list`), `DrainAgent` (`agents drain`:
every workspace of the host is started elsewhere, then stopped there; FleetState handoffs) and
`StreamLogs` (`mcpfleet logs`: the worker's log from whichever host runs it, relayed over that
agent's AgentService stream by the LogBroker). Protobuf stays here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from control_plane.agents import AgentSummary, summarize_agents
from control_plane.events import Event, EventType
from control_plane.log_broker import LogBroker
from mcpfleet import errors
from mcpfleet.convert import enum_to_pb, ts_to_pb
from mcpfleet.rpc import CallContext, Stream
from mcpfleet.v1 import admin_pb2
from mcpfleet.workspace import check_name

if TYPE_CHECKING:
    from control_plane.coordinator import Coordinator

log = logging.getLogger(__name__)


def agent_to_pb(a: AgentSummary) -> admin_pb2.AgentInfo:
    return admin_pb2.AgentInfo(
        host_id=a.host_id, address=a.address, status=enum_to_pb("AGENT_STATUS", a.status),
        version=a.version, connected=a.connected, last_seen=ts_to_pb(a.last_seen),
        port_min=a.port_min, port_max=a.port_max, workspaces=list(a.workspaces),
        rss_mib=a.rss_mib, cpu_percent=a.cpu_percent, process_count=a.process_count)


class AgentRpcs:
    """Mixin; the endpoint sets `coordinator`, and `attach_agents(logs, unknown_after)` the rest."""

    coordinator: Coordinator
    _logs: LogBroker | None = None
    _unknown_after: float = 20.0

    def attach_agents(self, logs: LogBroker, unknown_after_seconds: float) -> None:
        """Give the endpoint the log broker shared with AgentEndpoint and the `unknown` bar
        (heartbeat TTL + grace, seconds). Done once by app.py."""
        self._logs, self._unknown_after = logs, unknown_after_seconds

    def _summaries(self) -> list[AgentSummary]:
        return summarize_agents(self.coordinator.state, self.coordinator.clock(), self._unknown_after)

    async def ListAgents(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ListAgentsRequest, ctx: CallContext
    ) -> admin_pb2.ListAgentsResponse:
        return admin_pb2.ListAgentsResponse(agents=[agent_to_pb(a) for a in self._summaries()])

    async def DrainAgent(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.DrainAgentRequest, ctx: CallContext
    ) -> admin_pb2.DrainAgentResponse:
        state = self.coordinator.state
        host = request.host_id
        before = {ws for ws, h in state.placements.items() if h == host}
        state.set_draining(host, not request.undo)  # NotFound for an unknown host
        self.coordinator.reconcile()
        log.info("agent %s %s", host, "no longer draining" if request.undo else "draining")
        status = next(a.status for a in self._summaries() if a.host_id == host)
        self.coordinator.bus.post(Event(EventType.AGENT_CHANGED, "", host, {"status": status}))
        staying = sorted(ws for ws in before if state.placements.get(ws) == host)
        agent = next(a for a in self._summaries() if a.host_id == host)
        return admin_pb2.DrainAgentResponse(agent=agent_to_pb(agent),
                                            moving=sorted(before - set(staying)), staying=staying)

    async def StreamLogs(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.StreamLogsRequest, stream: Stream, ctx: CallContext
    ) -> None:
        if self._logs is None:
            raise errors.Internal("log streaming is not wired")
        name = check_name(request.workspace)
        view = self.coordinator.state.view(name)  # NotFound for an unknown workspace
        if not view.host:
            raise errors.FailedPrecondition(f"workspace {name!r} is not placed on any host")
        async with self._logs.open(view.host, name, request.tail_lines, request.follow) as chunks:
            async for chunk in chunks:
                if chunk.data:
                    await stream.send(admin_pb2.StreamLogsResponse(data=chunk.data, host_id=view.host))
                if chunk.eof:
                    if chunk.error:
                        raise errors.NotFound(chunk.error)
                    return
            raise errors.Unavailable(f"agent {view.host!r} went away")
