"""Waiting on the mirrored worker state of a workspace (I/O only in that it sleeps).

"Fails to start" (ARCHITECTURE section 2): not `running` with health `healthy` within the startup
grace, judged from the worker the workspace's agent reports with the new config `version`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import trio

from control_plane.events import EventBus
from control_plane.state import FleetState
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import RestartMode, WorkerState

RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class OpsTimers:
    """Seconds. `startup_grace`: how long a new config may take to be running and healthy;
    `stop_timeout`: how long `stop`/`restart` wait for the worker to be stopped."""

    startup_grace: float = 30.0
    stop_timeout: float = 30.0


def worker_of(state: FleetState, name: str) -> WorkerState | None:
    """The mirrored worker of `name` on the host it is placed on (None if none reported)."""
    host = state.placements.get(name)
    return state.workers.get((host, name)) if host else None


def is_up(state: FleetState, name: str, version: str) -> bool:
    """True when `name`'s worker runs config `version` and is running and healthy."""
    w = worker_of(state, name)
    return (w is not None and w.config_version == version and w.status == Status.RUNNING
            and w.health == Health.HEALTHY)


def is_down(state: FleetState, name: str) -> bool:
    """True when `name` has no worker, or its worker is stopped."""
    w = worker_of(state, name)
    return w is None or w.status == Status.STOPPED


def describe_failure(state: FleetState, name: str, version: str, grace: float) -> str:
    """Why `name` is not up with `version`, for the operator."""
    host = state.placements.get(name)
    agent = state.agents.get(host) if host else None
    prefix = f"not running and healthy within the startup grace ({grace:g} s)"
    if state.restart_modes.get(name) == RestartMode.NEVER:
        prefix = f"its breaker opened (held stopped) before the startup grace ({grace:g} s) ran out"
    if agent is not None and not agent.connected:
        return f"{prefix}: agent {host} is not connected"
    w = worker_of(state, name)
    if w is None or w.config_version != version:
        return f"{prefix}: agent {host} has not started version {version}"
    detail = f"status {w.status}, health {w.health}"
    if w.error_history:
        err = w.error_history[-1]
        detail += f"; last error: {err.reason}: {err.message}"
    return f"{prefix}: {detail}"


async def wait_until(bus: EventBus, name: str, condition: Callable[[], bool], timeout: float) -> bool:
    """Wait at most `timeout` seconds for `condition` to hold; it is re-checked on every event
    about workspace `name` (and at least every second). True once it holds."""
    with bus.subscribe(workspace=name) as sub, trio.move_on_after(timeout):
        while not condition():
            with trio.move_on_after(RECHECK_SECONDS):
                await sub.receive()
        return True
    return condition()
