"""Circuit breakers and error state per component (seed "Error and Recovery State"). Pure.

Numbers (ARCHITECTURE "who restarts"): `failure_threshold` (5) consecutive failures open the
breaker for `open_seconds` (30 s); each re-open (a failed half-open trial) doubles that, up to
`max_open_seconds` (300 s). When the open period is over the breaker is `half-open`: one trial
(restart mode `once`). A trial succeeds when the component stays healthy for `stable_seconds`
(10 s); that closes the breaker and forgets the failures. While closed, a stable healthy period
also resets the consecutive-failure count. `recent_errors` keeps the newest `max_recent_errors`.

Components are named `workspace/<name>` and `agent/<host>`. Time is passed in as `now` (epoch
seconds); nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from mcpfleet.lifecycle import Health
from mcpfleet.model import RestartMode


class BreakerState(StrEnum):
    """Seed circuitBreaker.state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True)
class BreakerPolicy:
    """The breaker's numbers (seconds; counts). Defaults are ARCHITECTURE's."""

    failure_threshold: int = 5
    open_seconds: float = 30.0
    max_open_seconds: float = 300.0
    stable_seconds: float = 10.0
    max_recent_errors: int = 20


@dataclass(frozen=True)
class ErrorRecord:
    """One failure: when (epoch seconds), `reason` (e.g. `exit`, `spawn`, `health`, `stream`), message."""

    time: float
    reason: str
    message: str


@dataclass
class Breaker:
    """One component's breaker and error state. Feed it `failure`, `healthy`, `not_healthy`, and
    call `tick(now)` at least every second or so (or at `next_deadline()`); each returns True when
    the state (closed/open/half-open) changed."""

    component: str
    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    state: BreakerState = BreakerState.CLOSED
    failure_count: int = 0
    last_failure: float | None = None
    next_retry: float | None = None
    open_count: int = 0  # opens since the breaker was last closed by a success
    healthy_since: float | None = None
    health: Health = Health.HEALTHY
    recent_errors: deque[ErrorRecord] = field(default_factory=deque)

    def failure(self, now: float, reason: str, message: str = "") -> bool:
        """Record one failure. Closed: opens at the threshold. Half-open: the trial failed, re-open
        with a doubled period. Open: only recorded."""
        self.recent_errors.append(ErrorRecord(now, reason, message))
        while len(self.recent_errors) > self.policy.max_recent_errors:
            self.recent_errors.popleft()
        self.failure_count += 1
        self.last_failure = now
        self.healthy_since = None
        self.health = Health.UNHEALTHY
        if self.state == BreakerState.HALF_OPEN or (
                self.state == BreakerState.CLOSED and self.failure_count >= self.policy.failure_threshold):
            self._open(now)
            return True
        return False

    def _open(self, now: float) -> None:
        period = min(self.policy.open_seconds * 2 ** self.open_count, self.policy.max_open_seconds)
        self.open_count += 1
        self.state = BreakerState.OPEN
        self.next_retry = now + period

    def healthy(self, now: float, health: Health = Health.HEALTHY) -> bool:
        """The component is up (`health` healthy or degraded). Starts the stable period if not
        started; closes a half-open breaker once it is over (see `tick`)."""
        self.health = health
        if self.healthy_since is None:
            self.healthy_since = now
        return self.tick(now)

    def not_healthy(self, now: float, health: Health = Health.UNHEALTHY) -> None:
        """The component is down or unhealthy without (yet) a failure: the stable period restarts."""
        self.health = health
        self.healthy_since = None

    def tick(self, now: float) -> bool:
        """Advance time: open -> half-open at `next_retry`; half-open -> closed after a stable
        period; closed: a stable period resets the failure count. True when the state changed."""
        if self.state == BreakerState.OPEN and self.next_retry is not None and now >= self.next_retry:
            self.state = BreakerState.HALF_OPEN
            self.healthy_since = None
            return True
        stable = self.healthy_since is not None and now - self.healthy_since >= self.policy.stable_seconds
        if self.state == BreakerState.HALF_OPEN and stable:
            self._close()
            return True
        if self.state == BreakerState.CLOSED and stable:
            self.failure_count = 0
        return False

    def reset(self) -> bool:
        """Operator reset (`mcpfleet breakers reset`): closed, failures forgotten. True if it changed."""
        changed = self.state != BreakerState.CLOSED
        self._close()
        return changed

    def _close(self) -> None:
        self.state = BreakerState.CLOSED
        self.failure_count = 0
        self.open_count = 0
        self.next_retry = None

    def next_deadline(self) -> float | None:
        """The next time `tick` may change something (epoch seconds), None if nothing is pending."""
        if self.state == BreakerState.OPEN:
            return self.next_retry
        if self.healthy_since is not None and (self.state == BreakerState.HALF_OPEN or self.failure_count):
            return self.healthy_since + self.policy.stable_seconds
        return None

    @property
    def restart_mode(self) -> RestartMode:
        """ARCHITECTURE: closed -> always, open -> never (held stopped), half-open -> once (the trial)."""
        return {BreakerState.CLOSED: RestartMode.ALWAYS, BreakerState.OPEN: RestartMode.NEVER,
                BreakerState.HALF_OPEN: RestartMode.ONCE}[self.state]

    def health_status(self) -> Health:
        """Seed healthStatus: unhealthy while open, else the last health seen."""
        return Health.UNHEALTHY if self.state == BreakerState.OPEN else self.health

    def to_json(self) -> dict[str, object]:
        """Seed ErrorState entry (times as epoch seconds; the caller formats them)."""
        return {
            "component": self.component,
            "circuitBreaker": {"state": str(self.state), "failureCount": self.failure_count,
                               "lastFailure": self.last_failure, "nextRetry": self.next_retry,
                               "openCount": self.open_count},
            "recentErrors": [{"time": e.time, "reason": e.reason, "message": e.message}
                             for e in self.recent_errors],
            "healthStatus": str(self.health_status()),
        }
