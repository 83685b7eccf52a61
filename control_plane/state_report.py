"""The state inspection documents and validateSystemState (seed "State Monitoring and Debugging"). Pure.

`report(component, ...)` builds the JSON of `GET /api/debug/state/{component}` and AdminService
`GetState` for `workspace`, `resources`, `errors` and `agents` (camelCase; times UTC RFC 3339;
secrets redacted unless asked). `validate(...)` grades what the control plane knows, mirrored from
the agents' reports (and, when given, the agents' own checks of pids and ports), as ARCHITECTURE
section 2 says: a problem with a workspace desired running is an `error`; the same for one not
desired running (stopped on purpose) is `info`; things that need attention but serve are `warning`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from control_plane.breaker import BreakerState
from control_plane.breaker_board import BreakerBoard, workspace_component
from control_plane.state import FleetState
from mcpfleet.errors import NotFound
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import Desired, WorkerState
from mcpfleet.workspace import redact_secrets

COMPONENTS = ("workspace", "resources", "errors", "agents")
SEVERITIES = ("error", "warning", "info")


def rfc3339(seconds: float | None) -> str | None:
    """Epoch seconds -> `2026-11-30T05:00:00.123Z`; None stays None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def process_json(w: WorkerState) -> dict[str, Any]:
    """Seed ProcessState entry."""
    return {
        "processId": w.pid, "port": w.port, "status": str(w.status), "health": str(w.health),
        "startTime": rfc3339(w.start_time), "lastHealthCheck": rfc3339(w.last_health_check),
        "restartCount": w.restart_count, "configVersion": w.config_version or None,
        "rssMiB": round(w.rss_mib, 1), "cpuPercent": round(w.cpu_percent, 1),
        "processCount": w.process_count, "healthReason": w.health_reason or None,
        "errorHistory": [{"time": rfc3339(e.time), "reason": e.reason, "message": e.message,
                          "exitCode": e.exit_code} for e in w.error_history],
    }


def breaker_json(board: BreakerBoard, component: str) -> dict[str, Any]:
    """Seed ErrorState entry with RFC 3339 times."""
    b = board.breakers.get(component)
    if b is None:
        return {"component": component, "circuitBreaker": {"state": "closed", "failureCount": 0,
                "lastFailure": None, "nextRetry": None, "openCount": 0}, "recentErrors": [],
                "healthStatus": "healthy"}
    data = b.to_json()
    cb = dict(data["circuitBreaker"])  # type: ignore[call-overload]
    cb["lastFailure"], cb["nextRetry"] = rfc3339(b.last_failure), rfc3339(b.next_retry)
    data["circuitBreaker"] = cb
    data["recentErrors"] = [{"time": rfc3339(e.time), "reason": e.reason, "message": e.message}
                            for e in b.recent_errors]
    return data


