"""Table tests for sse_edge.routing_table (pure TTL cache, fake time)."""

from __future__ import annotations

import pytest

from sse_edge.routing_table import Route, RoutingTable


def route(ws: str = "alpha", status: str = "running", port: int = 40001) -> Route:
    return Route(ws, status, "healthy", "127.0.0.1", port, 60.0)


@pytest.mark.parametrize(
    ("put_at", "get_at", "fresh"),
    [
        (100.0, 100.0, True),
        (100.0, 101.999, True),
        (100.0, 102.0, False),  # exactly ttl old: expired
        (100.0, 150.0, False),
        (100.0, 99.0, False),  # clock before the put: treat as unknown
    ],
)
def test_ttl(put_at: float, get_at: float, fresh: bool) -> None:
    table = RoutingTable(ttl_seconds=2.0)
    table.put(route(), now=put_at)
    assert (table.get("alpha", now=get_at) == route()) is fresh
    assert table.last_known("alpha") == route()


def test_unknown_workspace() -> None:
    table = RoutingTable(2.0)
    assert table.get("nope", now=0.0) is None
    assert table.last_known("nope") is None


def test_put_replaces_and_refreshes() -> None:
    table = RoutingTable(2.0)
    table.put(route(port=1), now=0.0)
    table.put(route(status="starting", port=2), now=1.5)
    assert table.get("alpha", now=3.0) == route(status="starting", port=2)
    assert len(table) == 1


def test_workspaces_are_independent_and_invalidate() -> None:
    table = RoutingTable(2.0)
    table.put(route("alpha"), now=0.0)
    table.put(route("beta"), now=1.0)
    assert table.get("alpha", now=2.5) is None
    assert table.get("beta", now=2.5) == route("beta")
    table.invalidate("beta")
    table.invalidate("never-there")
    assert table.get("beta", now=2.5) is None and table.last_known("beta") is None


def test_zero_ttl_never_fresh_and_negative_rejected() -> None:
    table = RoutingTable(0.0)
    table.put(route(), now=5.0)
    assert table.get("alpha", now=5.0) is None
    with pytest.raises(ValueError):
        RoutingTable(-1.0)


@pytest.mark.parametrize(
    ("address", "port", "url"),
    [("127.0.0.1", 40000, "http://127.0.0.1:40000"), ("::1", 8080, "http://[::1]:8080"),
     ("host-a", 1, "http://host-a:1")],
)
def test_base_url(address: str, port: int, url: str) -> None:
    assert Route("w", "running", "healthy", address, port, 60.0).base_url == url
