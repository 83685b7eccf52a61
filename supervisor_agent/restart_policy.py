"""When to restart a worker that exited (ARCHITECTURE "who restarts"). Pure.

First restart at once, then 1 s doubling to 60 s with +-20 % jitter; the count resets after a
worker has been healthy for 10 minutes. Restart mode `never` holds it stopped; `once` (the
breaker's half-open trial) starts it but never restarts it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from mcpfleet.backoff import Backoff
from mcpfleet.model import RestartMode


@dataclass
class RestartPolicy:
    """Tracks consecutive failures of one worker; `next_delay` gives seconds to wait or None."""

    backoff: Backoff = field(default_factory=Backoff)
    reset_after_seconds: float = 600.0
    failures: int = 0

    def on_healthy_for(self, seconds: float) -> None:
        """Report that the worker has been healthy for `seconds`; resets the count past the bar."""
        if seconds >= self.reset_after_seconds:
            self.failures = 0

    def next_delay(self, mode: RestartMode, rng: random.Random | None = None) -> float | None:
        """Seconds before the next start after a failure, or None when the mode forbids it."""
        if mode != RestartMode.ALWAYS:
            return None
        delay = self.backoff.delay(self.failures, rng)
        self.failures += 1
        return delay
