"""A worker's spare mode: `python -m supervisor_agent.worker --spare` (process side).

Why: most of a worker's cold start is importing FastMCP/mcp (~1.7-2.2 s of CPU on a quiet
2-core box, far more on a busy one). A spare is a worker process that has already done those
imports (worker.py's module body) and waits, idle, for the workspace it is to serve; the agent
keeps one ready and hands the next start to it (the preload / zygote pattern: gunicorn
`--preload`, Android's zygote). The agent side is `spare_worker.py`.

Protocol: the agent writes ONE JSON line on the spare's stdin, then closes it:

    {"config": "/abs/ws.json", "name": "ws", "port": 40001, "host": "127.0.0.1",
     "log": "/abs/logs/ws.log", "cwd": "/abs/workers"}

On that line the spare becomes that workspace's worker: its log file (opened O_APPEND, as the
agent opens it for a fresh worker) replaces fds 1 and 2, /dev/null replaces stdin (so the agent's
exit no longer concerns it), it moves to `cwd`, runs the same precheck as a fresh worker (exit 1 at
once when no server can start) and then `worker.main` with the equivalent argv. Everything from
here on (the `ready` line included) lands in the workspace log; only what it printed while idle
stays in the spare log. Its pid, process group and create time stay the spare's: the agent
records and re-adopts it like any worker.

Stdin EOF without a line (the agent closed it, or died: the pipe's write end lives only in the
agent) -> exit 0 at once, so an agent crash leaves no idle spare behind. A line that is not a
valid assignment -> exit 2 with the reason in the spare log.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from supervisor_agent.worker_precheck import no_server_can_start

# Imported lazily by the worker on its way to serving (seen with `python -X importtime` after the
# assignment): done while idle instead (~60-80 ms). Missing ones are skipped.
WARM_MODULES = ("uvicorn.protocols.http.h11_impl", "uvicorn.protocols.http.httptools_impl",
                "uvicorn.protocols.websockets.websockets_sansio_impl", "uvicorn.lifespan.on",
                "anyio._core._sockets", "anyio._core._streams",
                "fastmcp.server.middleware.dereference", "fastmcp.server.transforms.catalog")
# key -> type of every field of an assignment line
FIELDS: dict[str, type] = {"config": str, "name": str, "port": int, "host": str, "log": str, "cwd": str}


def parse_assignment(line: bytes) -> dict[str, Any]:
    """The assignment on one stdin line. Raises ValueError (with the reason) when it is not a
    JSON object with exactly `FIELDS`, of those types, and absolute paths."""
    data = json.loads(line)
    if not isinstance(data, dict) or set(data) != set(FIELDS):
        raise ValueError(f"an assignment is a JSON object with keys {sorted(FIELDS)}")
    for key, kind in FIELDS.items():
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise ValueError(f"assignment field {key!r} must be a {kind.__name__}")
    for key in ("config", "log", "cwd"):
        if not os.path.isabs(data[key]):
            raise ValueError(f"assignment field {key!r} must be an absolute path")
    return data


def worker_args(assignment: dict[str, Any]) -> list[str]:
    """The worker argv (after `-m supervisor_agent.worker`) equivalent to `assignment`."""
    return ["--config", assignment["config"], "--name", assignment["name"],
            "--port", str(assignment["port"]), "--host", assignment["host"]]


def take_over(assignment: dict[str, Any]) -> None:
    """Become the workspace's process: its log on fds 1 and 2, /dev/null on 0, its cwd.
    Raises OSError when the log or cwd cannot be used."""
    log_fd = os.open(assignment["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.dup2(null_fd, 0)
    os.close(log_fd)
    os.close(null_fd)
    os.chdir(assignment["cwd"])


def wait_for_assignment(run_worker: Callable[[list[str]], int]) -> int:
    """Block on stdin for the assignment, then run `run_worker(argv)` (worker.main) for it.
    On EOF (or an empty line) the process exits 0 at once (os._exit: no interpreter teardown).
    Else returns the exit code: 2 for a bad line, 1 when the precheck finds no server that can
    start, else the worker's."""
    for module in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    print(f"spare worker pid {os.getpid()}: imports done, waiting for an assignment", file=sys.stderr,
          flush=True)
    line = sys.stdin.buffer.readline()
    if not line.strip():  # EOF: nothing to flush or close, so no interpreter teardown (~0.4 s)
        sys.stderr.flush()
        os._exit(0)
    try:
        assignment = parse_assignment(line)
        take_over(assignment)
    except (ValueError, OSError) as err:
        print(f"spare worker pid {os.getpid()}: cannot take this assignment: {err}", file=sys.stderr,
              flush=True)
        return 2
    argv = worker_args(assignment)
    if no_server_can_start(argv):
        return 1
    return run_worker(argv)
