"""Every component's breaker, fed from mirrored worker reports and agent links. Pure.

What counts (ARCHITECTURE "who restarts"):
- workspace `workspace/<name>`: each time its worker enters `error` is one failure (the error's
  reason and message from its errorHistory), except reasons in `NOT_WORKSPACE_FAILURES` (a
  foreign process holding its port is not the workspace's fault); `running` with health healthy
  or degraded is "up"; anything else restarts the stable period.
- agent link `agent/<host>`: each stream that breaks or misses its heartbeats is one failure; a
  connected stream is "up".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from control_plane.breaker import Breaker, BreakerPolicy, BreakerState
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import PORT_IN_USE, RestartMode, WorkerState

# Error reasons (ProcessError.reason, set by the agent) that are not the workspace's failure.
NOT_WORKSPACE_FAILURES = frozenset({PORT_IN_USE})


def workspace_component(name: str) -> str:
    """`workspace/<name>`."""
    return f"workspace/{name}"


def agent_component(host: str) -> str:
    """`agent/<host>`."""
    return f"agent/{host}"


@dataclass
class BreakerBoard:
    """Breakers by component name (see module docstring). Methods return the components whose
    state (closed/open/half-open) changed."""

    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    agent_policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    breakers: dict[str, Breaker] = field(default_factory=dict)

    def get(self, component: str) -> Breaker:
        """The component's breaker (created closed on first use)."""
        b = self.breakers.get(component)
        if b is None:
            policy = self.agent_policy if component.startswith("agent/") else self.policy
            b = self.breakers[component] = Breaker(component, policy)
        return b

    def worker_report(self, before: WorkerState | None, after: WorkerState, now: float) -> list[str]:
        """Feed one mirrored worker change of workspace `after.workspace`."""
        b = self.get(workspace_component(after.workspace))
        changed = False
        if after.status == Status.ERROR:
            if before is None or before.status != Status.ERROR:
                err = after.error_history[-1] if after.error_history else None
                reason = err.reason if err else "error"
                if reason in NOT_WORKSPACE_FAILURES:
                    b.not_healthy(now)
                else:
                    changed = b.failure(now, reason, err.message if err else "")
        elif after.status == Status.RUNNING and after.health in (Health.HEALTHY, Health.DEGRADED):
            changed = b.healthy(now, after.health)
        else:
            b.not_healthy(now, after.health)
        return [b.component] if changed else []

    def agent_up(self, host: str, now: float) -> list[str]:
        """An agent stream said hello."""
        b = self.get(agent_component(host))
        return [b.component] if b.healthy(now) else []

    def agent_lost(self, host: str, now: float, reason: str) -> list[str]:
        """An agent stream broke or missed its heartbeats (`reason`)."""
        b = self.get(agent_component(host))
        return [b.component] if b.failure(now, "stream", reason) else []

    def tick(self, now: float, agents_up: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Advance every breaker's clock. `agents_up`: hosts whose stream is connected now (a
        half-open agent-link breaker closes after they stay so for its stable period)."""
        changed = [b.component for b in list(self.breakers.values()) if b.tick(now)]
        for host in agents_up:
            b = self.breakers.get(agent_component(host))
            if b is not None and b.state == BreakerState.HALF_OPEN and b.healthy_since is None:
                b.healthy(now)  # the stable period starts now
        return changed

    def reset(self, component: str) -> tuple[Breaker, bool]:
        """Operator reset; raises KeyError for an unknown component."""
        b = self.breakers[component]
        return b, b.reset()

    def restart_modes(self) -> dict[str, RestartMode]:
        """Workspace -> restart mode, for every workspace whose breaker is not closed."""
        return {c.removeprefix("workspace/"): b.restart_mode for c, b in self.breakers.items()
                if c.startswith("workspace/") and b.state != BreakerState.CLOSED}

    def blocked_hosts(self) -> set[str]:
        """Hosts whose agent-link breaker is open (no NEW workspaces there)."""
        return {c.removeprefix("agent/") for c, b in self.breakers.items()
                if c.startswith("agent/") and b.state == BreakerState.OPEN}

    def state_of(self, component: str) -> str:
        """`closed`, `open` or `half-open` (closed for a component never seen)."""
        b = self.breakers.get(component)
        return str(b.state) if b else str(BreakerState.CLOSED)
