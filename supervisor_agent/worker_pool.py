"""The agent's workers: applies AssignmentSets and keeps the observed state of every worker.

Owns one WorkerSupervisor task per assigned workspace (in the agent's nursery), the latest
WorkerState of each (the full snapshot sent on every connect), the set of workspaces whose
state changed since the link last sent them (latest value wins), the host-wide semaphore of
starts in progress (at most `Timers.max_starts`), and the local state file of running workers
(`worker_records`), rewritten whenever a worker's pid changes, from which `restore` re-adopts
the workers an earlier agent left running; and the agent's pre-warmed spare workers
(`spare_worker.py`: `spares` of them, which workers are started from; never workspace processes).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import httpx
import trio

from mcpfleet.model import Assignment, AssignmentSet, WorkerState
from supervisor_agent.reconcile import is_newer, plan
from supervisor_agent.spare_worker import SpareWorkers
from supervisor_agent.worker_records import WorkerRecord, load_records, save_records
from supervisor_agent.worker_supervisor import Timers, WorkerSupervisor

log = logging.getLogger(__name__)


class WorkerPool:
    """See module docstring. Call `fill_spares` once, `apply` for each AssignmentSet,
    `stop_all` or `detach_all` on exit (both reap the spares)."""

    def __init__(self, nursery: trio.Nursery, state_dir: Path, bind_host: str, timers: Timers,
                 http: httpx.AsyncClient, host_id: str = "", spares: int = 0) -> None:
        self.nursery = nursery
        self.state_dir = state_dir
        self.bind_host = bind_host
        self.timers = timers
        self.http = http
        self.supervisors: dict[str, WorkerSupervisor] = {}
        self.states: dict[str, WorkerState] = {}
        self.dirty: set[str] = set()
        self.changed = trio.Event()
        self.applied: tuple[str, int] | None = None
        self._lock = trio.Lock()
        self.host_id = host_id
        self.starts = trio.Semaphore(timers.max_starts)
        self.records: dict[str, WorkerRecord] = {}
        self.spares = SpareWorkers(nursery, state_dir, spares, timers.stop_grace, timers.log_max_bytes,
                                   busy=lambda: self.starts.value < timers.max_starts)

    async def fill_spares(self) -> None:
        """Start the spare workers (`spares` of them); later starts refill them."""
        await self.spares.fill()

    def _report(self, state: WorkerState) -> None:
        self.states[state.workspace] = state
        self.dirty.add(state.workspace)
        self.changed.set()
        self._record(state)

    def _record(self, state: WorkerState) -> None:
        ws = state.workspace
        if state.pid and state.create_time:
            rec: WorkerRecord | None = WorkerRecord(ws, state.pid, state.create_time, state.port,
                                                    state.config_version, state.restart_count,
                                                    state.start_time)
        else:
            rec = None
        if self.records.get(ws) == rec:
            return
        if rec is None:
            del self.records[ws]
        else:
            self.records[ws] = rec
        try:
            save_records(self.state_dir, self.host_id, self.records)
        except OSError as err:
            log.error("cannot write the workers state file: %s", err)

    async def restore(self) -> int:
        """Supervise the workers recorded in the state file: live ones (pid and create time match)
        are re-adopted, dead ones started again. Call once, before the first `apply`. Returns
        how many records there were."""
        records = load_records(self.state_dir)
        for ws, rec in records.items():
            try:
                config_json = (self.state_dir / "workers" / f"{ws}.json").read_text()
            except OSError as err:
                log.warning("worker %s: no saved config (%s); not re-adopting pid %d", ws, err, rec.pid)
                continue
            assignment = Assignment(ws, config_json, rec.config_version, rec.port)
            sup = WorkerSupervisor(assignment, self.state_dir, self.bind_host, self.timers,
                                   self.http, self._report, starts=self.starts, adopt=rec,
                                   start_process=self.spares.start)
            self.supervisors[ws] = sup
            await self.nursery.start(sup.run)
        return len(records)

    def take_changes(self) -> list[WorkerState]:
        """The states changed since the last call (for the link to send), oldest dirt cleared."""
        changes = [self.states[ws] for ws in sorted(self.dirty)]
        self.dirty.clear()
        self.changed = trio.Event()
        return changes

    def mark_changed(self, workspaces: list[str]) -> None:
        """Have the link send these workspaces' latest states again (e.g. unacknowledged)."""
        self.dirty.update(ws for ws in workspaces if ws in self.states)
        self.changed.set()

    def log_path(self, workspace: str) -> Path:
        """Where `workspace`'s worker writes stdout/stderr on this host."""
        return self.state_dir / "logs" / f"{workspace}.log"

    def snapshot(self) -> tuple[WorkerState, ...]:
        """Every worker's current state (sent in the hello); clears pending changes."""
        self.take_changes()
        return tuple(self.states[ws] for ws in sorted(self.states))

    async def apply(self, desired: AssignmentSet) -> bool:
        """Make workers match `desired` (stop first, then start). Returns False for a stale set."""
        async with self._lock:
            if not is_newer(self.applied, desired):
                log.info("ignoring stale assignments generation %d", desired.generation)
                return False
            running = {ws: s.assignment for ws, s in self.supervisors.items()}
            todo = plan(running, desired)
            for item in desired.items:  # a breaker's restart-mode change applies in place, no restart
                sup = self.supervisors.get(item.workspace)
                if (sup is not None and item.workspace not in todo.stop
                        and sup.assignment.restart_mode != item.restart_mode):
                    sup.assignment = replace(sup.assignment, restart_mode=item.restart_mode)
            async with trio.open_nursery() as stops:
                for ws in todo.stop:
                    stops.start_soon(self._stop, ws)
            for assignment in todo.start:
                sup = WorkerSupervisor(assignment, self.state_dir, self.bind_host, self.timers,
                                       self.http, self._report, self.states.get(assignment.workspace),
                                       starts=self.starts, start_process=self.spares.start)
                self.supervisors[assignment.workspace] = sup
                await self.nursery.start(sup.run)
            self.applied = (desired.boot_id, desired.generation)
            return True

    async def _stop(self, workspace: str) -> None:
        await self.supervisors.pop(workspace).stop()

    async def stop_all(self) -> None:
        """Stop every worker (the agent's `on_exit = stop`) and reap the spares, all in parallel,
        and wait for each."""
        async with trio.open_nursery() as stops:
            stops.start_soon(self.spares.aclose)
            for ws in list(self.supervisors):
                stops.start_soon(self._stop, ws)

    async def detach_all(self) -> None:
        """Leave every worker running and end supervision (the agent's `on_exit = keep`); the
        state file keeps naming them for the next agent."""
        async with trio.open_nursery() as detaches:
            detaches.start_soon(self.spares.aclose)  # spares are never left behind
            for sup in list(self.supervisors.values()):
                detaches.start_soon(sup.detach)
        self.supervisors.clear()
