"""Table tests for sse_edge.pending (pure: id mapping, deadlines, message kinds)."""

from __future__ import annotations

from typing import Any

import pytest

from sse_edge.pending import PendingTable, classify


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "id": "a", "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, "notification"),
        ({"jsonrpc": "2.0", "id": 1, "result": {}}, "response"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": "x"}}, "response"),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "method": 3}, "invalid"),
        ({"id": 1, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0"}, "invalid"),
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], "invalid"),
        (42, "invalid"),
    ],
)
def test_classify(message: Any, kind: str) -> None:
    assert classify(message) == kind


def test_duplicate_client_ids_get_distinct_edge_ids() -> None:
    table = PendingTable()
    a = table.add(1, "tools/call", now=0.0, timeout_seconds=10)
    b = table.add(1, "tools/call", now=0.1, timeout_seconds=10)
    assert a.edge_id != b.edge_id
    assert table.pop(b.edge_id) == b and table.pop(a.edge_id) == a
    assert table.pop(a.edge_id) is None and table.pop(1) is None and len(table) == 0


@pytest.mark.parametrize(("now", "expired"), [(9.99, []), (10.0, ["x"]), (10.5, ["x"]), (20.0, ["x", "y"])])
def test_expire(now: float, expired: list[str]) -> None:
    table = PendingTable()
    table.add("x", "a", now=0.0, timeout_seconds=10)
    table.add("y", "b", now=5.0, timeout_seconds=15)
    assert table.next_deadline() == 10.0
    assert [p.client_id for p in table.expire(now)] == expired
    assert len(table) == 2 - len(expired)


def test_find_client_id_and_drain() -> None:
    table = PendingTable()
    table.add(None, "initialize", now=0.0, timeout_seconds=5, internal=True)
    p = table.add(7, "tools/call", now=0.0, timeout_seconds=5)
    assert table.find_client_id(7) == p and table.find_client_id("7") is None and table.find_client_id(None) is None
    assert len(table.drain()) == 2 and table.next_deadline() is None
    with pytest.raises(ValueError):
        table.add(1, "x", now=0.0, timeout_seconds=0)
