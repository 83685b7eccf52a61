"""The control plane's one event bus (ARCHITECTURE section 2, "Events"; seed "State Event System").

Event types: the seed's eight (`config/changed`, `process/started`, `process/stopped`,
`process/error`, `connection/opened`, `connection/closed`, `resource/allocated`,
`resource/released`) plus `process/statusChanged` (every lifecycle transition, with health and
breaker), `breaker/changed` and `agent/changed`.

Two ways to listen:
- in-process handlers (`bus.on(type, handler)`): `await bus.emit(event)` runs every handler for
  the event's type concurrently and waits for them (the seed's semantics), each under
  `handler_timeout_seconds`; a handler that fails or times out is logged and isolated;
- subscriptions (`bus.subscribe()`), for gRPC watch streams: each has a bounded queue. A
  subscriber that falls behind loses its queued events and receives one `Resync` marker instead,
  after which it should send its watcher a fresh snapshot; it never stalls the bus.

Synchronous code (the coordinator) uses `bus.post(event)`: events are delivered to subscriptions
at once and handed, in order, to a pump task (`await nursery.start(bus.run)`) that emits them to
handlers.

    bus = EventBus()
    await nursery.start(bus.run)
    bus.on(EventType.CONFIG_CHANGED, handler)   # async def handler(event: Event) -> None
    with bus.subscribe(workspace="ws") as sub:
        async for item in sub:                  # Event or Resync
            ...
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import trio

log = logging.getLogger(__name__)


class EventType(StrEnum):
    """The event types of ARCHITECTURE section 2 (names as on the wire and in `mcpfleet events`)."""

    CONFIG_CHANGED = "config/changed"
    PROCESS_STARTED = "process/started"
    PROCESS_STOPPED = "process/stopped"
    PROCESS_ERROR = "process/error"
    CONNECTION_OPENED = "connection/opened"
    CONNECTION_CLOSED = "connection/closed"
    RESOURCE_ALLOCATED = "resource/allocated"
    RESOURCE_RELEASED = "resource/released"
    PROCESS_STATUS_CHANGED = "process/statusChanged"
    BREAKER_CHANGED = "breaker/changed"
    AGENT_CHANGED = "agent/changed"


@dataclass(frozen=True)
class Event:
    """One event. `time`: epoch seconds (UTC), stamped by the bus when 0; `seq`: assigned by the bus,
    growing by one per event within one control-plane boot. `workspace`/`host` are "" when the event
    is not about one. `data`: JSON-able details in camelCase (e.g. `status`, `health`, `breaker`,
    `port`, `reason`, `connectionId`), as listed by each emitter."""

    type: EventType
    workspace: str = ""
    host: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    time: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class Resync:
    """Marker a lagging subscription receives instead of the `dropped` events it lost."""

    dropped: int


Handler = Callable[[Event], Awaitable[None]]


class Subscription:
    """A bounded queue of events for one watcher (see module docstring). Iterate it, or `receive()`.

    `workspace`/`types` filter (empty = all). Closed when its `subscribe()` block exits.
    """

    def __init__(self, bus: EventBus, maxsize: int, workspace: str, types: frozenset[str]) -> None:
        self._bus = bus
        self._maxsize = maxsize
        self.workspace = workspace
        self.types = types
        self._queue: deque[Event] = deque()
        self._dropped = 0
        self._wakeup = trio.Event()
        self._closed = False

    def wants(self, event: Event) -> bool:
        """True if this subscription's filters let `event` through."""
        if self.workspace and event.workspace != self.workspace:
            return False
        return not self.types or event.type in self.types

    def _offer(self, event: Event) -> None:
        if self._closed or not self.wants(event):
            return
        if len(self._queue) >= self._maxsize:
            self._dropped += len(self._queue) + 1
            self._queue.clear()
        elif self._dropped:
            self._dropped += 1
        else:
            self._queue.append(event)
        self._wakeup.set()

    async def receive(self) -> Event | Resync:
        """The next event, or a `Resync` once after falling behind. Raises trio.EndOfChannel when closed."""
        while True:
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                return Resync(dropped)
            if self._queue:
                return self._queue.popleft()
            if self._closed:
                raise trio.EndOfChannel
            self._wakeup = trio.Event()
            await self._wakeup.wait()

    def __aiter__(self) -> AsyncIterator[Event | Resync]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event | Resync]:
        while True:
            try:
                yield await self.receive()
            except trio.EndOfChannel:
                return

    def close(self) -> None:
        """End the subscription: `receive()` raises EndOfChannel after what is queued."""
        self._closed = True
        self._wakeup.set()


