"""The worker's answers reach the client under the client's own id, whatever shape they take
(the fast path for the MCP SDK's serialisation and the parsed path for any other)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

from mcpfleet.model import Route
from sse_edge.proxy_session import ProxySession


async def _no_route(workspace: str, fresh: bool) -> Route:
    raise AssertionError("not used")


def _session() -> ProxySession:
    route = Route("ws", "running", "healthy", "127.0.0.1", 1, 60.0)  # type: ignore[arg-type]
    return ProxySession("sid", "ws", route, route_source=_no_route)


SDK_SHAPE = '{{"jsonrpc":"2.0","id":"{id}","result":{{"content":[{{"type":"text","text":"\\"id\\":\\"{id}\\""}}]}}}}'
OTHER_ORDER = '{{"id": "{id}", "jsonrpc": "2.0", "result": {{"content": []}}}}'
ERROR = '{{"jsonrpc":"2.0","id":"{id}","error":{{"code":-32601,"message":"Method not found"}}}}'


@pytest.mark.parametrize("shape", [SDK_SHAPE, OTHER_ORDER, ERROR])
@pytest.mark.parametrize("client_id", [7, 0, "abc", 'quote"d', "ü-\u2028", -1.5])
async def test_answer_reaches_the_client_under_its_own_id(shape: str, client_id: Any) -> None:
    session = _session()
    pending = session.pending.add(client_id, "tools/call", 0.0, 60.0)
    upstream = shape.format(id=pending.edge_id)
    session._from_upstream(upstream)
    sent = json.loads(session.outbox.receive_nowait())
    expected = json.loads(upstream)
    expected["id"] = client_id
    assert sent == expected and type(sent["id"]) is type(client_id)
    assert pending.edge_id not in session.pending


async def test_an_answer_to_an_unknown_or_expired_id_is_dropped() -> None:
    session = _session()
    session.pending.add(1, "tools/call", 0.0, 60.0)
    session._from_upstream(SDK_SHAPE.format(id="e999"))
    session._from_upstream(OTHER_ORDER.format(id="e999"))
    with pytest.raises(trio.WouldBlock):  # nothing was queued
        session.outbox.receive_nowait()


async def test_notifications_and_worker_requests_pass_through_unchanged() -> None:
    session = _session()
    for data in ('{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}',
                 '{"jsonrpc":"2.0","id":"e1","method":"sampling/createMessage","params":{}}'):
        session._from_upstream(data)
        assert session.outbox.receive_nowait() == data
