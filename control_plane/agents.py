"""What `agents list` shows about each agent. Pure: time is passed in as `now` (epoch seconds).

Agent status (ARCHITECTURE section 2 vocabulary): `draining` once an operator drained it; else
`ready` while it was heard from (hello, status, heartbeat) within `unknown_after` seconds
(heartbeat TTL + grace), else `unknown`. `unknown` is only a label: nothing is killed or moved for
it (static stability: placement keeps workspaces on known agents).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.state import FleetState


@dataclass(frozen=True)
class AgentSummary:
    """One row of `agents list`. Usage sums its workers' trees: RSS MiB, CPU % of one core."""

    host_id: str
    address: str
    status: str
    version: str
    connected: bool
    last_seen: float
    port_min: int
    port_max: int
    workspaces: tuple[str, ...]
    rss_mib: float
    cpu_percent: float
    process_count: int


def agent_status(draining: bool, last_seen: float, now: float, unknown_after: float) -> str:
    """`draining`, `ready` or `unknown` (see module docstring)."""
    if draining:
        return "draining"
    return "ready" if now - last_seen <= unknown_after else "unknown"


def summarize_agents(state: FleetState, now: float, unknown_after: float) -> list[AgentSummary]:
    """Every known agent, by host id, with the workspaces placed there and their usage."""
    rows = []
    for host_id in sorted(state.agents):
        agent = state.agents[host_id]
        placed = tuple(sorted(ws for ws, h in state.placements.items() if h == host_id))
        workers = [w for (h, _), w in state.workers.items() if h == host_id and w.pid]
        rows.append(AgentSummary(
            host_id=host_id, address=agent.address,
            status=agent_status(agent.draining, agent.last_seen, now, unknown_after),
            version=agent.version, connected=agent.connected, last_seen=agent.last_seen,
            port_min=agent.port_range.min, port_max=agent.port_range.max, workspaces=placed,
            rss_mib=round(sum(w.rss_mib for w in workers), 1),
            cpu_percent=round(sum(w.cpu_percent for w in workers), 1),
            process_count=sum(w.process_count for w in workers),
        ))
    return rows
