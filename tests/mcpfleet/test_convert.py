from mcpfleet.convert import (
    assignments_from_pb,
    assignments_to_pb,
    hello_from_pb,
    hello_to_pb,
    route_from_pb,
    route_to_pb,
    worker_from_pb,
    worker_to_pb,
)
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import (
    AgentHello,
    Assignment,
    AssignmentSet,
    Desired,
    ProcessError,
    RestartMode,
    Route,
    WorkerState,
)

WORKER = WorkerState(workspace="demo", port=40003, status=Status.RUNNING, pid=42, create_time=1.5,
                     start_time=100.25, last_health_check=101.0, restart_count=2,
                     error_history=(ProcessError(99.0, "exit", "code 1", 1),), health=Health.DEGRADED,
                     config_version="abc", rss_mib=90.5, cpu_percent=3.0)


def test_worker_round_trip() -> None:
    assert worker_from_pb(worker_to_pb(WORKER)) == WORKER


def test_hello_round_trip() -> None:
    hello = AgentHello("h1", "127.0.0.1", 40000, 40999, "0.1", (WORKER,))
    assert hello_from_pb(hello_to_pb(hello)) == hello


def test_assignments_round_trip() -> None:
    a = AssignmentSet("boot", 7, (Assignment("demo", "{}", "v1", 40001, Desired.STOPPED, RestartMode.ONCE),), 2.5)
    assert assignments_from_pb(assignments_to_pb(a)) == a


def test_route_round_trip_with_half_open_breaker() -> None:
    r = Route("demo", Status.STARTING, Health.HEALTHY, "127.0.0.1", 40001, 60.0, "", "half-open")
    assert route_from_pb(route_to_pb(r)) == r
