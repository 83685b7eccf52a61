"""Edge sessions against a REAL FastMCP worker subprocess (tests/fixtures/sse_server.py, both
transports): Streamable HTTP (official client, fastmcp Client, raw HTTP incl. the sessionless
2026-07-28 revision), id mapping, request timeouts, worker death and restart, two edges."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from fastmcp import Client
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcpfleet.model import Route
from sse_edge.edge import EdgeOptions
from tests.sse_edge.edge_harness import (
    FakeResolver,
    RunningEdge,
    Worker,
    first_endpoint,
    raw_sse,
    running,
    running_edge,
    spawn_worker,
    standard_routes,
    stop_worker,
    wait_listening,
    wait_until,
)

ACCEPT = "application/json, text/event-stream"


def routes(port: int, timeout: float = 60.0) -> dict[str, Route | Exception]:
    table = standard_routes(port)
    table["slow"] = Route("slow", "running", "healthy", "127.0.0.1", port, timeout)
    return table


@pytest.fixture
async def edge(worker: Worker) -> AsyncIterator[RunningEdge]:
    async with running_edge(FakeResolver(routes(worker.port, 1.0))) as e:
        yield e


def rpc(method: str, params: dict[str, Any] | None = None, id: Any = 1) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
    if id is not None:
        msg["id"] = id
    return msg


INIT = rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                          "clientInfo": {"name": "raw-test", "version": "1"}}, id="init")


async def mcp_session(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    """Initialize over raw Streamable HTTP; return the headers later requests need."""
    resp = await client.post(url, json=INIT, headers={"Accept": ACCEPT})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == "init" and "result" in resp.json()
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": resp.headers["mcp-session-id"],
               "MCP-Protocol-Version": "2025-11-25"}
    done = await client.post(url, json=rpc("notifications/initialized", id=None), headers=headers)
    assert done.status_code == 202
    return headers


async def test_official_streamable_http_client(edge: RunningEdge) -> None:
    with trio.fail_after(30):
        async with streamable_http_client(edge.url + "/workspaces/ws/mcp") as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                assert {t.name for t in tools.tools} >= {"echo", "sleep", "big"}
                result = await session.call_tool("echo", {"text": "via streamable"})
                assert result.content[0].text == "via streamable"  # type: ignore[union-attr]
                assert len(edge.state.sessions) == 1
    await wait_until(lambda: len(edge.state.sessions) == 0, 5, "DELETE ends the session")


async def _fastmcp_list_and_call(url: str, text: str) -> tuple[set[str], str]:
    async with Client(url) as client:  # fastmcp's Client is asyncio-only: run in a thread's loop
        names = {t.name for t in await client.list_tools()}
        result = await client.call_tool("echo", {"text": text})
        return names, result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["mcp", "sse"])
async def test_fastmcp_client(edge: RunningEdge, path: str) -> None:
    url = f"{edge.url}/workspaces/ws/{path}"
    with trio.fail_after(30):
        names, text = await trio.to_thread.run_sync(
            lambda: asyncio.run(_fastmcp_list_and_call(url, f"fastmcp {path}")))
    assert "echo" in names
    assert text == f"fastmcp {path}"


async def test_sessionless_2026_revision_raw_http(edge: RunningEdge) -> None:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}
    body = rpc("tools/call", {"name": "echo", "arguments": {"text": "no session"}, "_meta": meta}, id=7)
    headers = {"Accept": ACCEPT, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call",
               "Mcp-Name": "echo", "Authorization": "Bearer not-for-the-worker"}
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.post(edge.url + "/workspaces/ws/mcp", json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == 7
    assert resp.json()["result"]["content"][0]["text"] == "no session"
    assert "mcp-session-id" not in resp.headers
    assert len(edge.state.sessions) == 0


async def test_raw_streamable_json_and_sse_answers_and_get_stream(edge: RunningEdge) -> None:
    url = edge.url + "/workspaces/ws/mcp"
    async with httpx.AsyncClient(timeout=10) as client:
        headers = await mcp_session(client, url)
        as_json = await client.post(url, json=rpc("ping", id=5), headers=headers)
        assert as_json.headers["content-type"].startswith("application/json")
        assert as_json.json() == {"jsonrpc": "2.0", "id": 5, "result": {}}
        sse_only = await client.post(url, json=rpc("ping", id=6), headers={**headers, "Accept": "text/event-stream"})
        assert sse_only.headers["content-type"].startswith("text/event-stream")
        assert json.loads(sse_only.text.split("data: ", 1)[1]) == {"jsonrpc": "2.0", "id": 6, "result": {}}
        async with client.stream("GET", url, headers=headers) as stream:
            assert stream.status_code == 200
            second = await client.get(url, headers=headers)
            assert second.status_code == 409  # one stream per session
        gone = await client.delete(url, headers=headers)
        assert gone.status_code == 200
        after = await client.post(url, json=rpc("ping", id=8), headers=headers)
        assert after.status_code == 404


async def test_duplicate_in_flight_ids_never_cross_wire(edge: RunningEdge) -> None:
    """Two requests with the SAME id in flight on one session, and one on another session:
    each caller gets its own answer (FastMCP 4.2 loses one without the edge's id mapping)."""
    url = edge.url + "/workspaces/ws/mcp"
    answers: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        a = await mcp_session(client, url)
        b = await mcp_session(client, url)

        async def call(name: str, headers: dict[str, str], tool: str, args: dict[str, Any]) -> None:
            resp = await client.post(url, json=rpc("tools/call", {"name": tool, "arguments": args}, id=1),
                                     headers=headers)
            answers[name] = resp.json()

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(call, "slow", a, "sleep", {"seconds": 0.3})
                await trio.sleep(0.05)
                nursery.start_soon(call, "fast", a, "echo", {"text": "fast"})
                nursery.start_soon(call, "other", b, "echo", {"text": "other session"})
    assert {k: v["id"] for k, v in answers.items()} == {"slow": 1, "fast": 1, "other": 1}
    assert answers["slow"]["result"]["content"][0]["text"] == "slept 0.3"
    assert answers["fast"]["result"]["content"][0]["text"] == "fast"
    assert answers["other"]["result"]["content"][0]["text"] == "other session"


async def test_stalled_call_times_out_at_the_configured_timeout(edge: RunningEdge) -> None:
    """Workspace `slow` has requestTimeoutSeconds = 1.0: a stalled call gets a JSON-RPC error
    at 1.0 s +-10 %; a call on the same workspace meanwhile is unaffected."""
    url = edge.url + "/workspaces/slow/mcp"
    async with httpx.AsyncClient(timeout=10) as client:
        headers = await mcp_session(client, url)
        other_headers = await mcp_session(client, url)
        await trio.sleep(1.2)  # idle past the handshake's own deadlines: expiry must re-arm for new calls
        took: dict[str, float] = {}
        answers: dict[str, Any] = {}

        async def call(name: str, hdrs: dict[str, str], tool: str, args: dict[str, Any]) -> None:
            start = trio.current_time()
            resp = await client.post(url, json=rpc("tools/call", {"name": tool, "arguments": args}, id=name),
                                     headers=hdrs)
            took[name] = trio.current_time() - start
            answers[name] = resp.json()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call, "stalled", headers, "sleep", {"seconds": 5})
            await trio.sleep(0.2)
            nursery.start_soon(call, "quick", other_headers, "echo", {"text": "unaffected"})
            nursery.start_soon(call, "same-session", headers, "sleep", {"seconds": 0.3})
    print(f"stalled call answered after {took['stalled']:.3f} s")
    assert answers["stalled"]["error"]["code"] == -32001
    assert "timed out after 1 s" in answers["stalled"]["error"]["message"]
    assert 0.9 <= took["stalled"] <= 1.1
    assert answers["quick"]["result"]["content"][0]["text"] == "unaffected"
    assert answers["same-session"]["result"]["content"][0]["text"] == "slept 0.3"