def _workspaces(state: FleetState, board: BreakerBoard, show_secrets: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in state.views():
        entry = state.configs[v.name]
        config: Any = None
        if entry.raw:
            try:
                raw = json.loads(entry.raw)
                config = raw if show_secrets else redact_secrets(raw)
            except ValueError:
                config = None
        out[v.name] = {
            "config": {"state": "valid" if v.config_valid else "rejected", "error": v.config_error or None,
                       "version": v.version or None, "lastModified": rfc3339(v.last_modified),
                       "content": config},
            "desired": str(state.desired.get(v.name, Desired.RUNNING)),
            "placement": {"state": "pending" if v.name in state.pending or not v.host else "placed",
                          "host": v.host, "reason": state.pending.get(v.name) or None},
            "port": v.port,
            "process": process_json(v.worker) if v.worker else None,
            "breaker": board.state_of(workspace_component(v.name)),
            "restartMode": str(state.restart_modes.get(v.name, "always")),
        }
    return {"workspaces": out}


def current_usage(state: FleetState, host: str) -> dict[str, Any]:
    """Seed ResourceState.currentUsage of one host, from its agent's reports."""
    live = [w for (h, _), w in state.workers.items()
            if h == host and w.status in (Status.STARTING, Status.RUNNING, Status.STOPPING)]
    cpu = [w.cpu_percent for w in live if w.status == Status.RUNNING]
    return {"activeProcesses": len(live), "totalMemoryMB": round(sum(w.rss_mib for w in live), 1),
            "avgCpuPercent": round(sum(cpu) / len(cpu), 1) if cpu else 0.0}


def _resources(state: FleetState) -> dict[str, Any]:
    limits = state.limits
    hosts = {}
    for host, hp in sorted(state.ports.hosts.items()):
        hosts[host] = {
            "portRange": {"min": hp.port_range.min, "max": hp.port_range.max},
            "allocatedPorts": dict(sorted(hp.allocated.items())),
            "processLimits": {"maxWorkspaces": limits.max_workspaces, "maxMemoryMB": limits.max_memory_mb,
                              "maxCpuPercent": limits.max_cpu_percent},
            "currentUsage": current_usage(state, host),
        }
    return {"hosts": hosts}


def _agents(state: FleetState) -> dict[str, Any]:
    return {"agents": {a.host_id: {
        "status": "ready" if a.connected else "unknown", "address": a.address, "version": a.version,
        "portRange": {"min": a.port_range.min, "max": a.port_range.max}, "lastSeen": rfc3339(a.last_seen),
        "generation": state.generations.get(a.host_id, 0),
        "workspaces": sorted(ws for ws, h in state.placements.items() if h == a.host_id),
        "acceptsNewWorkspaces": a.host_id not in state.blocked_hosts,
    } for a in sorted(state.agents.values(), key=lambda a: a.host_id)}}


def report(component: str, state: FleetState, board: BreakerBoard, *, show_secrets: bool = False
           ) -> dict[str, Any]:
    """The state document of `component` (one of COMPONENTS); raises NotFound for any other."""
    if component == "workspace":
        return _workspaces(state, board, show_secrets)
    if component == "resources":
        return _resources(state)
    if component == "errors":
        return {"components": {c: breaker_json(board, c) for c in sorted(board.breakers)}}
    if component == "agents":
        return _agents(state)
    raise NotFound(f"unknown state component {component!r} (one of: {', '.join(COMPONENTS)})")


@dataclass(frozen=True)
class Issue:
    """One validateSystemState finding."""

    severity: str  # error | warning | info
    component: str  # process | port | placement | agent | config | breaker
    workspace: str
    host: str
    issue: str


@dataclass(frozen=True)
class HostChecks:
    """What one agent found when asked: pids alive, ports listening (by whom)."""

    alive_pids: frozenset[int]
    listening_ports: Mapping[int, str]  # port -> "worker" (ours) or "foreign"
    checked_pids: frozenset[int] = frozenset()
    checked_ports: frozenset[int] = frozenset()


def validate(state: FleetState, board: BreakerBoard, checks: Mapping[str, HostChecks] | None = None
             ) -> list[Issue]:
    """validateSystemState over the mirrored state (see module docstring); `checks` by host."""
    checks = checks or {}
    issues: list[Issue] = []

    def add(sev: str, comp: str, ws: str, host: str | None, text: str) -> None:
        issues.append(Issue(sev, comp, ws, host or "", text))

    for a in sorted(state.agents.values(), key=lambda a: a.host_id):
        if not a.connected:
            add("warning", "agent", "", a.host_id, "agent is unknown (stream lost); its workers are not observed")
        if a.host_id in state.blocked_hosts:
            add("warning", "agent", "", a.host_id, "agent link breaker is open: no new workspaces placed there")
    for v in state.views():
        ws, host = v.name, v.host
        wanted = state.desired.get(ws, Desired.RUNNING) == Desired.RUNNING
        sev = "error" if wanted else "info"
        breaker = board.state_of(workspace_component(ws))
        if v.config_error:
            add("warning" if state.configs[ws].config else "error", "config", ws, host,
                f"config rejected: {v.config_error}")
        if state.configs[ws].config is None:
            continue
        if ws in state.pending or not host:
            add("error" if wanted else "info", "placement", ws, host,
                f"placement pending: {state.pending.get(ws) or 'not placed'}")
            continue
        w = v.worker
        agent = state.agents.get(host)
        host_checks = checks.get(host)
        if breaker != BreakerState.CLOSED:
            add("warning", "breaker", ws, host, f"breaker {breaker}: restarts held by the control plane")
        if w is None or w.status in (Status.STOPPED, Status.ERROR):
            status = w.status if w else "no process reported"
            add(sev, "process", ws, host, f"workspace without a process ({status})")
        elif w.status == Status.RUNNING:
            if w.port != v.port:
                add("error", "port", ws, host, f"process runs on port {w.port}, allocated {v.port}")
            if host_checks is not None and w.pid is not None and w.pid in host_checks.checked_pids \
                    and w.pid not in host_checks.alive_pids:
                add("error", "process", ws, host, f"process {w.pid} marked running but not found")
            if w.health == Health.UNHEALTHY:
                add("error" if wanted else "info", "process", ws, host, "process running but unhealthy")
            elif w.health == Health.DEGRADED:
                add("warning", "process", ws, host, "process degraded")
        elif w.status == Status.STARTING:
            add("info", "process", ws, host, "process starting")
        if v.port is not None and host_checks is not None and v.port in host_checks.checked_ports:
            holder = host_checks.listening_ports.get(v.port)
            running = w is not None and w.status == Status.RUNNING
            if holder == "foreign":
                add("error" if wanted else "warning", "port", ws, host, f"port {v.port} held by a foreign process")
            elif holder is None and running:
                add("error" if wanted else "warning", "port", ws, host,
                    f"port {v.port} allocated but not listening (process reported running)")
            elif holder is None and not wanted:
                add("info", "port", ws, host, f"port {v.port} allocated but not listening (not desired running)")
        if agent is not None and not agent.connected and w is not None and w.status == Status.RUNNING:
            add("warning", "process", ws, host, "marked running by an agent that is now unknown")
    for (host, ws), w in sorted(state.workers.items()):
        if ws not in state.configs and w.status not in (Status.STOPPED,):
            add("warning", "process", ws, host, f"process {w.pid} ({w.status}) for a workspace no config has")
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(issues, key=lambda i: (order[i.severity], i.workspace, i.component, i.issue))
