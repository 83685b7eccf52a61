"""Frozen dataclasses that cross service boundaries (converted to/from protobuf in `convert.py`).

Times are seconds since the epoch (float, UTC); sizes MiB; CPU percent of one core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mcpfleet.lifecycle import Health, Status


class Desired(StrEnum):
    """What the control plane wants for a workspace on its host."""

    RUNNING = "running"
    STOPPED = "stopped"


class RestartMode(StrEnum):
    """ARCHITECTURE "who restarts": always (breaker closed), never (open), once (half-open trial)."""

    ALWAYS = "always"
    NEVER = "never"
    ONCE = "once"


# ProcessError.reason an agent reports when a worker's port is held by a process that is not ours
# (found by binding it before the spawn): not the workspace's failure; the control plane moves the
# workspace to another port (ARCHITECTURE 2, "port validation").
PORT_IN_USE = "port-in-use"


@dataclass(frozen=True)
class ProcessError:
    """Seed ProcessError: when, why (`exit`, `spawn`, `health`, `oom`, ...), details, exit code."""

    time: float
    reason: str
    message: str
    exit_code: int | None = None


@dataclass(frozen=True)
class WorkerState:
    """One worker as its agent observes it (seed ProcessState entry)."""

    workspace: str
    port: int
    status: Status = Status.STOPPED
    pid: int | None = None
    create_time: float | None = None
    start_time: float | None = None
    last_health_check: float | None = None
    restart_count: int = 0
    error_history: tuple[ProcessError, ...] = ()
    health: Health = Health.UNHEALTHY
    config_version: str = ""
    rss_mib: float = 0.0
    cpu_percent: float = 0.0
    process_count: int = 0
    health_reason: str = ""


@dataclass(frozen=True)
class Assignment:
    """One workspace the control plane wants on a host, with its config and port."""

    workspace: str
    config_json: str
    config_version: str
    port: int
    desired: Desired = Desired.RUNNING
    restart_mode: RestartMode = RestartMode.ALWAYS


@dataclass(frozen=True)
class AssignmentSet:
    """A host's full desired set. `generation` only grows within one control-plane `boot_id`."""

    boot_id: str
    generation: int
    items: tuple[Assignment, ...]
    heartbeat_interval_seconds: float


@dataclass(frozen=True)
class AgentHello:
    """An agent's first message on every (re)connect, with a full snapshot of its workers."""

    host_id: str
    address: str
    port_min: int
    port_max: int
    version: str
    workers: tuple[WorkerState, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Route:
    """Where a workspace runs, as edges see it (RoutingService.Resolve)."""

    workspace: str
    status: Status
    health: Health
    address: str
    port: int
    request_timeout_seconds: float
    config_error: str = ""
    breaker: str = "closed"
    token_sha256: tuple[str, ...] = ()  # fleet.auth.tokenSha256: hex SHA-256 of accepted bearer tokens
    config_version: str = ""  # the accepted config's version (content hash): tools may change with it

    @property
    def base_url(self) -> str:
        """`http://<address>:<port>` of the worker (IPv6 addresses bracketed)."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"
