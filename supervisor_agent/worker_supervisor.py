"""Runs one workspace's worker for as long as it is assigned (I/O).

The loop: take one of the host's start slots (at most `Timers.max_starts` starts in progress per
host; a start lasts until `running` or failed), spawn -> `starting`; poll /healthz until it
answers (-> `running`, slot released) or the worker exits or the startup grace ends (-> `error`).
While running: a health check every `health_interval` on a fixed cadence (timeout
`health_timeout`); `health_failures` failures in a row -> SIGKILL at once (a hung or SIGSTOPped
worker cannot act on SIGTERM) and restart; a psutil sample of the whole tree with each check
(RSS MiB, CPU %, process count, sent with each status) judged by `health.HealthTracker` (memory
limit -> graceful restart with reason `oom`; CPU limit sustained -> `degraded` with the reason).
On exit -> `error`, then restart after the restart policy's delay (or hold it, by restart mode).
A worker recorded by an earlier agent is re-adopted when pid and create time match.
Cancelling the task stops the worker (group SIGTERM, SIGKILL after the grace, reap) ->
`stopped`; `detach()` instead leaves it running (`on_exit = keep`). Every change goes to `report`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import psutil
import trio

from mcpfleet.backoff import Backoff
from mcpfleet.errors import InvalidArgument
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import Assignment, ProcessError, WorkerState
from mcpfleet.workspace import parse_workspace
from supervisor_agent import process_runner
from supervisor_agent.health import HealthTracker, Verdict
from supervisor_agent.process_probe import Probe, check_health
from supervisor_agent.process_sampler import TreeSampler
from supervisor_agent.restart_policy import RestartPolicy
from supervisor_agent.worker_records import WorkerRecord

log = logging.getLogger(__name__)
MAX_ERRORS = 10


@dataclass(frozen=True)
class Timers:
    """Seconds unless named otherwise. ARCHITECTURE / agent-issue defaults; tests shorten them."""

    startup_grace: float = 30.0
    health_interval: float = 5.0
    health_timeout: float = 2.0
    health_poll_while_starting: float = 0.2
    health_failures: int = 3
    stop_grace: float = 5.0
    cpu_sustain: float = 30.0
    restart_initial: float = 1.0
    restart_max: float = 60.0
    restart_jitter: float = 0.2
    restart_reset: float = 600.0
    max_starts: int = 4
    log_max_bytes: int = 10 * 1024 * 1024

    def restart_policy(self) -> RestartPolicy:
        """A fresh RestartPolicy with these timers."""
        backoff = Backoff(self.restart_initial, self.restart_max, self.restart_jitter)
        return RestartPolicy(backoff=backoff, reset_after_seconds=self.restart_reset)


def _limits(assignment: Assignment) -> tuple[float | None, float | None]:
    """(memoryMB, cpuPercent) of the workspace's `fleet.limits`, None where unset or unreadable."""
    try:
        limits = parse_workspace(assignment.config_json, source=assignment.workspace).fleet.limits
    except InvalidArgument:
        return None, None
    return limits.memory_mb, limits.cpu_percent


