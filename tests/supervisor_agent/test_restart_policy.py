import random

from mcpfleet.backoff import Backoff
from mcpfleet.model import RestartMode
from supervisor_agent.restart_policy import RestartPolicy


def test_always_restarts_at_once_then_backs_off() -> None:
    p = RestartPolicy(Backoff(initial=1.0, maximum=60.0, jitter=0.0))
    delays = [p.next_delay(RestartMode.ALWAYS, random.Random(0)) for _ in range(9)]
    assert delays == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_never_and_once_do_not_restart() -> None:
    p = RestartPolicy()
    assert p.next_delay(RestartMode.NEVER) is None
    assert p.next_delay(RestartMode.ONCE) is None


def test_ten_minutes_healthy_resets_the_count() -> None:
    p = RestartPolicy(Backoff(jitter=0.0))
    for _ in range(5):
        p.next_delay(RestartMode.ALWAYS)
    p.on_healthy_for(599)
    assert p.next_delay(RestartMode.ALWAYS) == 16.0
    p.on_healthy_for(600)
    assert p.next_delay(RestartMode.ALWAYS) == 0.0
