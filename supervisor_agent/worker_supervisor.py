"""Runs one workspace's worker for as long as it is assigned (I/O).

The loop: spawn -> `starting`; poll /healthz until it answers (-> `running`) or the worker exits
or the startup grace ends (-> `error`); while running, check health every interval; on exit
-> `error`, then restart after the restart policy's delay (or hold it, by restart mode).
Cancelling the task stops the worker (group SIGTERM, SIGKILL after the grace, reap) -> `stopped`.
Every observed change is handed to `report`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import psutil
import trio

from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import Assignment, ProcessError, WorkerState
from supervisor_agent import process_runner
from supervisor_agent.process_probe import check_health
from supervisor_agent.restart_policy import RestartPolicy

log = logging.getLogger(__name__)
MAX_ERRORS = 10


@dataclass(frozen=True)
class Timers:
    """Seconds. ARCHITECTURE / agent-issue defaults; tests shorten them."""

    startup_grace: float = 30.0
    health_interval: float = 5.0
    health_timeout: float = 2.0
    health_poll_while_starting: float = 0.2
    stop_grace: float = 5.0


class WorkerSupervisor:
    """Supervises one worker. Use `await nursery.start(sup.run)`; stop with `await sup.stop()`."""

    def __init__(self, assignment: Assignment, state_dir: Path, bind_host: str, timers: Timers,
                 http: httpx.AsyncClient, report: Callable[[WorkerState], None],
                 previous: WorkerState | None = None) -> None:
        self.assignment = assignment
        self.bind_host = bind_host
        self.timers = timers
        self.http = http
        self.report = report
        self.policy = RestartPolicy()
        restarts = previous.restart_count if previous else 0
        self.state = WorkerState(workspace=assignment.workspace, port=assignment.port,
                                 config_version=assignment.config_version, restart_count=restarts)
        self.spec = process_runner.WorkerSpec(
            workspace=assignment.workspace,
            config_path=state_dir / "workers" / f"{assignment.workspace}.json",
            port=assignment.port,
            bind_host=bind_host,
            log_path=state_dir / "logs" / f"{assignment.workspace}.log",
        )
        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._tree: list[psutil.Process] = []  # the worker's descendants, as last seen

    def _set(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        self.report(self.state)

    def _error(self, reason: str, message: str, exit_code: int | None = None) -> None:
        err = ProcessError(time=time.time(), reason=reason, message=message, exit_code=exit_code)
        history = (*self.state.error_history, err)[-MAX_ERRORS:]
        log.warning("worker %s: %s: %s", self.assignment.workspace, reason, message)
        self._set(status=Status.ERROR, health=Health.UNHEALTHY, error_history=history,
                  pid=None, create_time=None)

    async def stop(self) -> None:
        """Stop the worker and wait until it is reaped and reported `stopped`."""
        self._scope.cancel()
        await self._done.wait()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.spec.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.spec.config_path.write_text(self.assignment.config_json)
        task_status.started()
        try:
            with self._scope:
                await self._supervise()
        finally:
            if self.state.status != Status.STOPPED:
                self._set(status=Status.STOPPED, health=Health.UNHEALTHY, pid=None, create_time=None)
            self._done.set()

    async def _supervise(self) -> None:
        first = True
        while True:
            if not first:
                delay = self.policy.next_delay(self.assignment.restart_mode)
                if delay is None:
                    await trio.sleep_forever()  # held stopped by restart mode; stop() ends it
                await trio.sleep(delay or 0)
                self._set(restart_count=self.state.restart_count + 1)
            first = False
            await self._run_once()

    async def _run_once(self) -> None:
        self._set(status=Status.STARTING, health=Health.UNHEALTHY)
        try:
            proc = await process_runner.spawn(self.spec)
        except OSError as err:
            self._error("spawn", str(err))
            return
        try:
            create_time = psutil.Process(proc.pid).create_time()
        except psutil.Error:
            create_time = None
        self._set(pid=proc.pid, create_time=create_time, start_time=time.time())
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch_health, proc, nursery.cancel_scope)
                code = await proc.wait()
                nursery.cancel_scope.cancel()
            self._error("exit", f"worker exited with code {code}", code)
        finally:
            if self._scope.cancel_called:
                self._set(status=Status.STOPPING)
            # Also after a crash: its stdio MCP servers may outlive it.
            await process_runner.stop(proc, self._tree, self.timers.stop_grace)
            self._tree = []

    async def _watch_health(self, proc: trio.Process, scope: trio.CancelScope) -> None:
        t = self.timers
        deadline = trio.current_time() + t.startup_grace
        while True:
            probe = await check_health(self.http, self.bind_host, self.spec.port, t.health_timeout)
            if probe.ok:
                self._tree = process_runner.descendants(proc.pid)
                break
            if trio.current_time() > deadline:
                self._error("health", f"not healthy within the startup grace ({t.startup_grace:g} s)")
                await process_runner.stop(proc, self._tree, t.stop_grace)
                return
            await trio.sleep(t.health_poll_while_starting)
        self._set(status=Status.RUNNING, health=probe.health, last_health_check=time.time())
        healthy_since = trio.current_time()
        while True:
            await trio.sleep(t.health_interval)
            probe = await check_health(self.http, self.bind_host, self.spec.port, t.health_timeout)
            self._tree = process_runner.descendants(proc.pid)
            self.policy.on_healthy_for(trio.current_time() - healthy_since if probe.ok else 0.0)
            if not probe.ok:
                healthy_since = trio.current_time()
            if probe.health != self.state.health:
                self._set(health=probe.health, last_health_check=time.time())
            else:
                self.state = replace(self.state, last_health_check=time.time())
