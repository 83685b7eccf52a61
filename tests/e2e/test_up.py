"""`mcpfleet up` as an operator runs it: ports persist across runs, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import trio
from mcp import ClientSession
from mcp.client.sse import sse_client

from tests.harness import REPO, alive, free_port_range, read_json_line

pytestmark = pytest.mark.e2e
HOST = "up-test"


def seed_ports(state_dir: Path, port_range: tuple[int, int], demo_port: int) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "ports.json").write_text(json.dumps({
        "schemaVersion": 1,
        "hosts": {HOST: {"portRange": {"min": port_range[0], "max": port_range[1]},
                         "allocatedPorts": {"demo": demo_port}}},
    }))


def start_up(root: Path, port_range: tuple[int, int]) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcpfleet.cli", "-o", "json", "up", "--dir", str(root), "--grpc-port", "0",
         "--http-port", "0",
         "--edge-port", "0", "--port-min", str(port_range[0]), "--port-max", str(port_range[1]),
         "--host-id", HOST],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root.parent,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        return proc, read_json_line(proc, timeout=60)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def ctrl_c(proc: subprocess.Popen[bytes]) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(proc.pid, signal.SIGINT)


async def demo_port_in_use(url: str, root: Path) -> int:
    async with sse_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("get_current_time", {"timezone": "UTC"})
        assert not result.is_error
    config = json.loads((root / "state" / "ports.json").read_text())
    return int(config["hosts"][HOST]["allocatedPorts"]["demo"])


async def wait_serving(url: str, root: Path, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await demo_port_in_use(url, root)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await trio.sleep(0.5)


def listening_pid(port: int) -> int | None:
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return conn.pid
    return None


async def run_once(root: Path, port_range: tuple[int, int], demo_port: int) -> None:
    seed_ports(root / "state", port_range, demo_port)
    proc, ready = start_up(root, port_range)
    tree: list[psutil.Process] = []
    try:
        url = ready["workspaces"]["demo"]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/workspaces/demo/sse")
        assert await wait_serving(url, root) == demo_port
        worker_pid = listening_pid(demo_port)
        assert worker_pid is not None, f"nothing listens on the seeded port {demo_port}"
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True),
                psutil.Process(worker_pid), *psutil.Process(worker_pid).children(recursive=True)]
        ctrl_c(proc)
        assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
        deadline = time.monotonic() + 10
        while alive(tree) and time.monotonic() < deadline:
            await trio.sleep(0.1)
        assert alive(tree) == [], f"left running after Ctrl-C: {alive(tree)}"
    finally:
        for p in alive(tree):
            p.kill()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def test_up_serves_the_seeded_port_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / ".mcpfleet"
    port_range = free_port_range(10)
    await run_once(root, port_range, port_range[0] + 3)   # not the lowest of the range
    assert (root / "workspaces" / "demo.json").exists()  # seeded from examples/ on first run
    await run_once(root, port_range, port_range[0] + 6)   # the operator changed it: honoured


def test_up_exists_in_the_cli_help() -> None:
    out = subprocess.run([sys.executable, "-m", "mcpfleet.cli", "--help"], capture_output=True, text=True,
                         cwd=REPO, timeout=30)
    assert out.returncode == 0 and "up" in out.stdout


async def test_up_stops_the_fleet_and_exits_1_when_a_service_dies(tmp_path: Path) -> None:
    root = tmp_path / ".mcpfleet"
    port_range = free_port_range(10)
    seed_ports(root / "state", port_range, port_range[0])
    proc, ready = start_up(root, port_range)
    try:
        await wait_serving(ready["workspaces"]["demo"], root)
        children = {c.cmdline()[2]: c for c in psutil.Process(proc.pid).children() if len(c.cmdline()) > 2}
        assert set(children) == {"control_plane", "supervisor_agent", "sse_edge"}, children
        children["sse_edge"].kill()  # the edge dies on its own
        assert proc.wait(timeout=30) == 1
        stderr = (proc.stderr.read() if proc.stderr else b"").decode()
        assert "sse_edge exited with code -9; stopping the fleet" in stderr, stderr
        deadline = time.monotonic() + 10
        while alive(list(children.values())) and time.monotonic() < deadline:
            await trio.sleep(0.1)
        assert alive(list(children.values())) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
