"""A worker's first step, before its heavy imports: exit at once when no server can start.

A workspace whose every server is a stdio command that does not exist (the usual broken config,
and what crash-loop tests use) would otherwise pay FastMCP's import (~2 s of CPU, far more on a
busy host) on every restart before failing. Only plain JSON and PATH lookups here; anything it
cannot judge (URL servers, commands relative to a `cwd`, unreadable files) is left to the worker.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("supervisor_agent.worker")


def missing_command(entry: dict[str, Any], path: str | None = None) -> str | None:
    """Why this server's command cannot be started ("" never), or None when it may be. Commands
    are looked up on the server's own env PATH, else `path`, else this process's PATH."""
    command = entry.get("command")
    if not isinstance(command, str) or "url" in entry:
        return None
    if "/" in command:
        if not os.path.isabs(command):
            return None  # relative to the server's cwd: the worker's probe decides
        return None if os.access(command, os.X_OK) else f"{command} is not an executable file"
    env = entry.get("env")
    env = env if isinstance(env, dict) else {}
    search = env.get("PATH") or (path if path is not None else os.environ.get("PATH", ""))
    return None if shutil.which(command, path=search) else f"command {command!r} not found on PATH"


def unstartable(config: Path, path: str | None = None) -> dict[str, str] | None:
    """{server: why it cannot start} when every enabled server of the workspace file `config` is
    a command that cannot be found (on `path`, see `missing_command`); else None (also when the
    file cannot be judged here). No logging: the agent asks this too (spare_worker.py)."""
    try:
        servers = json.loads(config.read_text()).get("mcpServers", {})
        enabled = {n: e for n, e in servers.items() if isinstance(e, dict) and not e.get("disabled")}
    except (ValueError, OSError, AttributeError):
        return None
    reasons = {n: missing_command(e, path) for n, e in enabled.items()}
    if not enabled or any(r is None for r in reasons.values()):
        return None
    return {n: r for n, r in reasons.items() if r is not None}


def no_server_can_start(argv: list[str]) -> bool:
    """True (after logging why, as the worker would) when every enabled server of the config
    named by `--config` in `argv` is a command that cannot be found."""
    try:
        config = Path(argv[argv.index("--config") + 1])
        name = argv[argv.index("--name") + 1] if "--name" in argv else config.stem
    except (ValueError, IndexError):
        return False
    reasons = unstartable(config)
    if reasons is None:
        return False
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for server, reason in reasons.items():
        log.error("server %r failed to start: %s", server, reason)
    log.error("workspace %r: none of its %d server(s) could start; exiting", name, len(reasons))
    return True
