"""Bad input and safety at the edge (real edge on 127.0.0.1:0, real FastMCP worker): malformed
bodies, sizes, content types, Host/Origin allowlists, guessed and cross-workspace session ids,
bearer tokens, ops routes only on the admin listener."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import httpx2
import psutil
import pytest
import trio
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcpfleet.model import Route
from sse_edge.app import create_app, edge_of, serve
from sse_edge.edge import EdgeOptions
from sse_edge.guards import bearer_ok, host_allowed, origin_allowed
from tests.sse_edge.edge_harness import (
    FakeResolver,
    RunningEdge,
    Worker,
    first_endpoint,
    raw_sse,
    standard_routes,
)

ACCEPT = "application/json, text/event-stream"
TOKEN = "s3cret-token"


@pytest.fixture
async def edge(worker: Worker) -> AsyncIterator[RunningEdge]:
    table = standard_routes(worker.port)
    table["locked"] = Route("locked", "running", "healthy", "127.0.0.1", worker.port, 60.0,
                            token_sha256=(hashlib.sha256(TOKEN.encode()).hexdigest(),))
    app = create_app(FakeResolver(table), options=EdgeOptions(allowed_origins=["https://app.example"]))
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(partial(serve, app, "127.0.0.1:0", shutdown=shutdown, admin_bind="127.0.0.1:0"))
        try:
            yield RunningEdge(urls[0], edge_of(app), shutdown)
        finally:
            shutdown.set()


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [("127.0.0.1:8080", [], True), ("localhost", [], True), ("[::1]:80", [], True),
     ("evil.example", [], False), ("evil.example:8080", [], False), (None, [], False),
     ("edge.example:443", ["edge.example"], True), ("edge.example:443", ["edge.example:443"], True),
     ("other.example", ["edge.example"], False), ("anything", ["*"], True)],
)
def test_host_allowlist(host: str | None, allowed: list[str], ok: bool) -> None:
    assert host_allowed(host, allowed) is ok


@pytest.mark.parametrize(
    ("origin", "allowed", "ok"),
    [(None, [], True), ("http://localhost:6274", [], True), ("http://127.0.0.1", [], True),
     ("https://evil.example", [], False), ("https://app.example", ["https://app.example"], True),
     ("https://app.example/", ["https://app.example"], True), ("null", [], False)],
)
def test_origin_allowlist(origin: str | None, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, allowed) is ok


@pytest.mark.parametrize(
    ("authorization", "digests", "ok"),
    [(None, [], True), (None, ["ab"], False), (f"Bearer {TOKEN}", [hashlib.sha256(TOKEN.encode()).hexdigest()], True),
     ("Bearer wrong", [hashlib.sha256(TOKEN.encode()).hexdigest()], False), (f"Basic {TOKEN}", ["x"], False)],
)
def test_bearer(authorization: str | None, digests: list[str], ok: bool) -> None:
    assert bearer_ok(authorization, digests) is ok


BAD_BODIES: list[tuple[str, bytes, str, int, int | None]] = [
    # (case, body, content type, HTTP status, JSON-RPC code)
    ("truncated json", b'{"jsonrpc": "2.0", "id": 1,', "application/json", 400, -32700),
    ("not utf-8", b"\xff\xfe{", "application/json", 400, -32700),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "application/json", 400, -32700),
    ("a number", b"42", "application/json", 400, -32600),
    ("empty object", b"{}", "application/json", 400, -32600),
    ("no jsonrpc", b'{"id": 1, "method": "ping"}', "application/json", 400, -32600),
    ("wrong version", b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', "application/json", 400, -32600),
    ("method not a string", b'{"jsonrpc": "2.0", "id": 1, "method": 5}', "application/json", 400, -32600),
    ("object id", b'{"jsonrpc": "2.0", "id": {}, "method": "ping"}', "application/json", 400, -32600),
    ("batch", b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', "application/json", 400, -32600),
    ("text/plain", b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}', "text/plain", 415, None),
    ("form", b"a=b", "application/x-www-form-urlencoded", 415, None),
    ("over 4 MiB", b" " * (4 * 1024 * 1024 + 1), "application/json", 413, None),
]


def _check_bad(resp: httpx.Response, status: int, code: int | None) -> None:
    assert resp.status_code == status, resp.text
    assert "Traceback" not in resp.text
    body = resp.json()
    if code is not None:
        assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == code
    else:
        assert isinstance(body["error"], str)


@pytest.mark.parametrize(("case", "body", "ctype", "status", "code"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_malformed_bodies_both_transports(
    edge: RunningEdge, case: str, body: bytes, ctype: str, status: int, code: int | None
) -> None:
    async with raw_sse(edge.url + "/workspaces/ws/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
        endpoint = edge.url + await first_endpoint(events)
        _check_bad(await client.post(endpoint, content=body, headers={"Content-Type": ctype}), status, code)
        resp = await client.post(edge.url + "/workspaces/ws/mcp", content=body,
                                 headers={"Content-Type": ctype, "Accept": ACCEPT})
        _check_bad(resp, status, code)


async def test_thousand_malformed_bodies_keep_rss_flat(edge: RunningEdge) -> None:
    me = psutil.Process(os.getpid())  # the edge runs in this process
    small = [b for b in BAD_BODIES if len(b[1]) < 1024]
    async with raw_sse(edge.url + "/workspaces/ws/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
        endpoint = edge.url + await first_endpoint(events)
        for _, body, ctype, _status, _code in small:  # warm up every path once
            await client.post(endpoint, content=body, headers={"Content-Type": ctype})
        before = me.memory_info().rss
        for i in range(1000):
            _, body, ctype, status, _code = small[i % len(small)]
            resp = await client.post(endpoint, content=body, headers={"Content-Type": ctype})
            assert resp.status_code == status
        grew = (me.memory_info().rss - before) / 2**20
    print(f"RSS grew {grew:.2f} MiB over 1,000 malformed bodies")
    assert grew < 10


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Origin": "https://evil.example"}, 403), ({"Host": "evil.example"}, 421),
     ({"Origin": "https://app.example"}, 200), ({"Origin": "http://localhost:6274"}, 200)],
)
async def test_origin_and_host_checked_on_every_route(edge: RunningEdge, headers: dict[str, str], status: int) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(edge.url + "/healthz", headers=headers)).status_code == status
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}
        resp = await client.post(edge.url + "/workspaces/ws/mcp", json=init, headers={"Accept": ACCEPT, **headers})
        assert resp.status_code == status


async def test_guessed_or_cross_workspace_session_ids_are_404(edge: RunningEdge) -> None:
    async with raw_sse(edge.url + "/workspaces/ws/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
        endpoint = await first_endpoint(events)
        sid = endpoint.split("session_id=", 1)[1]
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        edge_id, secret, mac = sid.split(".")
        def flip(text: str) -> str:  # change the last character, whatever it is
            return text[:-1] + ("B" if text[-1] == "A" else "A")

        guesses = [f"{edge_id}.{flip(secret)}.{mac}", f"{edge_id}.{secret}.{flip(mac)}", "x" * 40, ""]
        for guess in guesses:
            resp = await client.post(f"{edge.url}/workspaces/ws/messages?session_id={guess}", json=ping)
            assert resp.status_code == 404
            resp = await client.post(edge.url + "/workspaces/ws/mcp", json=ping,
                                     headers={"Accept": ACCEPT, "Mcp-Session-Id": guess or "x"})
            assert resp.status_code == 404
        other = await client.post(f"{edge.url}/workspaces/other/messages?session_id={sid}", json=ping)
        assert other.status_code == 404
        assert (await client.post(edge.url + endpoint, json=ping)).status_code == 202


async def test_bearer_token_required(edge: RunningEdge) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        denied = await client.get(edge.url + "/workspaces/locked/sse")  # the very first request too
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
        async with raw_sse(edge.url + "/workspaces/locked/sse", {"Authorization": f"Bearer {TOKEN}"}) as (resp, _):
            assert resp.status_code == 200
        wrong = await client.get(edge.url + "/workspaces/locked/sse", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


async def test_client_credentials_are_never_forwarded_upstream(edge: RunningEdge) -> None:
    """What the worker sees of each transport's requests carries none of the client's credentials."""
    secret = {"Authorization": f"Bearer {TOKEN}", "Cookie": "session=c00kie", "Proxy-Authorization": "Basic eA=="}
    seen: dict[str, dict[str, str]] = {}

    async def via(name: str, connect: Any) -> None:
        async with connect as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            result = await session.call_tool("headers", {})
            seen[name] = json.loads(result.content[0].text)  # type: ignore[union-attr]

    url = edge.url + "/workspaces/locked"
    await via("legacy SSE", sse_client(url + "/sse", headers=secret))
    async with httpx2.AsyncClient(headers=secret, timeout=10) as client:  # the mcp SDK's own client type
        await via("Streamable HTTP", streamable_http_client(url + "/mcp", http_client=client))
    async with httpx.AsyncClient(headers=secret, timeout=10) as http:
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}
        resp = await http.post(url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "headers", "arguments": {}, "_meta": meta}}, headers={
            "Accept": ACCEPT, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "headers"})
        assert resp.status_code == 200, resp.text
        seen["sessionless"] = json.loads(resp.json()["result"]["content"][0]["text"])
    for name, headers in seen.items():
        assert "content-type" in headers, (name, headers)  # the tool saw the forwarded request
        leaked = {"authorization", "cookie", "proxy-authorization"} & set(headers)
        assert not leaked, f"{name}: {leaked} reached the worker"


async def test_ops_routes_only_on_the_admin_listener(edge: RunningEdge) -> None:
    admin = edge.state.admin_urls[0]
    async with raw_sse(edge.url + "/workspaces/ws/sse") as (_, events), httpx.AsyncClient(timeout=10) as client:
        await first_endpoint(events)
        for path in ("/metrics", "/api/debug/state/connections", "/no/such/path"):
            missing = await client.get(edge.url + path)
            assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
        wrong = await client.put(edge.url + "/workspaces/ws/mcp", content=b"{}")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST, DELETE"
        state: dict[str, Any] = (await client.get(admin + "/api/debug/state/connections")).json()
        assert [c["workspace"] for c in state["connections"]] == ["ws"]
        conn = state["connections"][0]
        assert conn["transport"] == "sse" and conn["connectedAt"].endswith("Z")
        metrics = (await client.get(admin + "/metrics")).text
        assert 'mcpfleet_edge_sessions{workspace="ws"} 1' in metrics


@pytest.mark.parametrize("path", ["/workspaces/ws/mcp", "/workspaces/ws/messages?session_id=x"])
async def test_client_gone_mid_body_leaves_the_edge_serving(edge: RunningEdge, path: str) -> None:
    """Headers promising a body, then EOF: the edge must not answer on top of the server's own
    error response (that crashed Hypercorn's connection task and the whole listener)."""
    host, port = edge.url.removeprefix("http://").rsplit(":", 1)
    for _ in range(20):
        stream = await trio.open_tcp_stream(host, int(port))
        await stream.send_all(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: 54\r\n\r\n".encode())
        await stream.send_eof()
        with trio.move_on_after(2):
            try:
                while await stream.receive_some(4096):
                    pass
            except trio.BrokenResourceError:
                pass
        await stream.aclose()
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(edge.url + "/healthz")).status_code == 200
