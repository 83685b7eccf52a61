"""Placement: which host runs a workspace. Pure.

Rules: a placed workspace stays where it is while that agent is known (an `unknown` agent is not
a reason to move: ARCHITECTURE "static stability"); a pinned workspace (`fleet.placement.host`)
goes only to that host; otherwise the ready agent with the fewest workspaces wins, ties by host id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentView:
    """What placement needs to know about one agent."""

    host_id: str
    ready: bool
    workspace_count: int


@dataclass(frozen=True)
class Decision:
    """`host` is None when the workspace stays `pending`; `reason` then says why."""

    host: str | None
    reason: str = ""


def place(current_host: str | None, pinned_host: str | None, agents: list[AgentView]) -> Decision:
    """Choose a host for one workspace (see module docstring)."""
    known = {a.host_id: a for a in agents}
    if current_host in known and (pinned_host is None or pinned_host == current_host):
        return Decision(current_host)
    candidates = [a for a in agents if a.ready]
    if pinned_host is not None:
        candidates = [a for a in candidates if a.host_id == pinned_host]
        if not candidates:
            return Decision(None, f"pinned host {pinned_host!r} is not connected")
    if not candidates:
        return Decision(None, "no ready agent")
    best = min(candidates, key=lambda a: (a.workspace_count, a.host_id))
    return Decision(best.host_id)
