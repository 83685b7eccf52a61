"""Applies changes to FleetState and pushes each host's assignments to its agent's stream.

The one place where the pure state meets trio: every mutation goes through a method here, which
reconciles, persists port allocations when they changed, and hands each changed AssignmentSet to
the connected agent's mailbox (latest value wins: an agent always gets its newest full set).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import trio

from control_plane.breaker_board import BreakerBoard, workspace_component
from control_plane.edges import EdgeRegistry
from control_plane.events import Event, EventBus, EventType
from control_plane.port_store import save_ports
from control_plane.state import AgentRecord, ConfigEntry, FleetState
from mcpfleet.errors import NotFound
from mcpfleet.lifecycle import Status
from mcpfleet.model import PORT_IN_USE, AgentHello, AssignmentSet, WorkerState

log = logging.getLogger(__name__)


class Mailbox:
    """Holds the newest AssignmentSet for one agent stream; older unsent ones are dropped."""

    def __init__(self) -> None:
        self._latest: AssignmentSet | None = None
        self._ready = trio.Event()

    def put(self, value: AssignmentSet) -> None:
        self._latest = value
        self._ready.set()

    async def get(self) -> AssignmentSet:
        """Wait for and take the newest value."""
        await self._ready.wait()
        self._ready = trio.Event()
        value, self._latest = self._latest, None
        assert value is not None
        return value


class Coordinator:
    """Owns the FleetState of one control-plane process (see module docstring)."""

    def __init__(self, state: FleetState, ports_path: Path, clock: Callable[[], float] = time.time,
                 bus: EventBus | None = None) -> None:
        self.state = state
        self.ports_path = ports_path
        self.clock = clock
        self.bus = bus if bus is not None else EventBus(clock=clock)
        self.edges = EdgeRegistry()  # edges registered on RoutingService.WatchRoutes (their connections)
        self.breakers = BreakerBoard()
        self.mailboxes: dict[str, Mailbox] = {}
        self.closing = False  # set at shutdown: agent streams ending then are not link failures
        self.foreign_ports: dict[str, set[int]] = {}  # host -> ports agents found held by others

    def load_configs(self, entries: list[ConfigEntry]) -> None:
        """Record workspace configs (at startup or after a change) and reconcile. A workspace whose
        accepted config changed gets its breaker closed: its failures were the old version's (and
        a rollback to the last good version must not wait out the open period)."""
        reset: list[str] = []
        for entry in entries:
            old = self.state.configs.get(entry.name)
            if (old is not None and entry.config is not None and old.version != entry.version
                    and self.breaker_state(entry.name) != "closed"):
                if self.breakers.reset(workspace_component(entry.name))[1]:
                    reset.append(workspace_component(entry.name))
            self.state.set_config(entry)
        if reset:
            log.info("config changed: breakers %s closed", ", ".join(reset))
            self.apply_breakers(reset, reconcile=False)
        self.reconcile()

    def validate_ports_at_startup(self) -> None:
        """ARCHITECTURE 2 "port validation on startup", the control plane's part (call after the
        configs are loaded, before agents connect): keep the allocation of every configured
        workspace, placing it back on its host so a restart reuses the port even when nothing
        listens there now; release allocations no config needs (an agent still running such a
        worker reports it on connect, and reconcile then stops it and releases the port)."""
        held = self._port_map()
        for host, hp in self.state.ports.hosts.items():
            if host not in self.state.agents and hp.allocated:
                # Known from ports.json, not yet reconnected: `unknown`, so its workspaces are not
                # moved to whichever agent connects first (static stability).
                self.state.agents[host] = AgentRecord(host, "", hp.port_range, "", connected=False,
                                                      last_seen=self.clock())
            for ws in sorted(hp.allocated):
                entry = self.state.configs.get(ws)
                if entry is not None and entry.config is not None:
                    self.state.placements.setdefault(ws, host)
                else:
                    log.info("releasing port %d of %s on %s: no config needs it", hp.allocated[ws], ws, host)
                    del hp.allocated[ws]
        if self._port_map() != held:
            save_ports(self.ports_path, self.state.ports)
            self._post_port_events(held, self._port_map())

    def attach_agent(self, hello: AgentHello) -> Mailbox:
        """An agent stream said hello: register it and queue its full desired set."""
        before = {ws: w for (h, ws), w in self.state.workers.items() if h == hello.host_id}
        self.state.agent_connected(hello, self.clock())
        self.bus.post(Event(EventType.AGENT_CHANGED, "", hello.host_id, {
            "status": "ready", "connected": True, "address": hello.address, "version": hello.version,
            "workers": len(hello.workers)}))
        for worker in hello.workers:
            self.post_process_events(hello.host_id, before.get(worker.workspace), worker)
        self.apply_breakers(self.breakers.agent_up(hello.host_id, self.clock()), reconcile=False)
        mailbox = Mailbox()
        self.mailboxes[hello.host_id] = mailbox
        log.info("agent %s connected from %s with %d workers", hello.host_id, hello.address,
                 len(hello.workers))
        self.reconcile()
        mailbox.put(self.state.assignment_set(hello.host_id))
        return mailbox

    def detach_agent(self, host_id: str, mailbox: Mailbox) -> None:
        """An agent stream ended. A newer stream of the same host keeps its registration."""
        if self.mailboxes.get(host_id) is mailbox:
            del self.mailboxes[host_id]
            self.state.agent_disconnected(host_id, self.clock())
            self.bus.post(Event(EventType.AGENT_CHANGED, "", host_id, {"status": "unknown", "connected": False}))
            if not self.closing:
                self.apply_breakers(self.breakers.agent_lost(host_id, self.clock(), "agent stream ended"))
            log.warning("agent %s disconnected; its workers keep running", host_id)

    def worker_reported(self, host_id: str, worker: WorkerState) -> None:
        """Mirror one worker status change; post `process/*` events for what changed."""
        before = self.state.workers.get((host_id, worker.workspace))
        handoff_done = self.state.worker_reported(host_id, worker, self.clock())
        if handoff_done:  # a drained workspace runs on its new host: stop the old copy
            self.reconcile()
        if before is not None and before.port != worker.port:
            before = None  # a report about another port: not a transition of this worker
        changed = self.breakers.worker_report(before, worker, self.clock())
        self.post_process_events(host_id, before, worker)
        self.apply_breakers(changed)
        if (worker.status == Status.ERROR and worker.error_history
                and worker.error_history[-1].reason == PORT_IN_USE
                and (before is None or before.status != Status.ERROR)):
            self.move_off_foreign_port(host_id, worker.workspace, worker.port)

    def move_off_foreign_port(self, host_id: str, workspace: str, port: int) -> None:
        """ARCHITECTURE 2: a port found held by a foreign process is reported by the agent; the
        workspace gets a new port (never that one again on this host while we run); not a failure."""
        if self.state.ports.port_of(host_id, workspace) != port:
            return
        avoid = self.foreign_ports.setdefault(host_id, set())
        avoid.add(port)
        held = self._port_map()
        self.state.ports.release(host_id, workspace)
        try:
            new_port, _ = self.state.ports.allocate(host_id, workspace, avoid=frozenset(avoid))
        except Exception as err:  # ResourceExhausted: reconcile leaves it pending with the reason
            log.error("workspace %s: port %d on %s is held by a foreign process and no other port is "
                      "free: %s", workspace, port, host_id, err)
        else:
            log.warning("workspace %s: port %d on %s is held by a foreign process; moving to port %d",
                        workspace, port, host_id, new_port)
        save_ports(self.ports_path, self.state.ports)
        self._post_port_events(held, self._port_map())
        self.reconcile()

    def post_process_events(self, host_id: str, before: WorkerState | None, after: WorkerState) -> None:
        """Diff two mirrored states of one worker and post `process/statusChanged` (every status or
        health change) plus `process/started|stopped|error` on entering running|stopped|error."""
        old_status = before.status if before else Status.STOPPED
        if before is not None and old_status == after.status and before.health == after.health:
            return
        if before is None and after.status == Status.STOPPED:
            return
        ws = after.workspace
        self.bus.post(Event(EventType.PROCESS_STATUS_CHANGED, ws, host_id, {
            "status": str(after.status), "previous": str(old_status), "health": str(after.health),
            "breaker": self.breaker_state(ws), "port": after.port, "pid": after.pid,
            "restartCount": after.restart_count}))
        if old_status == after.status:
            return
        if after.status == Status.RUNNING:
            self.bus.post(Event(EventType.PROCESS_STARTED, ws, host_id, {
                "pid": after.pid, "port": after.port, "startTime": after.start_time,
                "configVersion": after.config_version}))
        elif after.status == Status.STOPPED:
            self.bus.post(Event(EventType.PROCESS_STOPPED, ws, host_id, {"reason": _last_error(after)}))
        elif after.status == Status.ERROR:
            self.bus.post(Event(EventType.PROCESS_ERROR, ws, host_id, {"error": _last_error(after)}))

    def breaker_state(self, workspace: str) -> str:
        """The workspace's breaker state name: closed, open or half-open."""
        return self.breakers.state_of(workspace_component(workspace))

    def apply_breakers(self, changed: list[str], *, reconcile: bool = True) -> None:
        """After breakers changed: post `breaker/changed`, give the state the new restart modes
        and blocked hosts, and (if `reconcile`) push the changed assignment sets."""
        if not changed:
            return
        for component in changed:
            b = self.breakers.get(component)
            kind, _, name = component.partition("/")
            self.bus.post(Event(EventType.BREAKER_CHANGED, name if kind == "workspace" else "",
                                name if kind == "agent" else "", {
                                    "component": component, "state": str(b.state),
                                    "failureCount": b.failure_count, "nextRetry": b.next_retry,
                                    "openCount": b.open_count,
                                    "lastError": b.recent_errors[-1].message if b.recent_errors else ""}))
            log.warning("breaker %s is %s (failures %d, next retry %s)", component, b.state, b.failure_count,
                        b.next_retry)
        self.state.restart_modes = self.breakers.restart_modes()
        self.state.blocked_hosts = self.breakers.blocked_hosts()
        if reconcile:
            self.reconcile()

    def reset_breaker(self, component: str) -> None:
        """Operator reset of one breaker. Raises NotFound for an unknown component."""
        try:
            _, changed = self.breakers.reset(component)
        except KeyError:
            raise NotFound(f"no breaker {component!r} (see `mcpfleet breakers list`)") from None
        self.apply_breakers([component] if changed else [])

    async def run_breakers(self, tick_seconds: float,
                           task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Advance the breakers' clocks every `tick_seconds` (open -> half-open, trial -> closed)."""
        task_status.started()
        while True:
            await trio.sleep(tick_seconds)
            up = {h for h, a in self.state.agents.items() if a.connected}
            self.apply_breakers(self.breakers.tick(self.clock(), up))

    def reconcile(self) -> None:
        """Recompute placement and ports; persist ports if they changed; push changed sets."""
        before = self.state.ports.to_json()
        held = self._port_map()
        changed = self.state.reconcile()
        if self.state.ports.to_json() != before:
            save_ports(self.ports_path, self.state.ports)
            self._post_port_events(held, self._port_map())
        for host, assignment_set in changed.items():
            mailbox = self.mailboxes.get(host)
            if mailbox is not None:
                mailbox.put(assignment_set)

    def _port_map(self) -> dict[tuple[str, str], int]:
        return {(host, ws): port for host, hp in self.state.ports.hosts.items()
                for ws, port in hp.allocated.items()}

    def _post_port_events(self, before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> None:
        for (host, ws), port in sorted(before.items()):
            if after.get((host, ws)) != port:
                self.bus.post(Event(EventType.RESOURCE_RELEASED, ws, host, {"kind": "port", "port": port}))
        for (host, ws), port in sorted(after.items()):
            if before.get((host, ws)) != port:
                self.bus.post(Event(EventType.RESOURCE_ALLOCATED, ws, host, {"kind": "port", "port": port}))


def _last_error(worker: WorkerState) -> str:
    if not worker.error_history:
        return ""
    err = worker.error_history[-1]
    return f"{err.reason}: {err.message}" if err.message else err.reason
