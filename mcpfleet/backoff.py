"""Jittered exponential backoff (pure: the caller supplies randomness and sleeps).

Used for agent reconnects and, with ARCHITECTURE's numbers, for worker restarts:
first retry at once, then `initial` seconds doubling up to `maximum`, each delay +-`jitter`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay schedule in seconds. `delay(attempt)` for attempt 0, 1, 2, ...

    attempt 0 -> 0 when `immediate_first`, else `initial`; then initial * 2**n capped at maximum;
    the result is multiplied by a factor drawn uniformly from [1 - jitter, 1 + jitter].
    """

    initial: float = 1.0
    maximum: float = 60.0
    jitter: float = 0.2
    immediate_first: bool = True

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        if self.immediate_first:
            if attempt == 0:
                return 0.0
            attempt -= 1
        base = min(self.maximum, self.initial * (2 ** min(attempt, 64)))
        r = rng or random
        return base * r.uniform(1 - self.jitter, 1 + self.jitter)
