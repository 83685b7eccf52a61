"""Pre-warmed spare workers: how the agent starts a worker without paying its imports (I/O).

Why: a worker's cold start is dominated by importing FastMCP/mcp (~1.7-2.2 s of CPU on a quiet
2-core box, of ~3.5 s from spawn to serving), and a config edit restarts the worker, so that
import sat on the path from "file saved" to "new config serving" (issue 3: within 5 s). The agent
therefore keeps `spare_workers` (setting; default 1, 0 disables) idle worker processes that have
already imported everything and wait on their stdin for a workspace (the preload / zygote pattern:
gunicorn `--preload`, Android's zygote). The process side, and the one-line protocol, are in
`worker_spare.py`.

- A spare is spawned exactly like a worker (process_runner: rlimit wrapper, explicit env, own
  session), with its output in `<state_dir>/logs/_spare.log` (no workspace can be named so) and a
  pipe from the agent as stdin.
- `start(spec)` hands the worker to a live spare: one JSON line on its stdin, then EOF. The spare
  turns its log to the workspace's log file and runs the worker; its pid (and create time) become
  the worker's, so records and re-adoption work unchanged. A refill is spawned in the background
  once no worker start is in progress on the host (its import would slow them down).
  A spare that died is reaped and skipped; with none alive the worker is spawned fresh as before:
  a spare never fails a start. A spare still importing is used anyway (it reads its line once its
  imports are done: still sooner than a fresh process).
- A workspace none of whose servers can start (worker_precheck: every command missing) gets a
  fresh process, which exits at once before any import: a crash loop must not cost a spare's
  import (and its refill) per restart.
- Spares are not workspace processes: they appear in no snapshot, state file, workspace metric or
  `state validate`. `aclose` reaps them on agent exit (SIGTERM to the group, SIGKILL after the
  grace); when the agent dies instead, their stdin reaches EOF and they exit 0 at once.
- Cost: one idle Python process per spare (measured after the imports: RSS ~87 MiB, USS ~66 MiB).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import trio

from supervisor_agent import process_runner
from supervisor_agent.worker_precheck import unstartable

log = logging.getLogger(__name__)
SPARE_LOG = "_spare.log"  # a leading underscore: never a workspace's log (names are ^[a-z0-9]...)
REFILL_WAIT_MAX = 30.0  # seconds a refill waits for the host's starts to end, at most
REFILL_POLL = 0.1  # seconds between looks at whether starts are in progress


def assignment_line(spec: process_runner.WorkerSpec) -> bytes:
    """The JSON line (newline-terminated) that turns a spare into `spec`'s worker; paths absolute."""
    return json.dumps({
        "config": str(spec.config_path.absolute()), "name": spec.workspace, "port": spec.port,
        "host": spec.bind_host, "log": str(spec.log_path.absolute()),
        "cwd": str(spec.config_path.parent.absolute()),
    }).encode() + b"\n"


class SpareWorkers:
    """Up to `count` idle spare workers of one agent (see module docstring).

    `nursery` (the agent's) runs the background refills; `state_dir` is the agent's (spares log to
    `logs/_spare.log` and start in `workers/`, like workers); `stop_grace` seconds between SIGTERM
    and SIGKILL when reaping one; `log_max_bytes` rotates the spare log at each refill; `busy()`
    says whether worker starts are in progress on the host (a refill waits for them to end).
    """

    def __init__(self, nursery: trio.Nursery, state_dir: Path, count: int, stop_grace: float = 5.0,
                 log_max_bytes: int = 10 * 1024 * 1024,
                 busy: Callable[[], bool] = lambda: False) -> None:
        self.nursery = nursery
        self.busy = busy
        self.count = count
        self.log_path = state_dir / "logs" / SPARE_LOG
        self.cwd = state_dir / "workers"
        self.stop_grace = stop_grace
        self.log_max_bytes = log_max_bytes
        self.idle: list[trio.Process] = []
        self.handed_over = 0  # starts served by a spare (for logs and tests)
        self._lock = trio.Lock()  # one fill at a time, and none once closed
        self._closed = False

    async def fill(self) -> None:
        """Spawn spares until `count` are idle. A spawn error is logged (the next start then
        spawns fresh and refills again)."""
        async with self._lock:
            while not self._closed and len(self.idle) < self.count:
                try:
                    await trio.to_thread.run_sync(process_runner.rotate_log, self.log_path,
                                                  self.log_max_bytes)
                    self.cwd.mkdir(parents=True, exist_ok=True)
                    self.idle.append(await process_runner.spawn_spare(self.log_path, self.cwd))
                except OSError as err:
                    log.error("cannot start a spare worker: %s", err)
                    return

    async def start(self, spec: process_runner.WorkerSpec) -> trio.Process:
        """Start `spec`'s worker: through an idle spare when one is alive (then refill in the
        background), else as a fresh process. Raises OSError only when the fresh spawn fails."""
        if self.count and unstartable(spec.config_path, process_runner.worker_env()["PATH"]) is None:
            proc = await self._hand_over(spec)
            self.nursery.start_soon(self._refill_when_quiet)
            if proc is not None:
                return proc
        return await process_runner.spawn(spec)

    async def _refill_when_quiet(self) -> None:
        """Refill once no start is in progress (at most `REFILL_WAIT_MAX` seconds from now): a
        spare's import running beside a starting worker and its backends slows that start on a
        small host (2 cores: ~3.8 s instead of ~2.9 s from edit to serving, measured)."""
        with trio.move_on_after(REFILL_WAIT_MAX):
            # A semaphore's count has no event to wait on: look every REFILL_POLL seconds.
            while self.busy():  # noqa: ASYNC110
                await trio.sleep(REFILL_POLL)
        await self.fill()

    async def _hand_over(self, spec: process_runner.WorkerSpec) -> trio.Process | None:
        line = assignment_line(spec)
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        while self.idle:
            proc = self.idle.pop(0)
            if proc.returncode is not None:  # reaps it
                log.warning("spare worker pid %d had exited (code %d); not using it", proc.pid,
                            proc.returncode)
                continue
            assert proc.stdin is not None
            try:  # shielded: a spare taken off the list must end up returned or reaped
                with trio.CancelScope(shield=True), trio.fail_after(1):  # one short line: never blocks
                    await proc.stdin.send_all(line)
                    await proc.stdin.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError,
                    OSError) as err:
                log.warning("spare worker pid %d did not take its assignment (%r); reaping it",
                            proc.pid, err)
                self.nursery.start_soon(process_runner.stop, proc, [], self.stop_grace)
                continue
            self.handed_over += 1
            log.info("started worker %s pid %d on port %d (a spare, pre-warmed)", spec.workspace,
                     proc.pid, spec.port)
            return proc
        return None

    async def aclose(self) -> None:
        """Reap every idle spare (SIGTERM to its group, SIGKILL after `stop_grace`, wait) and
        spawn no more. Shielded like `process_runner.stop`."""
        with trio.CancelScope(shield=True):
            async with self._lock:
                self._closed = True
                spares, self.idle = self.idle, []
                async with trio.open_nursery() as reaps:
                    for proc in spares:
                        reaps.start_soon(self._reap, proc)
        if spares:
            log.info("reaped %d spare worker(s)", len(spares))

    async def _reap(self, proc: trio.Process) -> None:
        if proc.stdin is not None:
            await proc.stdin.aclose()  # EOF: an idle spare exits 0 by itself
        await process_runner.stop(proc, [], self.stop_grace)
