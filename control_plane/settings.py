"""The control plane's settings (documented key by key in deploy/control-plane.example.toml).

Sources, later winning: defaults < TOML file (`--config`) < `MCPFLEET_CONTROL_PLANE_<KEY>` env <
flags (`--<key-with-dashes>`); unknown keys are errors at startup (`mcpfleet.settings`, exit 2).
Times in seconds unless the name says otherwise; sizes MiB; CPU percent of one core.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from control_plane.breaker import BreakerPolicy
from control_plane.placement import HostLimits

ENV_PREFIX = "CONTROL_PLANE"


class ControlPlaneSettings(BaseModel):
    """Every control-plane setting; see the module docstring for where values come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grpc_bind: str = Field("127.0.0.1:50051", description="gRPC listen address (port 0 = any free port)")
    http_bind: str = Field("127.0.0.1:8081", description="HTTP listen address for /metrics, /healthz and "
                           "/api/debug/state/{component} (port 0 = any free port)")
    workspaces_dir: Path = Field(Path("./.mcpfleet/workspaces"), description="directory of <workspace>.json "
                                 "files (a git repository of its own)")
    state_dir: Path = Field(Path("./.mcpfleet/state"), description="where ports.json and desired.json live")
    log_level: str = Field("INFO", description="log level")
    heartbeat_interval: float = Field(5.0, gt=0, description="seconds between agent heartbeats")
    heartbeat_ttl: float = Field(15.0, gt=0, description="seconds of agent silence before its stream is closed")
    config_debounce: float = Field(0.5, ge=0, description="seconds of workspace file changes batched into "
                                   "one reload (at most one restart per workspace per window)")
    config_cache_ttl: float = Field(30.0, gt=0, description="seconds between full re-reads of the "
                                    "workspaces directory (catches changes the watcher missed)")
    startup_grace: float = Field(30.0, gt=0, description="seconds a new workspace config may take to be "
                                 "running and healthy before it is rolled back")
    stop_timeout: float = Field(30.0, gt=0, description="seconds `workspaces stop|restart` wait for a "
                                "worker to stop")
    breaker_failures: int = Field(5, ge=1, description="consecutive workspace failures that open its breaker")
    breaker_open: float = Field(30.0, gt=0, description="seconds a workspace breaker stays open the first "
                                "time (doubling on each re-open)")
    breaker_open_max: float = Field(300.0, gt=0, description="longest open period of a workspace breaker")
    breaker_stable: float = Field(10.0, ge=0, description="seconds healthy that make a half-open trial a "
                                  "success (and reset the failure count while closed)")
    breaker_recent_errors: int = Field(20, ge=1, description="recentErrors kept per component")
    breaker_tick: float = Field(0.5, gt=0, description="seconds between breaker clock ticks")
    agent_breaker_failures: int = Field(5, ge=1, description="broken streams / missed heartbeats that open "
                                        "an agent link's breaker")
    agent_breaker_open: float = Field(30.0, gt=0, description="seconds an agent link breaker stays open "
                                      "the first time (doubling on each re-open)")
    agent_breaker_open_max: float = Field(300.0, gt=0, description="longest open period of an agent link "
                                          "breaker")
    agent_breaker_stable: float = Field(10.0, ge=0, description="seconds connected that close a half-open "
                                        "agent link breaker")
    max_workspaces: int = Field(0, ge=0, description="processLimits.maxWorkspaces per host (0 = no limit)")
    max_memory_mb: float = Field(0.0, ge=0, description="processLimits.maxMemoryMB per host: the sum of its "
                                 "workspaces' fleet.limits.memoryMB, MiB (0 = no limit)")
    max_cpu_percent: float = Field(0.0, ge=0, description="processLimits.maxCpuPercent per host: the sum of "
                                   "its workspaces' fleet.limits.cpuPercent, percent of one core (0 = no limit)")
    event_handler_timeout: float = Field(5.0, gt=0, description="seconds one in-process event handler may take")
    event_queue: int = Field(256, ge=1, description="events queued per watcher before it is resynced")
    event_history: int = Field(1000, ge=0, description="recent events kept for `events` replays")
    validate_timeout: float = Field(5.0, gt=0, description="seconds `state validate` waits for each agent's "
                                    "checks")

    def breaker_policy(self) -> BreakerPolicy:
        """The workspace breakers' numbers."""
        return BreakerPolicy(self.breaker_failures, self.breaker_open, self.breaker_open_max,
                             self.breaker_stable, self.breaker_recent_errors)

    def agent_breaker_policy(self) -> BreakerPolicy:
        """The agent-link breakers' numbers."""
        return BreakerPolicy(self.agent_breaker_failures, self.agent_breaker_open, self.agent_breaker_open_max,
                             self.agent_breaker_stable, self.breaker_recent_errors)

    def host_limits(self) -> HostLimits:
        """Host processLimits for placement."""
        return HostLimits(self.max_workspaces, self.max_memory_mb, self.max_cpu_percent)
