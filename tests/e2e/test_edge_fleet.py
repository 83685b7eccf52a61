"""The edge in a real fleet (control plane + agent + FastMCP worker + edge, real processes): a
workspace with `mcp-server-time` and a second server, reached by every kind of client; edges and
connections listed by the CLI; a control-plane outage stops no traffic.

The MCP Inspector CLI runs from tests/e2e/inspector (package.json + lockfile; `make test` runs
`npm ci` there). That one test is skipped only when npm is absent."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from fastmcp import Client
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.harness import REPO, Fleet

pytestmark = pytest.mark.e2e

INSPECTOR_DIR = Path(__file__).resolve().parent / "inspector"
ECHO = REPO / "tests" / "fixtures" / "echo_stdio_server.py"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("edgefleet")
    (root / "workspaces").mkdir()
    pair = {"mcpServers": {"time": {"command": "mcp-server-time", "args": ["--local-timezone", "UTC"]},
                           "echo": {"command": sys.executable, "args": [str(ECHO)]}},
            "fleet": {"requestTimeoutSeconds": 30}}
    (root / "workspaces" / "pair.json").write_text(json.dumps(pair))
    f = Fleet(root).start()
    try:
        f.wait_for("pair", timeout=90)
        yield f
    finally:
        f.stop()


async def _official(connect: Any) -> tuple[set[str], str]:
    async with connect as streams, ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        names = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool("echo_echo", {"text": "hello pair"})
        assert not result.is_error, result
        return names, result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", ["sse", "mcp"])
async def test_official_client_both_transports(fleet: Fleet, transport: str) -> None:
    url = f"{fleet.edge_url}/workspaces/pair/{transport}"
    connect = sse_client(url) if transport == "sse" else streamable_http_client(url)
    with trio.fail_after(60):
        names, text = await _official(connect)
    assert {"time_get_current_time", "echo_echo"} <= names
    assert text == "hello pair"


async def _fastmcp(url: str) -> tuple[set[str], str]:
    async with Client(url) as client:
        names = {t.name for t in await client.list_tools()}
        result = await client.call_tool("time_get_current_time", {"timezone": "Asia/Tokyo"})
        return names, result.content[0].text  # type: ignore[union-attr]


async def test_fastmcp_client(fleet: Fleet) -> None:
    url = f"{fleet.edge_url}/workspaces/pair/mcp"
    with trio.fail_after(60):
        names, text = await trio.to_thread.run_sync(lambda: asyncio.run(_fastmcp(url)))
    assert "echo_echo" in names
    assert json.loads(text)["timezone"] == "Asia/Tokyo"


def _inspector(*args: str) -> dict[str, Any]:
    bin_dir = INSPECTOR_DIR / "node_modules" / ".bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run([str(bin_dir / "mcp-inspector"), "--cli", *args], capture_output=True, text=True,
                         timeout=90, env=env, cwd=INSPECTOR_DIR)
    assert out.returncode == 0, out.stdout + out.stderr
    parsed: dict[str, Any] = json.loads(out.stdout)
    return parsed


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is absent: the MCP Inspector CLI cannot be installed")
@pytest.mark.parametrize("transport", ["sse", "mcp"])
def test_mcp_inspector_cli(fleet: Fleet, transport: str) -> None:
    if not (INSPECTOR_DIR / "node_modules" / ".bin" / "mcp-inspector").exists():
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund"], cwd=INSPECTOR_DIR, check=True,
                       timeout=600, capture_output=True)  # `make test` does this (npm ci refuses the lockfile)
    url = f"{fleet.edge_url}/workspaces/pair/{transport}"
    tools = _inspector(url, "--transport", "sse" if transport == "sse" else "http", "--method", "tools/list")
    assert {"time_get_current_time", "echo_echo"} <= {t["name"] for t in tools["tools"]}
    result = _inspector(url, "--transport", "sse" if transport == "sse" else "http", "--method", "tools/call",
                        "--tool-name", "echo_echo", "--tool-arg", "text=from inspector")
    assert result["content"][0]["text"] == "from inspector"


async def test_edges_and_connections_listed(fleet: Fleet) -> None:
    url = f"{fleet.edge_url}/workspaces/pair/sse"
    with trio.fail_after(60):
        async with sse_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(100):  # connection/opened travels edge -> control plane asynchronously
                out = await trio.to_thread.run_sync(fleet.mcpfleet, "-o", "json", "state", "show", "connections")
                assert out.returncode == 0, out.stderr
                state = json.loads(out.stdout)
                sse_conns = [c for c in state["connections"] if c["transport"] == "sse"]
                if sse_conns:
                    break
                await trio.sleep(0.1)
            # earlier tests' Streamable HTTP sessions may still be open (until their idle expiry)
            assert len(sse_conns) == 1 and state["byWorkspace"]["pair"] >= 1
            conn = sse_conns[0]
            assert conn["workspace"] == "pair" and conn["clientName"] and conn["connectedAt"].endswith("Z")
            edges = await trio.to_thread.run_sync(fleet.mcpfleet, "-o", "json", "edges", "list")
            assert edges.returncode == 0, edges.stderr
            [edge] = json.loads(edges.stdout)
            assert edge["publicAddress"] == fleet.edge_url and edge["adminAddress"].startswith("http://127.0.0.1:")
            assert edge["connections"] >= 1 and edge["version"]
            table = await trio.to_thread.run_sync(fleet.mcpfleet, "edges", "list", "--connections")
            assert table.returncode == 0 and edge["edgeId"] in table.stdout and "pair" in table.stdout


async def test_control_plane_outage_stops_no_traffic(fleet: Fleet) -> None:
    """Runs last in this module: stops the fleet's control plane."""
    url = f"{fleet.edge_url}/workspaces/pair/sse"
    with trio.fail_after(90):
        async with sse_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert not (await session.call_tool("echo_echo", {"text": "before"})).is_error
            await trio.to_thread.run_sync(fleet.services[0].stop)  # the control plane
            await trio.sleep(1.0)
            existing = await session.call_tool("echo_echo", {"text": "existing session"})
            assert existing.content[0].text == "existing session"  # type: ignore[union-attr]
            for transport in ("sse", "mcp"):
                names, text = await _official(
                    sse_client(f"{fleet.edge_url}/workspaces/pair/sse") if transport == "sse"
                    else streamable_http_client(f"{fleet.edge_url}/workspaces/pair/mcp"))
                assert text == "hello pair", transport
