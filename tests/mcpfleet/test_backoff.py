import random

import pytest

from mcpfleet.backoff import Backoff


@pytest.mark.parametrize(("attempt", "base"), [(0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0), (50, 60.0)])
def test_restart_schedule_first_at_once_then_doubling_to_cap(attempt: int, base: float) -> None:
    b = Backoff(initial=1.0, maximum=60.0, jitter=0.2)
    rng = random.Random(1)
    for _ in range(50):
        d = b.delay(attempt, rng)
        assert base * 0.8 <= d <= base * 1.2


def test_without_immediate_first_starts_at_initial() -> None:
    b = Backoff(initial=0.5, maximum=10.0, jitter=0.0, immediate_first=False)
    assert [b.delay(i) for i in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]


def test_negative_attempt_is_an_error() -> None:
    with pytest.raises(ValueError):
        Backoff().delay(-1)
