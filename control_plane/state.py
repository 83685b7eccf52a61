"""The control plane's in-memory model of the fleet. Pure: no I/O; time is passed in as `now`.

Holds the seed's state structures as the control plane owns or mirrors them:
- WorkspaceConfigState: `configs` (last accepted config, version, lastModified, rejection reason);
- placement and ResourceState.allocatedPorts: `placements`, `pending`, `ports`;
- ProcessState: `workers`, mirrored from agents' reports, keyed by (host, workspace);
- agents and the assignment generation per host.
`reconcile()` turns config + agents into each host's desired AssignmentSet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from control_plane.placement import AgentView, HostLimits, place
from control_plane.ports import PortAllocator, PortRange
from mcpfleet.errors import NotFound
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import AgentHello, Assignment, AssignmentSet, Desired, RestartMode, Route, WorkerState
from mcpfleet.workspace import WorkspaceConfig


@dataclass
class ConfigEntry:
    """Seed WorkspaceConfigState entry. `config`/`raw` are the last accepted version (None if
    there never was one); `error` is the reason the newest file was rejected ("" when valid)."""

    name: str
    config: WorkspaceConfig | None
    raw: str | None
    version: str
    last_modified: float | None
    error: str = ""


@dataclass
class AgentRecord:
    """A known agent. `connected` is False after its stream ends (its workers keep running)."""

    host_id: str
    address: str
    port_range: PortRange
    version: str
    connected: bool
    last_seen: float
    draining: bool = False  # `agents drain`: its workspaces move elsewhere, nothing new lands


@dataclass(frozen=True)
class WorkspaceView:
    """One row of `workspaces list`: config, placement and the mirrored worker state."""

    name: str
    config_valid: bool
    config_error: str
    version: str
    last_modified: float | None
    host: str | None
    port: int | None
    pending_reason: str
    worker: WorkerState | None
    breaker: str = "closed"  # closed | open | half-open (from the restart mode the breaker set)


@dataclass
class FleetState:
    """See module docstring. `boot_id` pairs with every host's assignment `generation`."""

    boot_id: str
    heartbeat_interval_seconds: float
    ports: PortAllocator = field(default_factory=PortAllocator)
    configs: dict[str, ConfigEntry] = field(default_factory=dict)
    agents: dict[str, AgentRecord] = field(default_factory=dict)
    placements: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    workers: dict[tuple[str, str], WorkerState] = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)
    sent: dict[str, tuple[Assignment, ...]] = field(default_factory=dict)
    restart_modes: dict[str, RestartMode] = field(default_factory=dict)  # from breakers; absent = always
    blocked_hosts: set[str] = field(default_factory=set)  # agent link breaker open: no NEW workspaces
    limits: HostLimits = field(default_factory=HostLimits)  # host processLimits
    desired: dict[str, Desired] = field(default_factory=dict)  # operator's stop/start; absent = running
    # workspace -> (draining host, its port there): kept assigned there until the new host runs it
    handoffs: dict[str, tuple[str, int]] = field(default_factory=dict)

    # -- inputs -------------------------------------------------------------------------------

    def set_config(self, entry: ConfigEntry) -> None:
        """Record a workspace's config state (accepted or rejected)."""
        self.configs[entry.name] = entry

    def remove_config(self, name: str) -> None:
        """Forget a workspace whose file is gone; `reconcile` then releases its port."""
        self.configs.pop(name, None)

    def agent_connected(self, hello: AgentHello, now: float) -> None:
        """Register an agent from its hello; its snapshot replaces what we mirrored for its host.

        Workers it reports for workspaces we have not placed (a restarted control plane) are
        adopted: placement and port follow what is already running, so nothing restarts.
        """
        rng = PortRange(hello.port_min, hello.port_max)
        old = self.agents.get(hello.host_id)
        self.agents[hello.host_id] = AgentRecord(
            hello.host_id, hello.address, rng, hello.version, connected=True, last_seen=now,
            draining=old.draining if old else False,
        )
        self.ports.set_range(hello.host_id, rng)
        self.workers = {k: w for k, w in self.workers.items() if k[0] != hello.host_id}
        for w in hello.workers:
            self.workers[(hello.host_id, w.workspace)] = w
            if w.workspace not in self.placements and w.status != Status.STOPPED:
                self.placements[w.workspace] = hello.host_id
                taken = {p for ws, p in self.ports.hosts[hello.host_id].allocated.items() if ws != w.workspace}
                if w.port in rng and w.port not in taken:
                    self.ports.hosts[hello.host_id].allocated[w.workspace] = w.port

    def agent_disconnected(self, host_id: str, now: float) -> None:
        """Mark an agent's stream gone. Its workspaces stay placed (static stability)."""
        agent = self.agents.get(host_id)
        if agent:
            agent.connected = False
            agent.last_seen = now

    def worker_reported(self, host_id: str, worker: WorkerState, now: float) -> bool:
        """Mirror one worker status change reported by `host_id`'s agent. Returns True when it
        completes a drain handoff (the caller then reconciles, which stops the old copy)."""
        self.workers[(host_id, worker.workspace)] = worker
        agent = self.agents.get(host_id)
        if agent:
            agent.last_seen = now
        handoff = self.handoffs.get(worker.workspace)
        if (handoff and self.placements.get(worker.workspace) == host_id
                and worker.status == Status.RUNNING):
            del self.handoffs[worker.workspace]
            self.ports.release(handoff[0], worker.workspace)
            return True
        return False

    def agent_seen(self, host_id: str, now: float) -> None:
        """Any message from `host_id`'s agent (heartbeats included) keeps it `ready`."""
        agent = self.agents.get(host_id)
        if agent:
            agent.last_seen = now

    def set_draining(self, host_id: str, draining: bool) -> None:
        """Mark an agent draining (its workspaces move elsewhere: started there, then stopped
        here) or not. Raises NotFound for an unknown host."""
        if host_id not in self.agents:
            raise NotFound(f"agent {host_id!r} not found")
        self.agents[host_id].draining = draining

    # -- reconcile ----------------------------------------------------------------------------

    def reconcile(self) -> dict[str, AssignmentSet]:
        """Place every workspace with a usable config, allocate ports, and return the new
        AssignmentSet of every host whose desired set changed (its generation bumped).

        Raises nothing: a workspace that cannot be placed or given a port stays `pending`.
        """
        self.pending.clear()
        for ws in [w for w in self.placements if self._config_of(w) is None]:
            host = self.placements.pop(ws)
            self.ports.release(host, ws)
        for ws in [w for w in self.handoffs if self._config_of(w) is None]:
            self.ports.release(self.handoffs.pop(ws)[0], ws)
        counts: dict[str, int] = {}
        for host in self.placements.values():
            counts[host] = counts.get(host, 0) + 1
        for name in sorted(self.configs):
            config = self._config_of(name)
            if config is None:
                continue
            views = self._agent_views(counts)
            previous = self.placements.get(name)
            draining = previous is not None and self._is_draining(previous)
            decision = place(None if draining else previous, config.fleet.placement.host, views,
                             self.limits, *_needs(config))
            if decision.host is None and draining:
                decision = type(decision)(previous)  # nowhere to go: stays on the draining host
            if decision.host is None:
                self.pending[name] = decision.reason
                continue
            if previous != decision.host:
                if previous is not None:
                    old_port = self.ports.port_of(previous, name)
                    if draining and old_port is not None:
                        self.handoffs[name] = (previous, old_port)
                    else:
                        self.ports.release(previous, name)
                    counts[previous] -= 1
                counts[decision.host] = counts.get(decision.host, 0) + 1
                self.placements[name] = decision.host
            try:
                self.ports.allocate(decision.host, name)
            except Exception as err:  # ResourceExhausted: stays pending with the reason
                self.pending[name] = str(err)
        return self._changed_assignment_sets()

    def _agent_views(self, counts: dict[str, int]) -> list[AgentView]:
        memory: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for ws, host in self.placements.items():
            config = self._config_of(ws)
            if config is not None:
                mem, pct = _needs(config)
                memory[host] = memory.get(host, 0.0) + mem
                cpu[host] = cpu.get(host, 0.0) + pct
        return [AgentView(a.host_id, a.connected and not a.draining, counts.get(a.host_id, 0),
                          a.host_id not in self.blocked_hosts,
                          memory.get(a.host_id, 0.0), cpu.get(a.host_id, 0.0)) for a in self.agents.values()]

    def _is_draining(self, host: str) -> bool:
        agent = self.agents.get(host)
        return agent is not None and agent.draining

    def _config_of(self, name: str) -> WorkspaceConfig | None:
        entry = self.configs.get(name)
        return entry.config if entry else None

    def _changed_assignment_sets(self) -> dict[str, AssignmentSet]:
        changed: dict[str, AssignmentSet] = {}
        for host in self.agents:
            items = tuple(
                Assignment(
                    workspace=ws,
                    config_json=self.configs[ws].raw or "",
                    config_version=self.configs[ws].version,
                    port=port,
                    desired=self.desired.get(ws, Desired.RUNNING),
                    restart_mode=self.restart_modes.get(ws, RestartMode.ALWAYS),
                ) if self.restart_modes.get(ws) != RestartMode.NEVER else Assignment(  # breaker open: held stopped
                    workspace=ws, config_json=self.configs[ws].raw or "", config_version=self.configs[ws].version,
                    port=port, desired=Desired.STOPPED, restart_mode=RestartMode.NEVER,
                )
                for ws, h in sorted([*self.placements.items(),
                                     *((w, old) for w, (old, _) in self.handoffs.items())])
                if h == host and ws not in self.pending
                and (port := self.ports.port_of(host, ws)) is not None
            )
            if self.sent.get(host) != items or host not in self.generations:
                self.generations[host] = self.generations.get(host, 0) + 1
                self.sent[host] = items
                changed[host] = self.assignment_set(host)
        return changed

    def assignment_set(self, host: str) -> AssignmentSet:
        """The host's current desired set (what was last produced by `reconcile`)."""
        return AssignmentSet(
            boot_id=self.boot_id,
            generation=self.generations.get(host, 0),
            items=self.sent.get(host, ()),
            heartbeat_interval_seconds=self.heartbeat_interval_seconds,
        )

    # -- queries ------------------------------------------------------------------------------

    def view(self, name: str) -> WorkspaceView:
        """The workspace's row; raises NotFound for an unknown name."""
        entry = self.configs.get(name)
        if entry is None:
            raise NotFound(f"workspace {name!r} not found")
        host = self.placements.get(name)
        return WorkspaceView(
            name=name,
            config_valid=not entry.error,
            config_error=entry.error,
            version=entry.version,
            last_modified=entry.last_modified,
            host=host,
            port=self.ports.port_of(host, name) if host else None,
            pending_reason=self.pending.get(name, "" if host else "not placed"),
            worker=self.workers.get((host, name)) if host else None,
            breaker={RestartMode.NEVER: "open", RestartMode.ONCE: "half-open"}.get(
                self.restart_modes.get(name, RestartMode.ALWAYS), "closed"),
        )

    def views(self) -> list[WorkspaceView]:
        """Every configured workspace's row, by name."""
        return [self.view(n) for n in sorted(self.configs)]

    def route(self, name: str) -> Route:
        """Where edges send a workspace's clients. Raises NotFound for an unknown name."""
        v = self.view(name)
        entry = self.configs[name]
        if name in self.handoffs:  # draining: clients stay on the old copy until the new one runs
            old_host, old_port = self.handoffs[name]
            v = replace(v, host=old_host, port=old_port, worker=self.workers.get((old_host, name)))
        agent = self.agents.get(v.host) if v.host else None
        worker = v.worker
        on_port = worker is not None and worker.port == v.port
        return Route(
            workspace=name,
            status=worker.status if worker and on_port else Status.STOPPED,
            health=worker.health if worker and on_port else Health.UNHEALTHY,
            address=agent.address if agent else "",
            port=v.port or 0,
            request_timeout_seconds=entry.config.fleet.request_timeout_seconds if entry.config else 60.0,
            config_error=entry.error if entry.config is None else "",
            token_sha256=tuple(entry.config.fleet.auth.token_sha256) if entry.config else (),
            config_version=entry.version,
        )


def _needs(config: WorkspaceConfig) -> tuple[float, float]:
    """A workspace's (memoryMB, cpuPercent) from fleet.limits (0 when unset)."""
    limits = config.fleet.limits
    return float(limits.memory_mb or 0), float(limits.cpu_percent or 0)
