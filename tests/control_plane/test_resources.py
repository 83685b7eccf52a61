"""Resource manager: startup port validation and host processLimits through reconcile."""

from __future__ import annotations

import json

from control_plane.coordinator import Coordinator
from control_plane.placement import HostLimits
from control_plane.port_store import load_ports, save_ports
from control_plane.ports import PortAllocator, PortRange
from control_plane.state import ConfigEntry, FleetState
from control_plane.state_report import report
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import WorkerState
from mcpfleet.workspace import parse_workspace
from tests.control_plane.test_state import entry, hello


def limited(name: str, memory_mb: int, cpu: int = 0) -> ConfigEntry:
    limits: dict[str, int] = {"memoryMB": memory_mb}
    if cpu:
        limits["cpuPercent"] = cpu
    raw = json.dumps({"mcpServers": {"t": {"command": "x"}}, "fleet": {"limits": limits}})
    return ConfigEntry(name, parse_workspace(raw), raw, f"v-{name}", 1.0)


def test_startup_keeps_configured_allocations_and_releases_the_rest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ports = PortAllocator()
    ports.set_range("h1", PortRange(40000, 40009))
    ports.allocate("h1", "kept")
    ports.allocate("h1", "gone")
    ports.allocate("h1", "late")
    save_ports(tmp_path / "ports.json", ports)
    coord = Coordinator(FleetState(boot_id="b2", heartbeat_interval_seconds=1.0,
                                   ports=load_ports(tmp_path / "ports.json")), tmp_path / "ports.json")
    coord.load_configs([entry("kept"), entry("late"), entry("new")])
    coord.validate_ports_at_startup()
    assert load_ports(tmp_path / "ports.json").hosts["h1"].allocated == {"kept": 40000, "late": 40002}
    coord.attach_agent(hello("h2", lo=41000))  # another agent first: h1's workspaces do not move
    assert coord.state.placements["kept"] == "h1" and coord.state.placements["late"] == "h1"
    coord.attach_agent(hello("h1"))
    assert coord.state.ports.port_of("h1", "kept") == 40000  # the same port after the restart
    assert coord.state.ports.port_of("h1", "late") == 40002
    assert coord.state.placements["new"] == "h2"


def test_process_limits_keep_new_workspaces_pending_with_the_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = FleetState(boot_id="b", heartbeat_interval_seconds=1.0,
                       limits=HostLimits(max_workspaces=3, max_memory_mb=1000))
    coord = Coordinator(state, tmp_path / "ports.json")
    coord.attach_agent(hello("h1"))
    coord.load_configs([limited("a", 400), limited("b", 400), limited("c", 400), entry("d")])
    assert sorted(state.placements) == ["a", "b", "d"]  # c would make 1200 MiB; d sets no memory
    assert state.pending == {"c": "host h1: maxMemoryMB 1000 exceeded (800 + 400 MiB)"}
    coord.load_configs([entry("e")])
    assert state.pending["e"] == "host h1: maxWorkspaces 3 reached"
    coord.worker_reported("h1", WorkerState("a", 40000, Status.RUNNING, health=Health.HEALTHY, rss_mib=120.5,
                                            cpu_percent=10))
    coord.worker_reported("h1", WorkerState("b", 40001, Status.RUNNING, health=Health.HEALTHY, rss_mib=80,
                                            cpu_percent=30))
    coord.worker_reported("h1", WorkerState("d", 40002, Status.STARTING))
    usage = report("resources", state, coord.breakers)["hosts"]["h1"]
    assert usage["currentUsage"] == {"activeProcesses": 3, "totalMemoryMB": 200.5, "avgCpuPercent": 20.0}
    assert usage["processLimits"] == {"maxWorkspaces": 3, "maxMemoryMB": 1000, "maxCpuPercent": 0.0}
