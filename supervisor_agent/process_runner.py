"""Starting and stopping worker processes (I/O).

Workers get argv without a shell, a minimal explicit env (PATH with the fleet's own bin dir
first, HOME, LANG), their own session and process group, rlimits on open files and processes
(never RLIMIT_AS), and stdout/stderr appended to a log file opened at spawn (never a pipe to us,
so our exit cannot block them). Stopping signals the whole group: SIGTERM, then SIGKILL after a
grace, then reaps (ARCHITECTURE section 3).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil
import trio

log = logging.getLogger(__name__)

FLEET_BIN = str(Path(sys.executable).parent)
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
NOFILE_LIMIT = 4096
NPROC_LIMIT = 1024


@dataclass(frozen=True)
class WorkerSpec:
    """How to start one workspace's worker. `config_path` holds the workspace JSON."""

    workspace: str
    config_path: Path
    port: int
    bind_host: str
    log_path: Path


def worker_env() -> dict[str, str]:
    """The explicit environment every worker gets; nothing else of ours leaks into it."""
    return {
        "PATH": f"{FLEET_BIN}:{SYSTEM_PATH}",
        "HOME": os.environ.get("HOME", "/"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONUNBUFFERED": "1",
    }


def worker_argv(spec: WorkerSpec) -> list[str]:
    """`python -m supervisor_agent.worker` for this spec. The config path is made absolute: the
    worker starts in the config's directory, so a relative one (a relative `state_dir`) would
    point nowhere."""
    return [
        sys.executable, "-m", "supervisor_agent.worker",
        "--config", str(spec.config_path.absolute()), "--name", spec.workspace,
        "--port", str(spec.port), "--host", spec.bind_host,
    ]


def _limited(argv: list[str]) -> list[str]:
    # rlimits without preexec_fn (unsafe with grpc threads): exec through a tiny Python wrapper.
    code = (
        "import os,resource,sys;"
        f"resource.setrlimit(resource.RLIMIT_NOFILE,({NOFILE_LIMIT},{NOFILE_LIMIT}));"
        f"resource.setrlimit(resource.RLIMIT_NPROC,({NPROC_LIMIT},{NPROC_LIMIT}));"
        "os.execv(sys.argv[1],sys.argv[1:])"
    )
    return [sys.executable, "-c", code, *argv]


async def _open(argv: list[str], log_path: Path, cwd: Path, stdin: int) -> trio.Process:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        return await trio.lowlevel.open_process(
            _limited(argv), stdin=stdin, stdout=log_file, stderr=log_file, env=worker_env(),
            start_new_session=True, cwd=str(cwd),
        )


async def spawn(spec: WorkerSpec) -> trio.Process:
    """Start the worker in its own session with its log file; returns the trio Process."""
    proc = await _open(worker_argv(spec), spec.log_path, spec.config_path.parent, subprocess.DEVNULL)
    log.info("started worker %s pid %d on port %d", spec.workspace, proc.pid, spec.port)
    return proc


async def spawn_spare(log_path: Path, cwd: Path) -> trio.Process:
    """Start a spare worker (`worker --spare`, see spare_worker.py) exactly like a worker (rlimit
    wrapper, explicit env, own session, output appended to `log_path`), but with a pipe from us
    as its stdin: its assignment comes there, and EOF (our exit) ends it. `proc.stdin` is ours."""
    proc = await _open([sys.executable, "-m", "supervisor_agent.worker", "--spare"], log_path, cwd,
                       subprocess.PIPE)
    log.info("started spare worker pid %d", proc.pid)
    return proc


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group led by `pid` (workers lead their own); gone is fine."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def descendants(pid: int) -> list[psutil.Process]:
    """The live descendants of `pid` (empty when it is gone). The MCP SDK starts each stdio
    server in a session of its own, so these are not all in the worker's process group."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def kill_leftovers(known: list[psutil.Process]) -> None:
    """SIGKILL those of `known` still alive. psutil checks pid and create time, so a reused pid
    is never signalled."""
    for p in known:
        try:
            if p.is_running():
                p.kill()
        except psutil.Error:
            pass


class WorkerHandle(Protocol):
    """What `stop` needs of a worker process: a spawned `trio.Process` or an `Adopted` one."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...


class Adopted:
    """A worker started by an earlier agent (not our child: we cannot reap it or learn its exit
    code). Its exit is seen through a pidfd (at once), or by polling psutil every `poll` seconds
    where pidfds are unavailable. `returncode` is -1 once it is gone (the code is unknowable)."""

    def __init__(self, proc: psutil.Process, poll: float = 0.5) -> None:
        self.pid = proc.pid
        self._proc = proc
        self._poll = poll
        self.returncode: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(proc.pid)
        except (OSError, AttributeError):
            self._pidfd = None

    def _gone(self) -> bool:
        try:
            return not self._proc.is_running() or self._proc.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    async def wait(self) -> int:
        """Wait until the process is gone; returns -1."""
        while self.returncode is None:
            if self._pidfd is not None:
                await trio.lowlevel.wait_readable(self._pidfd)
                self.close()
                self.returncode = -1
            elif self._gone():
                self.returncode = -1
            else:
                await trio.sleep(self._poll)
        return self.returncode

    def close(self) -> None:
        """Release the pidfd."""
        if self._pidfd is not None:
            fd, self._pidfd = self._pidfd, None
            os.close(fd)


def adopt(pid: int, create_time: float) -> Adopted | None:
    """The live worker `pid` if its psutil create time equals `create_time` (so a reused pid of an
    unrelated process is never taken, and never signalled) and it still leads its own process
    group; else None. Used to re-adopt workers recorded by a previous agent."""
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) > 0.01 or proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if os.getpgid(pid) != pid:
            return None
    except (psutil.Error, OSError):
        return None
    return Adopted(proc)


