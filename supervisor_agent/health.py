"""What a worker's health checks and resource samples mean (agent issue items 2-3). Pure.

- Health: `failures_to_restart` consecutive failed checks (default 3) -> restart (a hung or
  stopped worker is killed with SIGKILL at once: a stopped process cannot act on SIGTERM).
- Memory: RSS of the whole process tree above `fleet.limits.memoryMB` MiB -> restart, reason `oom`.
- CPU: the tree's CPU (percent of one core) above `fleet.limits.cpuPercent` for
  `cpu_sustain_seconds` (default 30) -> health `degraded` with the reason; clears when it drops.
Time is passed in as `now` (seconds, any monotonic origin).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One measurement of a worker's process tree: RSS MiB, CPU % of one core, process count."""

    rss_mib: float
    cpu_percent: float
    process_count: int


@dataclass(frozen=True)
class Verdict:
    """What to do after a sample: `restart_reason` ('oom') or None; `degraded_reason` or ''."""

    restart_reason: str | None = None
    restart_message: str = ""
    degraded_reason: str = ""


@dataclass
class HealthTracker:
    """Per-worker counters. Limits: `memory_mib` / `cpu_percent` None = no limit."""

    memory_mib: float | None = None
    cpu_percent: float | None = None
    failures_to_restart: int = 3
    cpu_sustain_seconds: float = 30.0
    consecutive_failures: int = 0
    cpu_over_since: float | None = None

    def on_probe(self, ok: bool) -> bool:
        """Record one health check; True when the worker must be killed and restarted."""
        self.consecutive_failures = 0 if ok else self.consecutive_failures + 1
        return self.consecutive_failures >= self.failures_to_restart

    def on_sample(self, sample: Sample, now: float) -> Verdict:
        """Judge one sample against the limits (see module docstring)."""
        if self.memory_mib is not None and sample.rss_mib > self.memory_mib:
            return Verdict("oom", f"RSS {sample.rss_mib:.0f} MiB over the limit of "
                                  f"{self.memory_mib:g} MiB (fleet.limits.memoryMB)")
        if self.cpu_percent is None or sample.cpu_percent <= self.cpu_percent:
            self.cpu_over_since = None
            return Verdict()
        if self.cpu_over_since is None:
            self.cpu_over_since = now
        if now - self.cpu_over_since >= self.cpu_sustain_seconds:
            return Verdict(degraded_reason=(
                f"CPU {sample.cpu_percent:.0f} % over the limit of {self.cpu_percent:g} % "
                f"(fleet.limits.cpuPercent) for {now - self.cpu_over_since:.0f} s"))
        return Verdict()
