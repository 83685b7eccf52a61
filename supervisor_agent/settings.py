"""The agent's settings (documented key by key in deploy/supervisor-agent.example.toml).

Sources, later winning: defaults < TOML file (`--config`) < `MCPFLEET_AGENT_<KEY>` env < flags
(`--<key-with-dashes>`); unknown keys are errors at startup (`mcpfleet.settings`). Seconds
unless the name says otherwise.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mcpfleet.ids import default_host_id
from supervisor_agent.worker_supervisor import Timers


class OnExit(StrEnum):
    """What the agent does with its workers when it exits (ARCHITECTURE "Agent exit")."""

    KEEP = "keep"
    STOP = "stop"


class AgentSettings(BaseModel):
    """Every agent setting; see the module docstring for where values come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control_plane: str = Field("127.0.0.1:50051", description="control plane gRPC address")
    host_id: str = Field(default_factory=default_host_id, description="this host's id in the fleet")
    address: str = Field("127.0.0.1", description="address edges use to reach this host's "
                         "workers; workers bind to it")
    port_min: int = Field(40000, ge=1, le=65535, description="lowest worker port")
    port_max: int = Field(40999, ge=1, le=65535, description="highest worker port")
    state_dir: Path = Field(Path("./.mcpfleet/agent"), description="worker configs, logs and the "
                            "workers state file")
    on_exit: OnExit = Field(OnExit.KEEP, description="keep: leave workers running for the next "
                            "agent to re-adopt; stop: SIGTERM, SIGKILL after stop_grace, reap")
    startup_grace: float = Field(30.0, gt=0, description="seconds a new worker has to become healthy")
    health_interval: float = Field(5.0, gt=0, description="seconds between health checks")
    health_timeout: float = Field(2.0, gt=0, description="seconds one health check may take")
    health_failures: int = Field(3, ge=1, description="failed checks in a row before a restart")
    stop_grace: float = Field(5.0, ge=0, description="seconds between SIGTERM and SIGKILL")
    cpu_sustain: float = Field(30.0, ge=0, description="seconds over fleet.limits.cpuPercent "
                               "before health is degraded")
    restart_initial: float = Field(1.0, ge=0, description="second restart delay (the first is "
                                   "immediate), doubling")
    restart_max: float = Field(60.0, ge=0, description="longest restart delay")
    restart_reset: float = Field(600.0, ge=0, description="seconds healthy that reset the backoff")
    max_starts: int = Field(4, ge=1, description="worker starts in progress at once on this host")
    spare_workers: int = Field(1, ge=0, description="idle pre-warmed worker processes (imports "
                               "done) kept to hand the next worker start to; 0 disables")
    log_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="worker log size that "
                               "triggers a copy-truncate rotation")
    reconnect_max: float = Field(10.0, gt=0, description="longest delay between reconnects")
    status_resend: float = Field(10.0, gt=0, description="seconds a worker status may stay "
                                 "unacknowledged before its latest value is sent again")
    log_level: str = Field("INFO", description="log level")

    def timers(self) -> Timers:
        """The WorkerSupervisor timers these settings describe."""
        return Timers(startup_grace=self.startup_grace, health_interval=self.health_interval,
                      health_timeout=self.health_timeout, health_failures=self.health_failures,
                      stop_grace=self.stop_grace, cpu_sustain=self.cpu_sustain,
                      restart_initial=self.restart_initial, restart_max=self.restart_max,
                      restart_reset=self.restart_reset, max_starts=self.max_starts,
                      log_max_bytes=self.log_max_bytes)
