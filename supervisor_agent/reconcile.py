"""What the agent must do to make its workers match an AssignmentSet. Pure.

A worker is (re)started when its assignment is new or its config version or port changed, and
stopped when its assignment is gone or desired `stopped` (ARCHITECTURE "Assignments").
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpfleet.model import Assignment, AssignmentSet, Desired


@dataclass(frozen=True)
class Plan:
    """Workspaces to stop, and assignments to start after those stops (a restart is in both)."""

    stop: tuple[str, ...]
    start: tuple[Assignment, ...]


def is_newer(current: tuple[str, int] | None, incoming: AssignmentSet) -> bool:
    """True when `incoming` should replace what was applied as `current` = (boot_id, generation).

    A new control-plane boot id always wins (a restarted control plane is never taken for a stale
    one); within one boot only a higher generation does.
    """
    if current is None:
        return True
    boot_id, generation = current
    return incoming.boot_id != boot_id or incoming.generation > generation


def plan(running: dict[str, Assignment], desired: AssignmentSet) -> Plan:
    """Diff `running` (workspace -> the assignment its worker was started with) against `desired`."""
    wanted = {a.workspace: a for a in desired.items if a.desired == Desired.RUNNING}
    stop = [ws for ws, a in running.items()
            if ws not in wanted or (wanted[ws].config_version, wanted[ws].port) != (a.config_version, a.port)]
    start = [a for ws, a in wanted.items() if ws not in running or ws in stop]
    return Plan(stop=tuple(sorted(stop)), start=tuple(sorted(start, key=lambda a: a.workspace)))
