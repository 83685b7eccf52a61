import pytest

from mcpfleet.model import Assignment, AssignmentSet, Desired
from supervisor_agent.reconcile import Plan, is_newer, plan


def a(ws: str, version: str = "v1", port: int = 40000, desired: Desired = Desired.RUNNING) -> Assignment:
    return Assignment(ws, "{}", version, port, desired)


def aset(*items: Assignment, gen: int = 1, boot: str = "b") -> AssignmentSet:
    return AssignmentSet(boot, gen, items, 1.0)


@pytest.mark.parametrize(
    ("running", "desired", "expected"),
    [
        ({}, aset(a("x")), Plan((), (a("x"),))),
        ({"x": a("x")}, aset(a("x")), Plan((), ())),
        ({"x": a("x")}, aset(), Plan(("x",), ())),
        ({"x": a("x")}, aset(a("x", version="v2")), Plan(("x",), (a("x", version="v2"),))),
        ({"x": a("x")}, aset(a("x", port=40001)), Plan(("x",), (a("x", port=40001),))),
        ({"x": a("x")}, aset(a("x", desired=Desired.STOPPED)), Plan(("x",), ())),
        ({"x": a("x"), "y": a("y")}, aset(a("y"), a("z")), Plan(("x",), (a("z"),))),
    ],
)
def test_plan(running: dict[str, Assignment], desired: AssignmentSet, expected: Plan) -> None:
    assert plan(running, desired) == expected


@pytest.mark.parametrize(
    ("current", "incoming", "newer"),
    [
        (None, aset(gen=1), True),
        (("b", 1), aset(gen=2), True),
        (("b", 2), aset(gen=2), False),
        (("b", 3), aset(gen=2), False),
        (("old", 9), aset(gen=1), True),  # a restarted control plane is never stale
    ],
)
def test_is_newer(current: tuple[str, int] | None, incoming: AssignmentSet, newer: bool) -> None:
    assert is_newer(current, incoming) is newer
