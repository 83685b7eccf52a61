"""validateSystemState grading (ARCHITECTURE 2) and the state documents, on a hand-built state."""

from __future__ import annotations

import pytest

from control_plane.breaker_board import BreakerBoard
from control_plane.state import FleetState
from control_plane.state_report import HostChecks, report, validate
from mcpfleet.errors import NotFound
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import Desired, WorkerState
from tests.control_plane.test_state import entry, hello, rejected


def fleet(*workers: WorkerState) -> FleetState:
    s = FleetState(boot_id="b", heartbeat_interval_seconds=1.0)
    for name in ("up", "down"):
        s.set_config(entry(name))
    s.agent_connected(hello("h1", *workers), now=0)
    s.reconcile()
    return s


UP = WorkerState("up", 40001, Status.RUNNING, pid=11, health=Health.HEALTHY)
DOWN = WorkerState("down", 40000, Status.STOPPED)


def issues(s: FleetState, checks: dict[str, HostChecks] | None = None) -> list[tuple[str, str, str, str]]:
    return [(i.severity, i.component, i.workspace, i.issue) for i in validate(s, BreakerBoard(), checks)]


def test_healthy_fleet_with_a_stopped_workspace_has_no_errors() -> None:
    s = fleet(UP, DOWN)
    s.desired["down"] = Desired.STOPPED
    checks = {"h1": HostChecks(frozenset({11}), {40001: "worker"}, frozenset({11}), frozenset({40000, 40001}))}
    assert issues(s, checks) == [
        ("info", "port", "down", "port 40000 allocated but not listening (not desired running)"),
        ("info", "process", "down", "workspace without a process (stopped)"),
    ]


@pytest.mark.parametrize(("checks", "expected"), [
    (None, ("error", "process", "down", "workspace without a process (stopped)")),
    ({"h1": HostChecks(frozenset(), {}, frozenset({11}), frozenset({40001}))},
     ("error", "process", "up", "process 11 marked running but not found")),
    ({"h1": HostChecks(frozenset({11}), {}, frozenset({11}), frozenset({40001}))},
     ("error", "port", "up", "port 40001 allocated but not listening (process reported running)")),
    ({"h1": HostChecks(frozenset({11}), {40000: "foreign"}, frozenset({11}), frozenset({40000}))},
     ("error", "port", "down", "port 40000 held by a foreign process")),
])
def test_errors_for_workspaces_desired_running(checks: dict[str, HostChecks] | None,
                                              expected: tuple[str, str, str, str]) -> None:
    assert expected in issues(fleet(UP, DOWN), checks)


def test_pending_rejected_unknown_agent_and_orphans() -> None:
    s = fleet(UP, DOWN, WorkerState("ghost", 40005, Status.RUNNING, pid=99))
    s.set_config(entry("pinned", pin="elsewhere"))
    s.set_config(rejected("broken"))
    s.reconcile()
    s.agent_disconnected("h1", now=1)
    got = issues(s)
    assert ("error", "placement", "pinned", "placement pending: pinned host 'elsewhere' is not connected") in got
    assert ("error", "config", "broken", "config rejected: broken.json: line 1 column 2: bad") in got
    assert ("warning", "process", "up", "marked running by an agent that is now unknown") in got
    assert ("warning", "process", "ghost", "process 99 (running) for a workspace no config has") in got
    assert got[0][0] == "error" and got[-1][0] in ("warning", "info")  # errors first


def test_report_components_and_unknown_component() -> None:
    s = fleet(UP, DOWN)
    board = BreakerBoard()
    board.worker_report(None, WorkerState("up", 40001, Status.ERROR), now=5.0)
    ws = report("workspace", s, board)["workspaces"]["up"]
    assert ws["process"]["status"] == "running" and ws["placement"] == {"state": "placed", "host": "h1",
                                                                        "reason": None}
    assert ws["config"]["content"]["mcpServers"]["t"]["command"] == "x"
    errs = report("errors", s, board)["components"]["workspace/up"]
    assert errs["circuitBreaker"]["failureCount"] == 1 and errs["recentErrors"][0]["time"] == "1970-01-01T00:00:05.000Z"
    assert report("agents", s, board)["agents"]["h1"]["status"] == "ready"
    with pytest.raises(NotFound, match="unknown state component 'bogus'"):
        report("bogus", s, board)


def test_state_report_redacts_secrets_unless_asked() -> None:
    import json

    from control_plane.state import ConfigEntry
    from mcpfleet.workspace import parse_workspace

    raw = json.dumps({"mcpServers": {"t": {"command": "x", "env": {"API_KEY": "s3cret"}}}})
    s = fleet(UP, DOWN)
    s.set_config(ConfigEntry("up", parse_workspace(raw), raw, "v2", 1.0))
    board = BreakerBoard()
    shown = report("workspace", s, board)["workspaces"]["up"]["config"]["content"]
    assert shown["mcpServers"]["t"]["env"] == {"API_KEY": "***"}
    assert "s3cret" not in json.dumps(report("workspace", s, board))
    secret = report("workspace", s, board, show_secrets=True)["workspaces"]["up"]["config"]["content"]
    assert secret["mcpServers"]["t"]["env"] == {"API_KEY": "s3cret"}