class EventBus:
    """See module docstring. `clock()` gives epoch seconds (injected for tests)."""

    def __init__(self, *, handler_timeout_seconds: float = 5.0, history: int = 1000,
                 clock: Callable[[], float] = time.time) -> None:
        self.handler_timeout_seconds = handler_timeout_seconds
        self.clock = clock
        self._handlers: dict[str, list[Handler]] = {}
        self._subscriptions: set[Subscription] = set()
        self._seq = 0
        self.recent: deque[Event] = deque(maxlen=history)
        self._posted_send, self._posted_receive = trio.open_memory_channel[Event](10_000)

    @property
    def last_seq(self) -> int:
        """The seq of the newest event (= events emitted so far in this boot)."""
        return self._seq

    def on(self, event_type: EventType | str, handler: Handler) -> Callable[[], None]:
        """Register an in-process handler for one type; returns a function that unregisters it."""
        handlers = self._handlers.setdefault(str(event_type), [])
        handlers.append(handler)
        return lambda: handlers.remove(handler) if handler in handlers else None

    @contextmanager
    def subscribe(self, *, maxsize: int = 256, workspace: str = "",
                  types: frozenset[str] | set[str] = frozenset()) -> Iterator[Subscription]:
        """A Subscription for the `with` block (`maxsize` queued events before it is resynced)."""
        sub = Subscription(self, maxsize, workspace, frozenset(str(t) for t in types))
        self._subscriptions.add(sub)
        try:
            yield sub
        finally:
            self._subscriptions.discard(sub)
            sub.close()

    def _stamp(self, event: Event) -> Event:
        self._seq += 1
        event = replace(event, seq=self._seq, time=event.time or self.clock())
        self.recent.append(event)
        for sub in list(self._subscriptions):
            sub._offer(event)
        log.debug("event %s %s %s %s", event.type, event.workspace, event.host, dict(event.data))
        return event

    def post(self, event: Event) -> Event:
        """From synchronous code: deliver to subscriptions now, to handlers soon (via `run`), in order.

        Never blocks; if 10,000 posted events await the pump, handlers miss this one (logged).
        Returns the stamped event.
        """
        event = self._stamp(event)
        if self._handlers.get(str(event.type)):
            try:
                self._posted_send.send_nowait(event)
            except trio.WouldBlock:
                log.error("event pump is behind; handlers miss %s #%d", event.type, event.seq)
        return event

    async def emit(self, event: Event) -> Event:
        """Deliver `event` to subscriptions, then run its handlers concurrently and wait for them
        (each at most `handler_timeout_seconds`; failures and timeouts are logged, never raised).
        Returns the stamped event."""
        event = self._stamp(event)
        await self._run_handlers(event)
        return event

    async def _run_handlers(self, event: Event) -> None:
        handlers = list(self._handlers.get(str(event.type), ()))
        if not handlers:
            return
        async with trio.open_nursery() as nursery:
            for handler in handlers:
                nursery.start_soon(self._run_one, handler, event)

    async def _run_one(self, handler: Handler, event: Event) -> None:
        with trio.move_on_after(self.handler_timeout_seconds) as scope:
            try:
                await handler(event)
            except Exception:
                log.exception("event handler %r failed for %s #%d", handler, event.type, event.seq)
        if scope.cancelled_caught:
            log.error("event handler %r timed out after %.1f s on %s #%d", handler,
                      self.handler_timeout_seconds, event.type, event.seq)

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The pump: runs handlers of `post`ed events in order. Start with `nursery.start(bus.run)`."""
        task_status.started()
        async for event in self._posted_receive:
            await self._run_handlers(event)
