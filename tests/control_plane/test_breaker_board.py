"""Breakers fed from worker reports, through the coordinator, on a fake clock."""

from __future__ import annotations

from control_plane.coordinator import Coordinator
from control_plane.events import Event, EventType
from control_plane.state import FleetState
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import Desired, ProcessError, RestartMode, WorkerState
from tests.control_plane.test_state import entry, hello


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failed(n: int, reason: str = "exit") -> WorkerState:
    return WorkerState("demo", 40000, Status.ERROR, error_history=(ProcessError(float(n), reason, f"code 1 #{n}", 1),))


def starting() -> WorkerState:
    return WorkerState("demo", 40000, Status.STARTING)


def assignment(coord: Coordinator):  # type: ignore[no-untyped-def]
    (a,) = coord.state.assignment_set("h1").items
    return a.desired, a.restart_mode


def test_crash_loop_opens_holds_then_one_trial_then_closes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    coord = Coordinator(FleetState(boot_id="b", heartbeat_interval_seconds=1.0), tmp_path / "p.json", clock=clock)
    coord.load_configs([entry("demo")])
    coord.attach_agent(hello("h1"))
    with coord.bus.subscribe(types={EventType.BREAKER_CHANGED}) as sub:
        for i in range(4):
            coord.worker_reported("h1", starting())
            coord.worker_reported("h1", failed(i))
            clock.now += 1
        assert coord.breaker_state("demo") == "closed"
        assert assignment(coord) == (Desired.RUNNING, RestartMode.ALWAYS)
        coord.worker_reported("h1", starting())
        coord.worker_reported("h1", failed(5))
        assert coord.breaker_state("demo") == "open"
        assert assignment(coord) == (Desired.STOPPED, RestartMode.NEVER)  # held stopped
        b = coord.breakers.get("workspace/demo")
        assert b.next_retry == clock.now + 30 and len(b.recent_errors) == 5
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.STOPPED))
        clock.now += 29.9
        coord.apply_breakers(coord.breakers.tick(clock.now))
        assert coord.breaker_state("demo") == "open"
        clock.now += 0.1
        coord.apply_breakers(coord.breakers.tick(clock.now))
        assert coord.breaker_state("demo") == "half-open"
        assert assignment(coord) == (Desired.RUNNING, RestartMode.ONCE)  # exactly one trial
        coord.worker_reported("h1", starting())
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.RUNNING, health=Health.HEALTHY))
        clock.now += 9.9
        coord.apply_breakers(coord.breakers.tick(clock.now))
        assert coord.breaker_state("demo") == "half-open"
        clock.now += 0.1
        coord.apply_breakers(coord.breakers.tick(clock.now))
        assert coord.breaker_state("demo") == "closed"
        assert assignment(coord) == (Desired.RUNNING, RestartMode.ALWAYS)
        states = []
        while True:
            try:
                item = sub._queue.popleft()
            except IndexError:
                break
            assert isinstance(item, Event)
            states.append(item.data["state"])
    assert states == ["open", "half-open", "closed"]


def test_foreign_port_holder_is_not_a_workspace_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(FleetState(boot_id="b", heartbeat_interval_seconds=1.0), tmp_path / "p.json",
                        clock=Clock())
    coord.load_configs([entry("demo")])
    coord.attach_agent(hello("h1"))
    for i in range(10):
        coord.worker_reported("h1", starting())
        coord.worker_reported("h1", failed(i, reason="port-in-use"))
    assert coord.breaker_state("demo") == "closed"
    assert coord.breakers.get("workspace/demo").failure_count == 0
    # ... and the workspace gets a new port, pushed to its agent.
    assert coord.state.ports.port_of("h1", "demo") == 40001
    (a,) = coord.state.assignment_set("h1").items
    assert a.port == 40001 and a.restart_mode == RestartMode.ALWAYS


def test_agent_link_breaker_keeps_new_workspaces_off_that_agent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    coord = Coordinator(FleetState(boot_id="b", heartbeat_interval_seconds=1.0), tmp_path / "p.json", clock=clock)
    coord.load_configs([entry("old")])
    for _ in range(5):
        mailbox = coord.attach_agent(hello("h1"))
        coord.detach_agent("h1", mailbox)
    assert coord.breaker_state("x") == "closed" and coord.breakers.state_of("agent/h1") == "open"
    coord.attach_agent(hello("h1"))
    coord.load_configs([entry("new")])
    assert coord.state.placements == {"old": "h1"}
    assert coord.state.pending == {"new": "host h1: agent link breaker open"}
    clock.now += 30
    coord.apply_breakers(coord.breakers.tick(clock.now, {"h1"}))  # half-open: new placements allowed again
    assert coord.state.placements == {"old": "h1", "new": "h1"}
    assert coord.breakers.state_of("agent/h1") == "half-open"
    clock.now += 10  # connected for the stable period: closed
    coord.apply_breakers(coord.breakers.tick(clock.now, {"h1"}))
    assert coord.breakers.state_of("agent/h1") == "closed"


def test_a_new_config_version_closes_the_workspace_breaker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(FleetState(boot_id="b", heartbeat_interval_seconds=1.0), tmp_path / "p.json", clock=Clock())
    coord.load_configs([entry("demo")])
    coord.attach_agent(hello("h1"))
    for i in range(5):
        coord.worker_reported("h1", starting())
        coord.worker_reported("h1", failed(i))
    assert assignment(coord) == (Desired.STOPPED, RestartMode.NEVER)
    coord.load_configs([entry("demo")])  # same version: still held
    assert coord.breaker_state("demo") == "open"
    fixed = entry("demo")
    fixed.version = "v-fixed"
    coord.load_configs([fixed])  # e.g. a rollback to the last good file
    assert coord.breaker_state("demo") == "closed"
    assert assignment(coord) == (Desired.RUNNING, RestartMode.ALWAYS)
