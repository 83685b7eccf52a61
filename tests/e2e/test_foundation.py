"""Foundation end to end: control plane -> agent -> FastMCP worker -> edge -> official MCP client.

Real processes on loopback; the demo workspace runs the real `mcp-server-time`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from tests.harness import DEMO, Fleet, alive

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    (root / "workspaces").mkdir()
    shutil.copy(DEMO, root / "workspaces" / "demo.json")
    (root / "workspaces" / "broken.json").write_text('{"mcpServers": {"time": ')
    f = Fleet(root).start()
    try:
        yield f
    finally:
        f.stop()


async def call_time(url: str) -> tuple[list[str], str]:
    """List tools and ask for the time in Tokyo through `url` (legacy SSE)."""
    async with sse_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool("get_current_time", {"timezone": "Asia/Tokyo"})
        assert not result.is_error, result
        text = result.content[0].text  # type: ignore[union-attr]
        return tools, text


def assert_is_now_in_tokyo(text: str) -> None:
    import json

    answer = json.loads(text)
    assert answer["timezone"] == "Asia/Tokyo"
    when = dt.datetime.fromisoformat(answer["datetime"])
    assert abs((when - dt.datetime.now(dt.UTC)).total_seconds()) < 5


async def test_demo_serves_through_the_edge_and_survives_kill_9(fleet: Fleet) -> None:
    before = fleet.wait_for("demo")
    url = f"{fleet.edge_url}/workspaces/demo/sse"
    tools, text = await call_time(url)
    assert "get_current_time" in tools
    assert_is_now_in_tokyo(text)

    os.kill(before["pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    after = fleet.wait_for("demo", pid_not=before["pid"], timeout=30)
    assert after["restartCount"] == before["restartCount"] + 1
    assert after["port"] == before["port"]
    print(f"worker back to running {time.monotonic() - killed_at:.2f} s after kill -9")
    _, text = await call_time(url)
    assert_is_now_in_tokyo(text)


def test_invalid_json_is_reported_and_the_demo_still_serves(fleet: Fleet) -> None:
    fleet.wait_for("demo")
    rows = fleet.list_workspaces()
    assert rows["broken"]["config"] == "rejected"
    assert "broken.json: line 1 column" in rows["broken"]["configError"]
    assert rows["demo"]["status"] == "running"
    table = fleet.mcpfleet("workspaces", "list")
    assert table.returncode == 0
    assert "config rejected" in table.stdout
    log = (fleet.root / "logs" / "control-plane.log").read_text()
    assert "workspace broken rejected" in log


async def test_unknown_workspace_is_404_naming_it(fleet: Fleet) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        resp = await client.get(f"{fleet.edge_url}/workspaces/nope/sse")
    assert resp.status_code == 404
    assert "nope" in resp.json()["error"]


def test_cli_says_unreachable_with_exit_3_within_2_s(fleet: Fleet, tmp_path: Path) -> None:
    from tests.harness import free_port

    started = time.monotonic()
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "mcpfleet.cli", "--control-plane",
                          f"127.0.0.1:{free_port()}", "workspaces", "list"],
                         capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert out.returncode == 3, out
    assert "unreachable" in out.stderr
    # 2 s for the call; the rest is interpreter start-up and imports
    assert elapsed < 2 + 3, elapsed


def test_worker_processes_are_all_ours(fleet: Fleet) -> None:
    row = fleet.wait_for("demo")
    worker = psutil.Process(row["pid"])
    assert worker.cmdline()[1:3] == ["-m", "supervisor_agent.worker"]
    assert alive([worker])
