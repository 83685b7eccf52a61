import pytest

from control_plane.placement import AgentView, Decision, HostLimits, place

A = AgentView("a", True, 2)
B = AgentView("b", True, 1)
C_DOWN = AgentView("c", False, 0)


@pytest.mark.parametrize(
    ("current", "pin", "agents", "expected"),
    [
        (None, None, [A, B], Decision("b")),                       # fewest workspaces wins
        (None, None, [AgentView("b", True, 1), AgentView("a", True, 1)], Decision("a")),  # tie: host id
        ("a", None, [A, B], Decision("a")),                        # stays where it is
        ("c", None, [A, C_DOWN], Decision("c")),                   # unknown agent: not moved
        ("gone", None, [A, B], Decision("b")),                     # forgotten host: re-placed
        (None, None, [C_DOWN], Decision(None, "no ready agent")),
        (None, None, [], Decision(None, "no ready agent")),
        (None, "a", [A, B], Decision("a")),                        # pin beats capacity
        ("b", "a", [A, B], Decision("a")),                         # pin moves it
        (None, "z", [A, B], Decision(None, "pinned host 'z' is not connected")),
    ],
)
def test_place(current: str | None, pin: str | None, agents: list[AgentView], expected: Decision) -> None:
    assert place(current, pin, agents) == expected


L = HostLimits(max_workspaces=3, max_memory_mb=1024, max_cpu_percent=150)


@pytest.mark.parametrize(
    ("current", "agents", "mem", "cpu", "expected"),
    [
        (None, [AgentView("a", True, 2)], 0, 0, Decision("a")),
        (None, [AgentView("a", True, 3)], 0, 0, Decision(None, "host a: maxWorkspaces 3 reached")),
        ("a", [AgentView("a", True, 5)], 0, 0, Decision("a")),                 # placed: never moved
        (None, [AgentView("a", True, 1, memory_mb=600)], 512, 0,
         Decision(None, "host a: maxMemoryMB 1024 exceeded (600 + 512 MiB)")),
        (None, [AgentView("a", True, 1, memory_mb=512)], 512, 0, Decision("a")),  # exactly at the limit
        (None, [AgentView("a", True, 1, cpu_percent=100)], 0, 100,
         Decision(None, "host a: maxCpuPercent 150 exceeded (100 + 100 %)")),
        (None, [AgentView("a", True, 0, accepts_new=False), AgentView("b", True, 2)], 0, 0, Decision("b")),
        (None, [AgentView("a", True, 0, accepts_new=False), AgentView("b", True, 3)], 0, 0,
         Decision(None, "host a: agent link breaker open; host b: maxWorkspaces 3 reached")),
        ("a", [AgentView("a", True, 1, accepts_new=False)], 0, 0, Decision("a")),  # running: untouched
    ],
)
def test_place_with_limits_and_breakers(current: str | None, agents: list[AgentView], mem: float, cpu: float,
                                        expected: Decision) -> None:
    assert place(current, None, agents, L, mem, cpu) == expected


def test_zero_limits_mean_no_limit() -> None:
    assert place(None, None, [AgentView("a", True, 10_000, memory_mb=1e9, cpu_percent=1e9)], HostLimits(),
                 512, 100) == Decision("a")
