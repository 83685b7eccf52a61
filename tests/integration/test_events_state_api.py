"""Events, state and breakers over real gRPC and HTTP, in one process (port 0, no agents)."""

from __future__ import annotations

import json
from functools import partial

import httpx
import pytest
import trio

from control_plane.admin_endpoint import AdminEndpoint
from control_plane.coordinator import Coordinator
from control_plane.events import Event, EventType
from control_plane.http_api import serve_http
from control_plane.state import FleetState
from mcpfleet import errors
from mcpfleet.cli import admin_link
from mcpfleet.cli.admin_link import AdminTarget
from mcpfleet.lifecycle import Status
from mcpfleet.model import ProcessError, WorkerState
from mcpfleet.rpc import open_bridge
from tests.control_plane.test_state import entry, hello


def coordinator(tmp_path) -> Coordinator:  # type: ignore[no-untyped-def]
    coord = Coordinator(FleetState("boot", 1.0), tmp_path / "ports.json")
    coord.load_configs([entry("demo")])
    coord.attach_agent(hello("h1"))
    return coord


async def test_watch_events_replay_live_filter_and_resync(tmp_path) -> None:  # type: ignore[no-untyped-def]
    coord = coordinator(tmp_path)
    admin = AdminEndpoint(coord)
    admin.event_queue_size = 4
    async with open_bridge() as bridge:
        server = await bridge.serve("127.0.0.1:0", [admin.binding()])
        target = AdminTarget(f"127.0.0.1:{server.port}")
        replay: list[dict] = []  # type: ignore[type-arg]
        await admin_link.watch_events(target, replay.append, recent=100, follow=False)
        assert [e["type"] for e in replay] == ["agent/changed", "resource/allocated"]
        assert replay[1]["data"] == {"kind": "port", "port": 40000} and replay[1]["time"].endswith("Z")

        got: list[dict] = []  # type: ignore[type-arg]

        def slow(item: dict) -> None:  # type: ignore[type-arg]
            got.append(item)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(admin_link.watch_events, target, slow, workspace="demo"))
            with trio.fail_after(5):
                while not coord.bus._subscriptions:
                    await trio.sleep(0.01)
            coord.bus.post(Event(EventType.CONFIG_CHANGED, "other"))  # filtered out
            coord.worker_reported("h1", WorkerState("demo", 40000, Status.STARTING))
            with trio.fail_after(5):
                while not got:
                    await trio.sleep(0.01)
            assert got[0]["type"] == "process/statusChanged" and got[0]["data"]["status"] == "starting"
            assert got[0]["data"]["breaker"] == "closed"
            # 100 events at once into a queue of 4: the bus never waits; the watcher gets a resync.
            for i in range(100):
                coord.bus.post(Event(EventType.CONFIG_CHANGED, "demo", data={"i": i}))
            with trio.fail_after(5):
                while not any("resync" in g for g in got):
                    await trio.sleep(0.01)
            coord.bus.post(Event(EventType.CONFIG_CHANGED, "demo", data={"i": "last"}))
            with trio.fail_after(5):
                while got[-1].get("data", {}).get("i") != "last":
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
        resync = next(g for g in got if "resync" in g)["resync"]["dropped"]
        assert resync >= 90
        print(f"resync after {resync} dropped events")


async def test_breakers_and_state_rpcs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    coord = coordinator(tmp_path)
    for i in range(5):
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.STARTING))
        coord.worker_reported("h1", WorkerState("demo", 40000, Status.ERROR,
                                                error_history=(ProcessError(float(i), "exit", "code 1", 1),)))
    async with open_bridge() as bridge:
        server = await bridge.serve("127.0.0.1:0", [AdminEndpoint(coord).binding()])
        target = AdminTarget(f"127.0.0.1:{server.port}")
        (b,) = [b for b in await admin_link.list_breakers(target) if b["component"] == "workspace/demo"]
        assert (b["state"], b["failureCount"], b["healthStatus"]) == ("open", 5, "unhealthy")
        assert b["nextRetry"] and b["recentErrors"][-1].endswith("exit: code 1")
        (row,) = await admin_link.list_workspaces(target)
        assert row["breaker"] == "open"
        from mcpfleet.cli.output import workspace_row
        assert workspace_row(row)[1].endswith("(breaker open)")
        doc = await admin_link.get_state(target, "workspace")
        assert doc["workspaces"]["demo"]["breaker"] == "open"
        assert doc["workspaces"]["demo"]["restartMode"] == "never"
        issues = await admin_link.validate_state(target)
        assert any(i["severity"] == "error" and i["workspace"] == "demo" for i in issues)
        with pytest.raises(errors.NotFound, match="unknown state component"):
            await admin_link.get_state(target, "nope")
        reset = await admin_link.reset_breaker(target, "demo")
        assert (reset["state"], reset["failureCount"]) == ("closed", 0)
        assert coord.state.assignment_set("h1").items[0].restart_mode == "always"
        with pytest.raises(errors.NotFound):
            await admin_link.reset_breaker(target, "agent/nobody")


async def test_http_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    coord = coordinator(tmp_path)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(serve_http, coord, "127.0.0.1:0", stop)
        base = urls[0]
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            health = await client.get("/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            res = await client.get("/api/debug/state/resources")
            assert res.json()["hosts"]["h1"]["allocatedPorts"] == {"demo": 40000}
            for component in ("workspace", "errors", "agents"):
                assert (await client.get(f"/api/debug/state/{component}")).status_code == 200
            missing = await client.get("/api/debug/state/bogus")
            assert missing.status_code == 404 and "bogus" in missing.json()["error"]
            assert (await client.get("/nope")).status_code == 404
            assert (await client.post("/healthz")).status_code == 405
            metrics = (await client.get("/metrics")).text
            assert 'mcpfleet_ports_allocated{host="h1"} 1.0' in metrics
            assert "mcpfleet_events_total" in metrics
            assert json.loads((await client.get("/api/debug/state/agents")).text)["agents"]["h1"]["status"] == "ready"
        start = trio.current_time()
        stop.set()
    assert trio.current_time() - start < 1.5  # graceful shutdown does not wait out its grace
