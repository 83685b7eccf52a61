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

from control_plane.port_store import save_ports
from control_plane.state import ConfigEntry, FleetState
from mcpfleet.model import AgentHello, AssignmentSet, WorkerState

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

    def __init__(self, state: FleetState, ports_path: Path, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.ports_path = ports_path
        self.clock = clock
        self.mailboxes: dict[str, Mailbox] = {}

    def load_configs(self, entries: list[ConfigEntry]) -> None:
        """Record workspace configs (at startup or after a change) and reconcile."""
        for entry in entries:
            self.state.set_config(entry)
        self.reconcile()

    def attach_agent(self, hello: AgentHello) -> Mailbox:
        """An agent stream said hello: register it and queue its full desired set."""
        self.state.agent_connected(hello, self.clock())
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
            log.warning("agent %s disconnected; its workers keep running", host_id)

    def worker_reported(self, host_id: str, worker: WorkerState) -> None:
        """Mirror one worker status change."""
        self.state.worker_reported(host_id, worker, self.clock())

    def reconcile(self) -> None:
        """Recompute placement and ports; persist ports if they changed; push changed sets."""
        before = self.state.ports.to_json()
        changed = self.state.reconcile()
        if self.state.ports.to_json() != before:
            save_ports(self.ports_path, self.state.ports)
        for host, assignment_set in changed.items():
            mailbox = self.mailboxes.get(host)
            if mailbox is not None:
                mailbox.put(assignment_set)
