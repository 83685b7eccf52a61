import json

import pytest

from control_plane.ports import PortAllocator, PortRange
from control_plane.state import ConfigEntry, FleetState
from mcpfleet.errors import NotFound
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import AgentHello, WorkerState
from mcpfleet.workspace import parse_workspace


def entry(name: str, pin: str | None = None) -> ConfigEntry:
    raw = json.dumps({"mcpServers": {"t": {"command": "x"}},
                      "fleet": {"placement": {"host": pin}} if pin else {}})
    return ConfigEntry(name, parse_workspace(raw), raw, f"v-{name}", 1.0)


def rejected(name: str) -> ConfigEntry:
    return ConfigEntry(name, None, None, "", None, error=f"{name}.json: line 1 column 2: bad")


def hello(host: str, *workers: WorkerState, lo: int = 40000) -> AgentHello:
    return AgentHello(host, "127.0.0.1", lo, lo + 9, "t", tuple(workers))


def fleet() -> FleetState:
    return FleetState(boot_id="boot", heartbeat_interval_seconds=1.0)


def test_workspace_is_pending_until_an_agent_connects_then_assigned() -> None:
    s = fleet()
    s.set_config(entry("demo"))
    assert s.reconcile() == {}
    assert s.pending == {"demo": "no ready agent"}
    s.agent_connected(hello("h1"), now=0)
    changed = s.reconcile()
    assert list(changed) == ["h1"]
    (a,) = changed["h1"].items
    assert (a.workspace, a.port, a.config_version) == ("demo", 40000, "v-demo")
    assert changed["h1"].generation == 1 and changed["h1"].boot_id == "boot"


def test_generation_grows_only_when_the_set_changes() -> None:
    s = fleet()
    s.set_config(entry("a"))
    s.agent_connected(hello("h1"), now=0)
    assert s.reconcile()["h1"].generation == 1
    assert s.reconcile() == {}
    s.set_config(entry("b"))
    assert s.reconcile()["h1"].generation == 2


def test_rejected_config_is_listed_but_never_assigned() -> None:
    s = fleet()
    s.set_config(entry("demo"))
    s.set_config(rejected("broken"))
    s.agent_connected(hello("h1"), now=0)
    items = s.reconcile()["h1"].items
    assert [a.workspace for a in items] == ["demo"]
    view = s.view("broken")
    assert not view.config_valid and "line 1 column 2" in view.config_error
    with pytest.raises(NotFound):
        s.view("nope")


def test_persisted_port_is_reused() -> None:
    ports = PortAllocator()
    ports.set_range("h1", PortRange(40000, 40009))
    ports.hosts["h1"].allocated["demo"] = 40007
    s = FleetState(boot_id="b", heartbeat_interval_seconds=1.0, ports=ports)
    s.set_config(entry("demo"))
    s.agent_connected(hello("h1"), now=0)
    assert s.reconcile()["h1"].items[0].port == 40007


def test_restarted_control_plane_adopts_running_workers_and_their_ports() -> None:
    s = fleet()
    s.set_config(entry("a"))
    s.set_config(entry("b"))
    running = WorkerState("b", port=40005, status=Status.RUNNING, pid=9, health=Health.HEALTHY)
    s.agent_connected(hello("h2"), now=0)
    s.agent_connected(hello("h1", running), now=0)
    s.reconcile()
    assert s.placements["b"] == "h1" and s.ports.port_of("h1", "b") == 40005
    assert s.route("b").status == Status.RUNNING


def test_workspaces_spread_over_agents() -> None:
    s = fleet()
    for n in "abcd":
        s.set_config(entry(n))
    s.agent_connected(hello("h1"), now=0)
    s.agent_connected(hello("h2", lo=41000), now=0)
    changed = s.reconcile()
    assert len(changed["h1"].items) == 2 and len(changed["h2"].items) == 2


def test_removed_config_releases_placement_and_port() -> None:
    s = fleet()
    s.set_config(entry("a"))
    s.agent_connected(hello("h1"), now=0)
    s.reconcile()
    s.remove_config("a")
    assert s.reconcile()["h1"].items == ()
    assert s.ports.port_of("h1", "a") is None


def test_disconnected_agent_keeps_its_workspaces() -> None:
    s = fleet()
    s.set_config(entry("a"))
    s.agent_connected(hello("h1"), now=0)
    s.reconcile()
    s.agent_disconnected("h1", now=5)
    s.agent_connected(hello("h2", lo=41000), now=5)
    s.reconcile()
    assert s.placements["a"] == "h1"


def test_route_reflects_mirrored_worker() -> None:
    s = fleet()
    s.set_config(entry("a"))
    s.agent_connected(hello("h1"), now=0)
    s.reconcile()
    assert s.route("a").status == Status.STOPPED
    s.worker_reported("h1", WorkerState("a", port=40000, status=Status.RUNNING, health=Health.HEALTHY), now=1)
    r = s.route("a")
    assert (r.status, r.health, r.address, r.port) == (Status.RUNNING, Health.HEALTHY, "127.0.0.1", 40000)