def kill_now(proc: WorkerHandle) -> None:
    """SIGKILL the worker's group and its recorded descendants at once (a hung or SIGSTOPped
    worker cannot act on SIGTERM). Reaping is left to `stop`."""
    tree = descendants(proc.pid)
    if proc.returncode is None:
        signal_group(proc.pid, signal.SIGKILL)
    kill_leftovers(tree)


def rotate_log(path: Path, max_bytes: int, keep: int = 3) -> bool:
    """Copy-truncate `path` when it is over `max_bytes`: copy to `.1` (older ones shift up to
    `.keep`), then truncate in place (the worker keeps its O_APPEND descriptor). Returns True
    when it rotated. Lines written between the copy and the truncate are lost (copy-truncate's
    known trade-off)."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    for n in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    with open(path, "r+b") as f:
        f.truncate(0)
    return True


async def stop(proc: WorkerHandle, known_descendants: list[psutil.Process],
               grace_seconds: float = 5.0) -> int:
    """SIGTERM the worker's group, SIGKILL after `grace_seconds`, reap; then SIGKILL any of its
    descendants still alive (the ones seen now and `known_descendants`, recorded earlier in case
    the worker died first and they were orphaned). Returns the exit code.

    Safe to call from a cancelled scope: it shields itself (a stop must finish). An `Adopted`
    worker is not our child: it is signalled the same way and waited for through its pidfd.
    """
    with trio.CancelScope(shield=True):
        tree = [*known_descendants, *descendants(proc.pid)]
        if proc.returncode is None:
            signal_group(proc.pid, signal.SIGTERM)
            with trio.move_on_after(grace_seconds):
                await proc.wait()
        if proc.returncode is None:  # once reaped, its group id may be another group's by now
            signal_group(proc.pid, signal.SIGKILL)
            with trio.move_on_after(grace_seconds):
                await proc.wait()
        kill_leftovers(tree)  # psutil checks pid and create time: safe whatever was reused
    return proc.returncode if proc.returncode is not None else -9
