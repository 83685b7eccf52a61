"""The edge in-process (real Hypercorn on 127.0.0.1:0) in front of a REAL FastMCP worker
subprocess serving legacy SSE (tests/fixtures/sse_server.py), driven by the official MCP client
and by raw httpx."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import httpx
import pytest
import trio
from mcp import ClientSession
from mcp.client.sse import sse_client

from sse_edge.app import create_app, serve
from tests.sse_edge.edge_harness import (
    FakeResolver,
    RunningEdge,
    SSEEvent,
    Worker,
    first_endpoint,
    raw_sse,
    running_edge,
    standard_routes,
    wait_until,
)


@pytest.fixture
async def edge(worker: Worker) -> AsyncIterator[RunningEdge]:
    async with running_edge(FakeResolver(standard_routes(worker.port))) as e:
        yield e


async def test_official_client_through_edge(edge: RunningEdge, worker: Worker) -> None:
    gets_before = worker.sse_gets()
    with trio.fail_after(30):
        async with sse_client(edge.url + "/workspaces/ws/sse") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                assert {t.name for t in tools.tools} >= {"echo", "sleep"}
                for i in range(20):
                    text = f"hello {i} \u2713"
                    result = await session.call_tool("echo", {"text": text})
                    assert not result.is_error
                    assert result.content[0].text == text  # type: ignore[union-attr]
                assert len(edge.state.sessions) == 1
    # ONE upstream session for the whole client session, not one per request
    assert worker.sse_gets() - gets_before == 1


async def test_healthz(edge: RunningEdge) -> None:
    async with httpx.AsyncClient() as client:
        resp = await client.get(edge.url + "/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("ws", "status", "error_part", "retry_after", "proc_status"),
    [
        ("nope", 404, "workspace 'nope' not found", None, None),
        ("Bad_Name", 404, "workspace 'Bad_Name' not found", None, None),
        ("warming", 503, "workspace 'warming' is starting", "2", "starting"),
        ("broken", 503, "config rejected: line 3: bad command", None, "error"),
        ("cp-down", 503, "control plane unavailable", "2", None),
        ("cp-slow", 503, "control plane unavailable", "2", None),
        ("dead", 502, "workspace 'dead' worker unreachable", "2", None),
    ],
)
async def test_sse_refusals(
    edge: RunningEdge, ws: str, status: int, error_part: str, retry_after: str | None, proc_status: str | None
) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        resp = await client.get(f"{edge.url}/workspaces/{ws}/sse")
    assert resp.status_code == status
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert error_part in body["error"]
    assert resp.headers.get("retry-after") == retry_after
    assert body.get("status") == proc_status
    assert len(edge.state.sessions) == 0


async def test_stream_headers_endpoint_and_post_checks(edge: RunningEdge) -> None:
    async with raw_sse(edge.url + "/workspaces/ws/sse") as (resp, events), httpx.AsyncClient() as client:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["cache-control"] == "no-cache"
        assert resp.headers["x-accel-buffering"] == "no"
        endpoint = await first_endpoint(events)
        assert endpoint.startswith("/workspaces/ws/messages?session_id=")
        session_id = endpoint.split("session_id=", 1)[1]
        assert len(session_id) >= 22
        ping = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
        post = partial(client.post, headers={"Content-Type": "application/json"})

        bogus = await post(edge.url + "/workspaces/ws/messages?session_id=bogus", content=ping)
        assert bogus.status_code == 404 and "session not found" in bogus.json()["error"]
        missing = await post(edge.url + "/workspaces/ws/messages", content=ping)
        assert missing.status_code == 404
        elsewhere = await post(f"{edge.url}/workspaces/other/messages?session_id={session_id}", content=ping)
        assert elsewhere.status_code == 404  # a valid id under another workspace's path

        bad = await post(edge.url + endpoint, content=b'{"jsonrpc": "2.0", "id": 1,')
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == -32700 and bad.json()["jsonrpc"] == "2.0"
        not_rpc = await post(edge.url + endpoint, content=b"42")
        assert not_rpc.status_code == 400 and not_rpc.json()["error"]["code"] == -32600

        too_big = await post(edge.url + endpoint, content=b" " * (4 * 1024 * 1024 + 1))
        assert too_big.status_code == 413

        good = await post(edge.url + endpoint, content=ping)
        assert (good.status_code, good.text) == (202, "Accepted")
        with trio.fail_after(5):
            answer = await events.__anext__()
        assert answer.event == "message"
        assert json.loads(answer.data) == {"jsonrpc": "2.0", "id": 1, "result": {}}


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/prefix", "/prefix/workspaces/ws/messages?session_id="),
        ("/a/b/", "/a/b/workspaces/ws/messages?session_id="),
        ("not-a-path\x7f", "/workspaces/ws/messages?session_id="),  # malformed: ignored
    ],
)
async def test_endpoint_honours_forwarded_prefix(edge: RunningEdge, prefix: str, expected: str) -> None:
    async with raw_sse(edge.url + "/workspaces/ws/sse", {"X-Forwarded-Prefix": prefix}) as (_, events):
        assert (await first_endpoint(events)).startswith(expected)


async def test_client_disconnect_frees_session(edge: RunningEdge) -> None:
    async with raw_sse(edge.url + "/workspaces/ws/sse") as (_, events):
        await first_endpoint(events)
        assert len(edge.state.sessions) == 1
        upstream = edge.state.sessions.sessions()[0].handle.upstream
        assert upstream is not None
    took = await wait_until(lambda: len(edge.state.sessions) == 0, 5, "session freed after disconnect")
    await wait_until(upstream.ended.is_set, 5, "upstream stream closed after disconnect")
    print(f"session freed {took * 1000:.0f} ms after disconnect")


async def test_keepalive_comments(worker: Worker) -> None:
    async with running_edge(FakeResolver(standard_routes(worker.port)), keepalive_seconds=0.1) as e:
        async with raw_sse(e.url + "/workspaces/ws/sse") as (resp, _):
            seen = b""
            with trio.fail_after(3):
                async for chunk in resp.aiter_bytes():
                    seen += chunk
                    if seen.count(b": ping\r\n\r\n") >= 2:
                        break
            assert seen.startswith(b"event: endpoint\r\n")


async def test_shutdown_ends_streams_promptly(worker: Worker) -> None:
    async with raw_sse_pair_edge(worker) as (e, events):
        started = trio.current_time()
        e.shutdown.set()
        with trio.fail_after(2):
            async for _ in events:
                pass
        assert trio.current_time() - started < 1.0


@asynccontextmanager
async def raw_sse_pair_edge(worker: Worker) -> AsyncIterator[tuple[RunningEdge, AsyncIterator[SSEEvent]]]:
    async with running_edge(FakeResolver(standard_routes(worker.port))) as e:
        async with raw_sse(e.url + "/workspaces/ws/sse") as (_, events):
            await first_endpoint(events)
            yield e, events


async def test_serve_returns_quickly_on_shutdown(worker: Worker) -> None:
    """With an open SSE stream and an idle keep-alive connection, serve() returns well before
    the 2 s graceful timeout (the shielded final send; STACK-NOTES)."""
    app = create_app(FakeResolver(standard_routes(worker.port)))
    shutdown = trio.Event()
    started = 0.0
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=None)) as client:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:  # exits when serve() has returned
                urls = await nursery.start(partial(serve, app, "127.0.0.1:0", shutdown=shutdown))
                assert (await client.get(urls[0] + "/healthz")).status_code == 200  # idle keep-alive left
                async with client.stream("GET", urls[0] + "/workspaces/ws/sse") as resp:
                    chunks = resp.aiter_bytes()
                    assert (await chunks.__anext__()).startswith(b"event: endpoint")
                    shutdown.set()
                    started = trio.current_time()
                    async for _ in chunks:
                        pass
        took = trio.current_time() - started
    print(f"serve() returned {took * 1000:.0f} ms after shutdown")
    assert took < 1.5


async def _echo_median_ms(url: str, n: int) -> float:
    async with sse_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for i in range(5):  # warm up
            await session.call_tool("echo", {"text": f"w{i}"})
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            result = await session.call_tool("echo", {"text": f"m{i}"})
            times.append(time.perf_counter() - t0)
            assert result.content[0].text == f"m{i}"  # type: ignore[union-attr]
        return statistics.median(times) * 1000


async def test_latency_edge_vs_direct(edge: RunningEdge, worker: Worker) -> None:
    """Median echo latency (official client, c=1, 50 calls), direct and through the edge,
    interleaved in one run. Loose bound: a regression guard, not a benchmark."""
    with trio.fail_after(40):
        direct, via_edge = [], []
        for _ in range(2):
            direct.append(await _echo_median_ms(f"http://127.0.0.1:{worker.port}/sse", 50))
            via_edge.append(await _echo_median_ms(edge.url + "/workspaces/ws/sse", 50))
    d, v = min(direct), min(via_edge)
    print(f"echo median: direct {d:.2f} ms, via edge {v:.2f} ms, added {v - d:.2f} ms (edge in-process)")
    assert v < 3 * d + 20
