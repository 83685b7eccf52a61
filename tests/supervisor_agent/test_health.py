"""HealthTracker: failed checks in a row, memory limit -> oom, sustained CPU -> degraded. Pure."""

from supervisor_agent.health import HealthTracker, Sample


def test_three_failed_checks_in_a_row_restart_and_a_success_resets() -> None:
    t = HealthTracker(failures_to_restart=3)
    assert [t.on_probe(ok) for ok in (False, False, True, False, False)] == [False] * 5
    assert t.on_probe(False) is True


def test_memory_over_the_limit_is_oom() -> None:
    t = HealthTracker(memory_mib=100)
    assert t.on_sample(Sample(99.0, 0, 1), now=0).restart_reason is None
    v = t.on_sample(Sample(101.0, 0, 1), now=1)
    assert v.restart_reason == "oom" and "memoryMB" in v.restart_message


def test_cpu_over_the_limit_degrades_only_when_sustained() -> None:
    t = HealthTracker(cpu_percent=50, cpu_sustain_seconds=30)
    hot = Sample(10, 80.0, 1)
    assert t.on_sample(hot, now=0).degraded_reason == ""
    assert t.on_sample(hot, now=29).degraded_reason == ""
    assert "cpuPercent" in t.on_sample(hot, now=30).degraded_reason
    assert t.on_sample(Sample(10, 20.0, 1), now=31).degraded_reason == ""  # dropped: clears
    assert t.on_sample(hot, now=32).degraded_reason == ""  # and the 30 s start over


def test_no_limits_never_judge() -> None:
    t = HealthTracker()
    v = t.on_sample(Sample(1e6, 1e4, 100), now=1e6)
    assert v.restart_reason is None and v.degraded_reason == ""