class WorkerSupervisor:
    """Supervises one worker. Use `await nursery.start(sup.run)`; stop with `await sup.stop()`.

    `starts` is the host-wide semaphore of starts in progress; `adopt` a record of a worker
    left running by an earlier agent (re-adopted only if pid and create time still match);
    `start_process` starts the worker of a spec (default `process_runner.spawn`; the pool's
    `SpareWorkers.start` hands it to a pre-warmed spare).
    """

    def __init__(self, assignment: Assignment, state_dir: Path, bind_host: str, timers: Timers,
                 http: httpx.AsyncClient, report: Callable[[WorkerState], None],
                 previous: WorkerState | None = None, starts: trio.Semaphore | None = None,
                 adopt: WorkerRecord | None = None,
                 start_process: Callable[[process_runner.WorkerSpec], Awaitable[trio.Process]]
                 = process_runner.spawn) -> None:
        self.assignment = assignment
        self.start_process = start_process
        self.bind_host = bind_host
        self.timers = timers
        self.http = http
        self.report = report
        self.starts = starts or trio.Semaphore(timers.max_starts)
        self.policy = timers.restart_policy()
        restarts = previous.restart_count if previous else adopt.restart_count if adopt else 0
        self.state = WorkerState(workspace=assignment.workspace, port=assignment.port,
                                 config_version=assignment.config_version, restart_count=restarts)
        self.spec = process_runner.WorkerSpec(
            workspace=assignment.workspace,
            config_path=state_dir / "workers" / f"{assignment.workspace}.json",
            port=assignment.port,
            bind_host=bind_host,
            log_path=state_dir / "logs" / f"{assignment.workspace}.log",
        )
        self._adopt = adopt
        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._detached = False
        self._slot = False
        self._fail: tuple[str, str] | None = None
        self._tree: list[psutil.Process] = []  # the worker's descendants, as last seen
        self.memory_mib, self.cpu_limit = _limits(assignment)

    def _set(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        self.report(self.state)

    def _error(self, reason: str, message: str, exit_code: int | None = None) -> None:
        err = ProcessError(time=time.time(), reason=reason, message=message, exit_code=exit_code)
        history = (*self.state.error_history, err)[-MAX_ERRORS:]
        log.warning("worker %s: %s: %s", self.assignment.workspace, reason, message)
        self._set(status=Status.ERROR, health=Health.UNHEALTHY, error_history=history,
                  pid=None, create_time=None, health_reason=message, rss_mib=0.0,
                  cpu_percent=0.0, process_count=0)

    async def stop(self) -> None:
        """Stop the worker and wait until it is reaped and reported `stopped`."""
        self._scope.cancel()
        await self._done.wait()

    async def detach(self) -> None:
        """End supervision but leave the worker running (`on_exit = keep`); no state reported."""
        self._detached = True
        self._scope.cancel()
        await self._done.wait()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.spec.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.spec.config_path.write_text(self.assignment.config_json)
        adopted = self._readopt()  # before started(): the agent's hello then names it
        task_status.started()
        try:
            with self._scope:
                await self._supervise(adopted)
        finally:
            self._release_slot()
            if self.state.status != Status.STOPPED and not self._detached:
                self._set(status=Status.STOPPED, health=Health.UNHEALTHY, pid=None, create_time=None)
            self._done.set()

    async def _supervise(self, adopted: process_runner.Adopted | None) -> None:
        await self._run_once(adopted)
        while True:
            delay = self.policy.next_delay(self.assignment.restart_mode)
            if delay is None:
                log.info("worker %s: held stopped (restart mode %s)", self.assignment.workspace,
                         self.assignment.restart_mode)
                await trio.sleep_forever()  # held stopped by restart mode; stop() ends it
            log.info("worker %s: restart %d in %.2f s", self.assignment.workspace,
                     self.policy.failures, delay)
            await trio.sleep(delay)
            self._set(restart_count=self.state.restart_count + 1)
            await self._run_once(None)

    def _readopt(self) -> process_runner.Adopted | None:
        rec = self._adopt
        if rec is None:
            return None
        proc = process_runner.adopt(rec.pid, rec.create_time)
        if proc is None:
            log.warning("worker %s: recorded pid %d (created %.2f) is gone or not ours; starting "
                        "it anew", rec.workspace, rec.pid, rec.create_time)
            return None
        log.info("worker %s: re-adopted pid %d", rec.workspace, rec.pid)
        self._set(status=Status.RUNNING, health=Health.HEALTHY, pid=rec.pid,
                  create_time=rec.create_time, start_time=rec.start_time or rec.create_time,
                  last_health_check=time.time())
        return proc

    def _release_slot(self) -> None:
        if self._slot:
            self._slot = False
            self.starts.release()
            log.info("worker %s: start ended (%d in progress)", self.assignment.workspace,
                     self.timers.max_starts - self.starts.value)

    async def _spawn(self) -> trio.Process | None:
        self._set(status=Status.STARTING, health=Health.UNHEALTHY, health_reason="")
        await self.starts.acquire()
        self._slot = True
        log.info("worker %s: start began (%d in progress)", self.assignment.workspace,
                 self.timers.max_starts - self.starts.value)
        try:
            proc = await self.start_process(self.spec)
        except OSError as err:
            self._release_slot()
            self._error("spawn", str(err))
            return None
        try:
            create_time: float | None = psutil.Process(proc.pid).create_time()
        except psutil.Error:
            create_time = None
        self._set(pid=proc.pid, create_time=create_time, start_time=time.time())
        return proc

    async def _run_once(self, adopted: process_runner.Adopted | None) -> None:
        self._fail = None
        proc: process_runner.WorkerHandle | None = adopted or await self._spawn()
        if proc is None:
            return
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch, proc, adopted is None)
                code = await proc.wait()
                nursery.cancel_scope.cancel()
            reason, message = self._fail or ("exit", f"worker exited with code {code}")
            self._error(reason, message, code)
        finally:
            self._release_slot()
            if self._detached:
                if isinstance(proc, process_runner.Adopted):
                    proc.close()
            else:
                if self._scope.cancel_called:
                    self._set(status=Status.STOPPING)
                # Also after a crash: its stdio MCP servers may outlive it.
                await process_runner.stop(proc, self._tree, self.timers.stop_grace)
                if isinstance(proc, process_runner.Adopted):
                    proc.close()
            self._tree = []

    async def _await_healthy(self, proc: process_runner.WorkerHandle) -> Probe | None:
        t = self.timers
        deadline = trio.current_time() + t.startup_grace
        while True:
            probe = await check_health(self.http, self.bind_host, self.spec.port, t.health_timeout)
            if probe.ok:
                return probe
            if trio.current_time() > deadline:
                self._fail = ("health", f"not healthy within the startup grace ({t.startup_grace:g} s)")
                await process_runner.stop(proc, self._tree, t.stop_grace)
                return None
            await trio.sleep(t.health_poll_while_starting)

    async def _watch(self, proc: process_runner.WorkerHandle, starting: bool) -> None:
        t = self.timers
        if starting:
            probe = await self._await_healthy(proc)
            if probe is None:
                return
            self._release_slot()
            self._set(status=Status.RUNNING, health=probe.health, last_health_check=time.time(),
                      health_reason=probe.detail)
        tracker = HealthTracker(self.memory_mib, self.cpu_limit, t.health_failures, t.cpu_sustain)
        sampler = TreeSampler()
        healthy_since = trio.current_time()
        next_check = trio.current_time()
        while True:
            sample = await trio.to_thread.run_sync(sampler.sample, proc.pid)
            self._tree = await trio.to_thread.run_sync(process_runner.descendants, proc.pid)
            verdict = tracker.on_sample(sample, trio.current_time()) if sample else Verdict()
            if verdict.restart_reason:
                self._fail = (verdict.restart_reason, verdict.restart_message)
                log.warning("worker %s: %s", self.assignment.workspace, verdict.restart_message)
                await process_runner.stop(proc, self._tree, t.stop_grace)
                return
            if sample:
                self._set(rss_mib=round(sample.rss_mib, 1), cpu_percent=round(sample.cpu_percent, 1),
                          process_count=sample.process_count)
            await trio.to_thread.run_sync(process_runner.rotate_log, self.spec.log_path,
                                          t.log_max_bytes)
            next_check += t.health_interval  # a fixed cadence: a timed-out check does not delay the next
            await trio.sleep_until(max(next_check, trio.current_time()))
            probe = await check_health(self.http, self.bind_host, self.spec.port, t.health_timeout)
            if tracker.on_probe(probe.ok):
                self._fail = ("health", f"{tracker.consecutive_failures} health checks failed in a "
                                        f"row ({probe.detail}); killed with SIGKILL")
                log.warning("worker %s: %s", self.assignment.workspace, self._fail[1])
                process_runner.kill_now(proc)
                return
            self.policy.on_healthy_for(trio.current_time() - healthy_since if probe.ok else 0.0)
            if not probe.ok:
                healthy_since = trio.current_time()
            health, reason = probe.health, probe.detail
            if verdict.degraded_reason and health == Health.HEALTHY:
                health, reason = Health.DEGRADED, verdict.degraded_reason
            self._set(health=health, health_reason=reason, last_health_check=time.time())
