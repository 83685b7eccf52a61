"""Edge.route_for: the TTL cache in front of the resolver, and the fallback to the last known
running route when the control plane cannot answer (trio mock clock, no I/O)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from mcpfleet.errors import DeadlineExceeded, NotFound, Unavailable
from sse_edge.edge import Edge, EdgeOptions
from sse_edge.routing_table import Route


class ScriptedResolver:
    """Answers with the next item of `script` (a Route or an Exception to raise)."""

    def __init__(self, *script: Route | Exception) -> None:
        self.script = list(script)
        self.calls = 0

    async def resolve(self, workspace: str) -> Route:
        self.calls += 1
        await trio.lowlevel.checkpoint()
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def route(status: str = "running", port: int = 40001) -> Route:
    return Route("ws", status, "healthy", "127.0.0.1", port, 60.0)


async def test_cached_within_ttl_then_resolved_again(mock_clock: trio.testing.MockClock) -> None:
    resolver = ScriptedResolver(route(port=1), route(port=2))
    edge = Edge(resolver, EdgeOptions(route_ttl_seconds=2.0))
    assert (await edge.route_for("ws")).port == 1
    mock_clock.jump(1.9)
    assert (await edge.route_for("ws")).port == 1
    assert resolver.calls == 1
    mock_clock.jump(0.2)
    assert (await edge.route_for("ws")).port == 2
    assert resolver.calls == 2


@pytest.mark.parametrize("error", [Unavailable("down"), DeadlineExceeded("slow")])
async def test_control_plane_outage_uses_last_running_route(
    mock_clock: trio.testing.MockClock, error: Exception
) -> None:
    edge = Edge(ScriptedResolver(route(port=7), error), EdgeOptions(route_ttl_seconds=2.0))
    await edge.route_for("ws")
    mock_clock.jump(10)
    assert (await edge.route_for("ws")).port == 7


async def test_outage_without_a_running_route_is_unavailable(mock_clock: trio.testing.MockClock) -> None:
    edge = Edge(ScriptedResolver(route(status="starting"), Unavailable("down"), Unavailable("down")))
    await edge.route_for("ws")
    mock_clock.jump(10)
    with pytest.raises(Unavailable, match="control plane unavailable"):
        await edge.route_for("ws")
    with pytest.raises(Unavailable):
        await Edge(ScriptedResolver(Unavailable("down"))).route_for("other")


async def test_not_found_forgets_the_route(mock_clock: trio.testing.MockClock) -> None:
    edge = Edge(ScriptedResolver(route(), NotFound("gone"), Unavailable("down")),
                EdgeOptions(route_ttl_seconds=2.0))
    await edge.route_for("ws")
    mock_clock.jump(3)
    with pytest.raises(NotFound):
        await edge.route_for("ws")
    with pytest.raises(Unavailable):  # no stale fallback for a deleted workspace
        await edge.route_for("ws")


async def test_resolver_hang_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    class Hang:
        async def resolve(self, workspace: str) -> Route:
            await trio.sleep_forever()
            raise AssertionError

    edge = Edge(Hang(), EdgeOptions(resolve_timeout_seconds=5.0))
    start = trio.current_time()
    with pytest.raises(Unavailable):
        await edge.route_for("ws")
    assert trio.current_time() - start == pytest.approx(5.0)
