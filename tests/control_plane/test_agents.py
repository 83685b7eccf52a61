"""Agent status (ready | unknown | draining) and drain handoffs in FleetState. Pure."""

import pytest

from control_plane.agents import agent_status, summarize_agents
from mcpfleet.errors import NotFound
from mcpfleet.lifecycle import Status
from mcpfleet.model import WorkerState
from tests.control_plane.test_state import entry, fleet, hello


@pytest.mark.parametrize(("draining", "last_seen", "now", "expected"), [
    (False, 100.0, 100.0, "ready"),
    (False, 100.0, 120.0, "ready"),      # exactly TTL + grace: still ready
    (False, 100.0, 120.1, "unknown"),
    (True, 100.0, 100.0, "draining"),
    (True, 100.0, 500.0, "draining"),
])
def test_agent_status(draining: bool, last_seen: float, now: float, expected: str) -> None:
    assert agent_status(draining, last_seen, now, unknown_after=20.0) == expected


def two_hosts() -> object:
    s = fleet()
    s.agent_connected(hello("h1", lo=40000), now=0)
    s.agent_connected(hello("h2", lo=41000), now=0)
    for name in ("a", "b", "c", "d"):
        s.set_config(entry(name))
        s.reconcile()
    return s


def test_workspaces_spread_and_summaries_sum_usage() -> None:
    s = two_hosts()
    assert sorted(s.placements.values()) == ["h1", "h1", "h2", "h2"]
    ws = next(w for w, h in s.placements.items() if h == "h2")
    s.worker_reported("h2", WorkerState(ws, s.ports.port_of("h2", ws), Status.RUNNING, pid=7,
                                        rss_mib=100.0, cpu_percent=5.0, process_count=3), now=1)
    rows = {r.host_id: r for r in summarize_agents(s, now=1, unknown_after=20)}
    assert rows["h2"].rss_mib == 100.0 and rows["h2"].process_count == 3
    assert len(rows["h1"].workspaces) == 2 and rows["h1"].status == "ready"


def test_drain_starts_elsewhere_first_then_stops_here() -> None:
    s = two_hosts()
    moving = sorted(w for w, h in s.placements.items() if h == "h2")
    old_ports = {w: s.ports.port_of("h2", w) for w in moving}
    s.set_draining("h2", True)
    changed = s.reconcile()
    # the new host gets them; the draining host keeps them (and their ports) until they run there
    assert sorted(a.workspace for a in changed["h1"].items) == ["a", "b", "c", "d"]
    assert sorted(a.workspace for a in s.assignment_set("h2").items) == moving
    for w in moving:
        assert s.route(w).port == old_ports[w]  # clients stay on the old copy meanwhile
    first = moving[0]
    done = s.worker_reported("h1", WorkerState(first, s.ports.port_of("h1", first), Status.RUNNING,
                                               pid=9), now=2)
    assert done
    s.reconcile()
    assert [a.workspace for a in s.assignment_set("h2").items] == moving[1:]
    assert s.ports.port_of("h2", first) is None
    assert s.route(first).port == s.ports.port_of("h1", first)
    assert summarize_agents(s, now=2, unknown_after=20)[1].status == "draining"


def test_drain_with_nowhere_to_go_keeps_workspaces_running_in_place() -> None:
    s = fleet()
    s.agent_connected(hello("h1"), now=0)
    s.set_config(entry("a"))
    s.reconcile()
    s.set_draining("h1", True)
    s.reconcile()
    assert s.placements == {"a": "h1"} and not s.handoffs
    with pytest.raises(NotFound):
        s.set_draining("nope", True)
