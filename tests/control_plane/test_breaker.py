"""Circuit breaker table tests on a fake clock (ARCHITECTURE "who restarts" numbers)."""

from __future__ import annotations

import pytest

from control_plane.breaker import Breaker, BreakerPolicy, BreakerState
from mcpfleet.model import RestartMode

CLOSED, OPEN, HALF = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


def run(steps: list[tuple[float, str]], policy: BreakerPolicy | None = None) -> list[tuple[float, str, object]]:
    """Apply (time, action) steps; record (time, state, next_retry) after each."""
    b = Breaker("workspace/x", policy or BreakerPolicy())
    out = []
    for now, action in steps:
        if action == "fail":
            b.failure(now, "exit", "worker exited with code 1")
        elif action == "up":
            b.healthy(now)
        elif action == "down":
            b.not_healthy(now)
        elif action == "tick":
            b.tick(now)
        elif action == "reset":
            b.reset()
        out.append((now, str(b.state), b.next_retry))
    return out


@pytest.mark.parametrize(("steps", "expected_last"), [
    # four failures keep it closed; the fifth opens it for 30 s
    ([(t, "fail") for t in range(4)], (3, "closed", None)),
    ([(t, "fail") for t in range(5)], (4, "open", 34)),
    # still open just before nextRetry; half-open at it
    ([*[(t, "fail") for t in range(5)], (33.9, "tick")], (33.9, "open", 34)),
    ([*[(t, "fail") for t in range(5)], (34, "tick")], (34, "half-open", 34)),
    # the trial fails: re-open for 60 s, then 120 s
    ([*[(t, "fail") for t in range(5)], (34, "tick"), (35, "fail")], (35, "open", 95)),
    ([*[(t, "fail") for t in range(5)], (34, "tick"), (35, "fail"), (95, "tick"), (96, "fail")],
     (96, "open", 216)),
    # the trial succeeds after 10 s healthy: closed
    ([*[(t, "fail") for t in range(5)], (34, "tick"), (36, "up"), (45.9, "tick")], (45.9, "half-open", 34)),
    ([*[(t, "fail") for t in range(5)], (34, "tick"), (36, "up"), (46, "tick")], (46, "closed", None)),
    # health lost during the trial restarts the stable period
    ([*[(t, "fail") for t in range(5)], (34, "tick"), (36, "up"), (40, "down"), (41, "up"), (50, "tick")],
     (50, "half-open", 34)),
    # a stable healthy period while closed resets the consecutive count
    ([*[(t, "fail") for t in range(4)], (5, "up"), (15, "tick"), (16, "fail")], (16, "closed", None)),
    ([*[(t, "fail") for t in range(4)], (5, "up"), (14, "tick"), (16, "fail")], (16, "open", 46)),
    # operator reset
    ([*[(t, "fail") for t in range(5)], (6, "reset")], (6, "closed", None)),
])
def test_breaker_table(steps: list[tuple[float, str]], expected_last: tuple[float, str, object]) -> None:
    assert run(steps)[-1] == expected_last


def test_open_period_doubles_up_to_the_cap_and_resets_after_success() -> None:
    b = Breaker("workspace/x")
    now = 0.0
    for _ in range(5):
        b.failure(now, "exit")
    periods = []
    for _ in range(6):
        assert b.state == OPEN and b.next_retry is not None
        periods.append(b.next_retry - now)
        now = b.next_retry
        assert b.tick(now) and b.state == HALF
        assert b.restart_mode == RestartMode.ONCE
        now += 1
        b.failure(now, "exit")
    assert periods == [30, 60, 120, 240, 300, 300]
    now = b.next_retry or 0
    b.tick(now)
    b.healthy(now)
    assert b.tick(now + 10) and b.state == CLOSED and b.restart_mode == RestartMode.ALWAYS
    for i in range(5):
        b.failure(now + 20 + i, "exit")
    assert b.next_retry == now + 24 + 30  # back to 30 s after a success


def test_recent_errors_bounded_and_modes() -> None:
    b = Breaker("workspace/x", BreakerPolicy(max_recent_errors=3, failure_threshold=100))
    for i in range(10):
        b.failure(float(i), "exit", f"#{i}")
    assert [e.message for e in b.recent_errors] == ["#7", "#8", "#9"]
    assert b.restart_mode == RestartMode.ALWAYS
    assert b.to_json()["healthStatus"] == "unhealthy"
    b2 = Breaker("agent/h", BreakerPolicy(failure_threshold=1))
    b2.failure(0, "stream")
    assert b2.restart_mode == RestartMode.NEVER and b2.next_deadline() == 30
