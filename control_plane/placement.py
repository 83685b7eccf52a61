"""Placement: which host runs a workspace. Pure.

Rules: a placed workspace stays where it is while that agent is known (an `unknown` agent is not
a reason to move: ARCHITECTURE "static stability"); a pinned workspace (`fleet.placement.host`)
goes only to that host; otherwise the ready agent with the fewest workspaces wins, ties by host id.
A NEW placement also skips agents whose link breaker is open (`accepts_new` False) and hosts where
it would exceed the host processLimits (seed ResourceState.processLimits; 0 = no limit):
`max_workspaces`, `max_memory_mb` (sum of the workspaces' `fleet.limits.memoryMB`, MiB) and
`max_cpu_percent` (sum of their `fleet.limits.cpuPercent`, percent of one core). If none is left
the workspace stays pending with every host's reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentView:
    """What placement needs to know about one agent."""

    host_id: str
    ready: bool
    workspace_count: int
    accepts_new: bool = True  # False while the agent link's breaker is open
    memory_mb: float = 0.0  # sum of fleet.limits.memoryMB of the workspaces placed there (MiB)
    cpu_percent: float = 0.0  # sum of their fleet.limits.cpuPercent


@dataclass(frozen=True)
class HostLimits:
    """Host processLimits from the control plane's settings; 0 means no limit."""

    max_workspaces: int = 0
    max_memory_mb: float = 0.0
    max_cpu_percent: float = 0.0

    def refusal(self, agent: AgentView, memory_mb: float, cpu_percent: float) -> str:
        """Why one more workspace (needing `memory_mb` MiB, `cpu_percent` %) does not fit on
        `agent` ("" if it fits)."""
        if self.max_workspaces and agent.workspace_count + 1 > self.max_workspaces:
            return f"maxWorkspaces {self.max_workspaces} reached"
        if self.max_memory_mb and agent.memory_mb + memory_mb > self.max_memory_mb:
            return (f"maxMemoryMB {self.max_memory_mb:g} exceeded ({agent.memory_mb:g} + "
                    f"{memory_mb:g} MiB)")
        if self.max_cpu_percent and agent.cpu_percent + cpu_percent > self.max_cpu_percent:
            return (f"maxCpuPercent {self.max_cpu_percent:g} exceeded ({agent.cpu_percent:g} + "
                    f"{cpu_percent:g} %)")
        return ""


@dataclass(frozen=True)
class Decision:
    """`host` is None when the workspace stays `pending`; `reason` then says why."""

    host: str | None
    reason: str = ""


def place(current_host: str | None, pinned_host: str | None, agents: list[AgentView],
          limits: HostLimits = HostLimits(), memory_mb: float = 0.0, cpu_percent: float = 0.0) -> Decision:
    """Choose a host for one workspace (see module docstring). `memory_mb`/`cpu_percent`: the
    workspace's own fleet.limits (0 when it sets none)."""
    known = {a.host_id: a for a in agents}
    if current_host in known and (pinned_host is None or pinned_host == current_host):
        return Decision(current_host)
    candidates = [a for a in agents if a.ready]
    if pinned_host is not None:
        candidates = [a for a in candidates if a.host_id == pinned_host]
        if not candidates:
            return Decision(None, f"pinned host {pinned_host!r} is not connected")
    if not candidates:
        return Decision(None, "no ready agent")
    refused: list[str] = []
    fitting = []
    for a in candidates:
        why = "agent link breaker open" if not a.accepts_new else limits.refusal(a, memory_mb, cpu_percent)
        if why:
            refused.append(f"host {a.host_id}: {why}")
        else:
            fitting.append(a)
    if not fitting:
        return Decision(None, "; ".join(refused))
    candidates = fitting
    best = min(candidates, key=lambda a: (a.workspace_count, a.host_id))
    return Decision(best.host_id)
