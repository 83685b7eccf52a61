import pytest

from control_plane.placement import AgentView, Decision, place

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
