"""Event bus: handlers awaited concurrently under a time bound, isolation, bounded subscriptions."""

from __future__ import annotations

import trio
import trio.testing

from control_plane.events import Event, EventBus, EventType, Resync


async def test_emit_awaits_handlers_concurrently_and_isolates_failures() -> None:
    bus = EventBus(handler_timeout_seconds=0.5, clock=lambda: 100.0)
    seen: list[str] = []

    async def slow(event: Event) -> None:
        await trio.sleep(0.2)
        seen.append("slow")

    async def also_slow(event: Event) -> None:
        await trio.sleep(0.2)
        seen.append("also")

    async def broken(event: Event) -> None:
        raise RuntimeError("boom")

    async def stuck(event: Event) -> None:
        await trio.sleep_forever()

    for h in (slow, also_slow, broken, stuck):
        bus.on(EventType.CONFIG_CHANGED, h)
    start = trio.current_time()
    event = await bus.emit(Event(EventType.CONFIG_CHANGED, "ws"))
    elapsed = trio.current_time() - start
    assert sorted(seen) == ["also", "slow"]
    assert 0.45 <= elapsed < 0.7  # concurrent (not 0.4 + 0.5), bounded by the stuck handler's timeout
    assert event.seq == 1 and event.time == 100.0


async def test_lagging_subscriber_is_resynced_and_never_blocks() -> None:
    bus = EventBus()
    with bus.subscribe(maxsize=3) as slow, bus.subscribe(maxsize=100, workspace="a") as only_a:
        for i in range(10):
            bus.post(Event(EventType.PROCESS_STARTED, "a" if i % 2 else "b", data={"i": i}))
        first = await slow.receive()
        assert isinstance(first, Resync) and first.dropped == 10
        bus.post(Event(EventType.PROCESS_STOPPED, "b"))
        nxt = await slow.receive()
        assert isinstance(nxt, Event) and nxt.type == EventType.PROCESS_STOPPED and nxt.seq == 11
        got = []
        while True:
            with trio.move_on_after(0.05):
                got.append(await only_a.receive())
                continue
            break
        assert [e.data["i"] for e in got if isinstance(e, Event)] == [1, 3, 5, 7, 9]


async def test_posted_events_reach_handlers_in_order() -> None:
    bus = EventBus()
    seen: list[int] = []

    async def handler(event: Event) -> None:
        seen.append(event.seq)

    bus.on(EventType.RESOURCE_ALLOCATED, handler)
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)
        for _ in range(5):
            bus.post(Event(EventType.RESOURCE_ALLOCATED))
        bus.post(Event(EventType.RESOURCE_RELEASED))
        with trio.fail_after(2):
            while len(seen) < 5:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert seen == [1, 2, 3, 4, 5]


async def test_coordinator_posts_process_and_resource_events(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from control_plane.coordinator import Coordinator
    from control_plane.state import FleetState
    from mcpfleet.lifecycle import Health, Status
    from mcpfleet.model import WorkerState
    from tests.control_plane.test_state import entry, hello

    bus = EventBus(clock=lambda: 5.0)
    coord = Coordinator(FleetState(boot_id="b", heartbeat_interval_seconds=1.0), tmp_path / "ports.json",
                        clock=lambda: 5.0, bus=bus)
    with bus.subscribe() as sub:
        coord.load_configs([entry("demo")])
        coord.attach_agent(hello("h1"))
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.STARTING))
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.STARTING))  # no change: no event
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.RUNNING, pid=7, health=Health.HEALTHY))
        coord.load_configs([])
        coord.state.remove_config("demo")
        coord.reconcile()
        got = []
        while True:
            with trio.move_on_after(0.01):
                got.append(await sub.receive())
                continue
            break
    summary = [(e.type.value, e.workspace, e.data.get("status", e.data.get("port"))) for e in got
               if isinstance(e, Event)]
    assert summary == [
        ("agent/changed", "", "ready"),
        ("resource/allocated", "demo", 40000),
        ("process/statusChanged", "demo", "starting"),
        ("process/statusChanged", "demo", "running"),
        ("process/started", "demo", 40000),
        ("resource/released", "demo", 40000),
    ]