async def test_kill_9_during_a_long_call_then_next_call_works(tmp_path: Path) -> None:
    """Worker SIGKILLed during a long call: the call gets a JSON-RPC error within 1 s and the raw
    stream `workspace/statusChanged`; after the worker is back (same port), the SAME session's
    next call succeeds (the edge re-opened its upstream and replayed `initialize`)."""
    proc, port = spawn_worker(tmp_path / "doomed.log")
    try:
        await trio.to_thread.run_sync(wait_listening, proc, port)
        resolver = FakeResolver({"doomed": running("doomed", port)})
        async with running_edge(resolver) as e, \
                raw_sse(e.url + "/workspaces/doomed/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
            endpoint = e.url + await first_endpoint(events)
            await client.post(endpoint, json=INIT)
            assert json.loads((await events.__anext__()).data)["id"] == "init"
            await client.post(endpoint, json=rpc("notifications/initialized", id=None))
            await client.post(endpoint, json=rpc("tools/call", {"name": "sleep", "arguments": {"seconds": 30}}, id=1))
            await trio.sleep(0.3)
            proc.kill()
            killed_at = trio.current_time()
            seen: list[dict[str, Any]] = []
            with trio.fail_after(1.0):
                while not {1, "workspace/statusChanged", "notifications/message"} <= {
                        m.get("id", m.get("method")) for m in seen}:
                    seen.append(json.loads((await events.__anext__()).data))
            took = trio.current_time() - killed_at
            error = next(m for m in seen if m.get("id") == 1)
            assert error["error"]["code"] == -32002
            status = next(m for m in seen if m.get("method") == "workspace/statusChanged")
            assert status["params"]["workspace"] == "doomed" and status["params"]["status"] != "running"
            log = next(m for m in seen if m.get("method") == "notifications/message")
            assert "doomed" in log["params"]["data"]["message"]
            print(f"error and statusChanged {took * 1000:.0f} ms after SIGKILL")

            proc.wait()
            resolver.routes["doomed"] = replace(running("doomed", port), config_version="v2")  # a new config
            proc, _ = spawn_worker(tmp_path / "doomed.log", port)
            await trio.to_thread.run_sync(wait_listening, proc, port)
            await client.post(endpoint, json=rpc("tools/call", {"name": "echo", "arguments": {"text": "back"}}, id=2))
            after: list[dict[str, Any]] = []
            with trio.fail_after(10):
                while not after or after[-1].get("id") != 2:
                    after.append(json.loads((await events.__anext__()).data))
            assert after[-1]["result"]["content"][0]["text"] == "back"
            methods = [m.get("method") for m in after]
            assert "notifications/tools/list_changed" in methods  # the config changed meanwhile
            running_again = [m for m in after if m.get("method") == "workspace/statusChanged"]
            assert running_again and running_again[-1]["params"]["status"] == "running"
    finally:
        stop_worker(proc)


async def test_two_edges_stream_on_a_posts_to_b(worker: Worker) -> None:
    key = b"shared-test-key"
    resolver = FakeResolver(routes(worker.port))
    opts_a = EdgeOptions(edge_id="edge-a", session_key=key)
    async with running_edge(resolver, options=opts_a) as a:
        opts_b = EdgeOptions(edge_id="edge-b", session_key=key, peers={"edge-a": a.url})
        async with running_edge(resolver, options=opts_b) as b, \
                raw_sse(a.url + "/workspaces/ws/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
            path = await first_endpoint(events)
            assert ".edge-a." not in path and "session_id=edge-a." in path
            via_b = await client.post(b.url + path, json=INIT)
            assert via_b.status_code == 202, via_b.text
            with trio.fail_after(5):
                answer = json.loads((await events.__anext__()).data)
            assert answer["id"] == "init" and "result" in answer
            assert len(b.state.sessions) == 0 and len(a.state.sessions) == 1
            # a forged owner or an id under another workspace is not forwarded: 404
            forged = path.replace("session_id=edge-a.", "session_id=edge-b.")
            assert (await client.post(b.url + forged, json=INIT)).status_code == 404
            other_ws = path.replace("/workspaces/ws/", "/workspaces/other/")
            assert (await client.post(b.url + other_ws, json=INIT)).status_code == 404


async def test_client_that_does_not_read_is_disconnected_with_a_reason(worker: Worker) -> None:
    """A legacy-SSE client that stops reading: its queue (4 messages here) fills once the socket
    buffers do, and the edge ends the session with a reason instead of growing memory."""
    async with running_edge(FakeResolver(routes(worker.port)), options=EdgeOptions(queue_messages=4)) as e, \
            raw_sse(e.url + "/workspaces/ws/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
        endpoint = e.url + await first_endpoint(events)
        await client.post(endpoint, json=INIT)
        session = e.state.sessions.sessions()[0].handle
        big = rpc("tools/call", {"name": "big", "arguments": {"kib": 256}}, id=None)
        with trio.fail_after(30):
            i = 0
            while not session.closed.is_set():  # nobody reads `events` meanwhile
                i += 1
                posted = await client.post(endpoint, json={**big, "id": i})
                if posted.status_code == 404:
                    break
        assert session.close_reason == "client too slow: event queue full"
        await wait_until(lambda: len(e.state.sessions) == 0, 5, "session freed")
        with trio.fail_after(10):  # the stream ends (after what was already sent)
            async for _ in events:
                pass
        print(f"disconnected after {i} calls of 256 KiB")
