"""The process lifecycle state machine both the agent and the control plane use.

Statuses and transitions are the seed's ("Process Lifecycle State"):
    stopped -> starting -> running;  running -> stopping -> stopped;  running -> error -> starting
plus ARCHITECTURE section 2's additions: starting -> error, starting -> stopping, error -> stopped.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from enum import StrEnum

from mcpfleet.errors import FailedPrecondition


class Status(StrEnum):
    """Process `status` (seed ProcessState.status)."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    ERROR = "error"


class Health(StrEnum):
    """Seed healthStatus. `degraded`: one server of a workspace fails or a limit is exceeded."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


TRANSITIONS: frozenset[tuple[Status, Status]] = frozenset(
    {
        (Status.STOPPED, Status.STARTING),
        (Status.STARTING, Status.RUNNING),
        (Status.RUNNING, Status.STOPPING),
        (Status.STOPPING, Status.STOPPED),
        (Status.RUNNING, Status.ERROR),
        (Status.ERROR, Status.STARTING),
        # ARCHITECTURE section 2 additions
        (Status.STARTING, Status.ERROR),
        (Status.STARTING, Status.STOPPING),
        (Status.ERROR, Status.STOPPED),
    }
)


def can_transition(current: Status, new: Status) -> bool:
    """True when `current -> new` is an allowed lifecycle transition (or a no-op)."""
    return current == new or (current, new) in TRANSITIONS


def transition(current: Status, new: Status) -> Status:
    """Return `new` if `current -> new` is allowed; raises FailedPrecondition otherwise."""
    if not can_transition(current, new):
        raise FailedPrecondition(f"illegal lifecycle transition {current} -> {new}")
    return new
