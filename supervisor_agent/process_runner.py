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
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
    """`python -m supervisor_agent.worker` for this spec."""
    return [
        sys.executable, "-m", "supervisor_agent.worker",
        "--config", str(spec.config_path), "--name", spec.workspace,
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


async def spawn(spec: WorkerSpec) -> trio.Process:
    """Start the worker in its own session with its log file; returns the trio Process."""
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(spec.log_path, "ab") as log_file:
        proc = await trio.lowlevel.open_process(
            _limited(worker_argv(spec)),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            env=worker_env(),
            start_new_session=True,
            cwd=str(spec.config_path.parent),
        )
    log.info("started worker %s pid %d on port %d", spec.workspace, proc.pid, spec.port)
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


async def stop(proc: trio.Process, known_descendants: list[psutil.Process],
               grace_seconds: float = 5.0) -> int:
    """SIGTERM the worker's group, SIGKILL after `grace_seconds`, reap; then SIGKILL any of its
    descendants still alive (the ones seen now and `known_descendants`, recorded earlier in case
    the worker died first and they were orphaned). Returns the exit code.

    Safe to call from a cancelled scope: it shields itself (a stop must finish).
    """
    with trio.CancelScope(shield=True):
        tree = [*known_descendants, *descendants(proc.pid)]
        if proc.returncode is None:
            signal_group(proc.pid, signal.SIGTERM)
            with trio.move_on_after(grace_seconds):
                await proc.wait()
        signal_group(proc.pid, signal.SIGKILL)
        if proc.returncode is None:
            with trio.move_on_after(grace_seconds):
                await proc.wait()
        kill_leftovers(tree)
    return proc.returncode if proc.returncode is not None else -9
