"""Operator lifecycle commands: `workspaces stop|start|restart` (I/O).

`stop`/`start` set the workspace's desired status (persisted in `state/desired.json`, so a
control-plane restart keeps the operator's choice) and the agent follows its assignments.
`restart` holds the workspace's lock, sends it stopped, waits until the worker is stopped, then
sends it running again (the agent starts it on the same port). All run under the workspace lock
of WorkspaceOps, so they never overlap an apply of the same workspace.
"""

from __future__ import annotations

import logging
from pathlib import Path

from control_plane.desired_store import save_desired
from control_plane.state import WorkspaceView
from control_plane.workspace_ops import WorkspaceOps
from control_plane.workspace_waits import describe_failure, is_down, is_up, wait_until
from mcpfleet.errors import DeadlineExceeded, FailedPrecondition
from mcpfleet.model import Desired

log = logging.getLogger(__name__)


class WorkspaceControl:
    """See module docstring. `desired_path`: where the stopped set is persisted."""

    def __init__(self, ops: WorkspaceOps, desired_path: Path) -> None:
        self.ops = ops
        self.state = ops.state
        self.desired_path = desired_path

    def _set(self, name: str, desired: Desired, persist: bool = True) -> None:
        if desired == Desired.RUNNING:
            self.state.desired.pop(name, None)
        else:
            self.state.desired[name] = desired
        if persist:
            save_desired(self.desired_path, self.state.desired)
        self.ops.coordinator.reconcile()

    async def stop(self, name: str, *, wait: bool) -> WorkspaceView:
        """Hold `name` stopped. With `wait`, return once its worker is stopped (DeadlineExceeded
        after the stop timeout). Raises NotFound for an unknown workspace."""
        self.state.view(name)
        async with self.ops.lock(name):
            self._set(name, Desired.STOPPED)
            log.info("workspace %s: desired stopped by cli", name)
            if wait:
                await self._wait_down(name)
        return self.state.view(name)

    async def start(self, name: str, *, wait: bool) -> WorkspaceView:
        """Let `name` run again. With `wait`, return once it is running and healthy; raises
        FailedPrecondition with the reason when it is not within the startup grace."""
        self.state.view(name)
        async with self.ops.lock(name):
            self._set(name, Desired.RUNNING)
            log.info("workspace %s: desired running by cli", name)
            if wait:
                await self._wait_up(name)
        return self.state.view(name)

    async def restart(self, name: str, *, wait: bool) -> WorkspaceView:
        """Stop, then start `name` on the same port. Raises FailedPrecondition when it is held
        stopped or has no accepted config, NotFound when unknown."""
        view = self.state.view(name)
        if not view.config_valid and self.state.configs[name].config is None:
            raise FailedPrecondition(f"workspace {name!r} has no accepted config to run")
        async with self.ops.lock(name):
            if self.state.desired.get(name, Desired.RUNNING) == Desired.STOPPED:
                raise FailedPrecondition(f"workspace {name!r} is stopped; use `workspaces start`")
            self._set(name, Desired.STOPPED, persist=False)
            try:
                await self._wait_down(name)
            finally:
                self._set(name, Desired.RUNNING, persist=False)
            log.info("workspace %s restarted by cli", name)
            if wait:
                await self._wait_up(name)
        return self.state.view(name)

    async def _wait_down(self, name: str) -> None:
        timeout = self.ops.timers.stop_timeout
        if not await wait_until(self.ops.coordinator.bus, name, lambda: is_down(self.state, name), timeout):
            raise DeadlineExceeded(f"workspace {name!r} did not stop within {timeout:g} s")

    async def _wait_up(self, name: str) -> None:
        if self.state.placements.get(name) is None or name in self.state.pending:
            raise FailedPrecondition(f"workspace {name!r} is not placed: "
                                     f"{self.state.pending.get(name, 'no agent')}")
        version = self.state.configs[name].version
        grace = self.ops.timers.startup_grace
        if not await wait_until(self.ops.coordinator.bus, name, lambda: is_up(self.state, name, version),
                                grace):
            raise FailedPrecondition(describe_failure(self.state, name, version, grace))
