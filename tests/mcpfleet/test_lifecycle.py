import pytest

from mcpfleet.errors import FailedPrecondition
from mcpfleet.lifecycle import Status, can_transition, transition

S = Status
ALLOWED = [
    (S.STOPPED, S.STARTING), (S.STARTING, S.RUNNING), (S.RUNNING, S.STOPPING),
    (S.STOPPING, S.STOPPED), (S.RUNNING, S.ERROR), (S.ERROR, S.STARTING),
    (S.STARTING, S.ERROR), (S.STARTING, S.STOPPING), (S.ERROR, S.STOPPED),
]
FORBIDDEN = [
    (S.STOPPED, S.RUNNING), (S.STOPPED, S.ERROR), (S.RUNNING, S.STARTING), (S.STOPPING, S.RUNNING),
    (S.ERROR, S.RUNNING), (S.STOPPING, S.STARTING),
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_seed_transitions_are_allowed(current: Status, new: Status) -> None:
    assert transition(current, new) == new


@pytest.mark.parametrize(("current", "new"), FORBIDDEN)
def test_other_transitions_are_refused(current: Status, new: Status) -> None:
    assert not can_transition(current, new)
    with pytest.raises(FailedPrecondition, match=f"{current} -> {new}"):
        transition(current, new)


def test_staying_put_is_allowed() -> None:
    assert all(can_transition(s, s) for s in Status)
