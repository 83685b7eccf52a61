"""The supervisor agent end to end (issue 4): kill -9, SIGSTOP, env isolation, descendants.

One fleet for the module, the agent on the production health timers (check every 5 s, timeout
2 s, 3 failures). Measured times are printed (run with `-s` to see them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import trio
from mcp import ClientSession
from mcp.client.sse import sse_client

from tests.harness import REPO, Fleet, alive

pytestmark = pytest.mark.e2e
ECHO = str(REPO / "tests" / "fixtures" / "echo_stdio_server.py")
# What the worker gets (process_runner.worker_env) and what the MCP SDK's stdio client passes on
# to each server besides the server's declared env (mcp.client.stdio.get_default_environment:
# HOME, LOGNAME, PATH, SHELL, TERM, USER, those of them set in the worker's env).
WORKER_ENV = {"PATH", "HOME", "LANG", "PYTHONUNBUFFERED"}
SERVER_MINIMAL_ENV = {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"}


def two_servers(alpha_env: dict[str, str], beta_env: dict[str, str]) -> str:
    return json.dumps({"mcpServers": {
        "alpha": {"command": sys.executable, "args": [ECHO], "env": alpha_env},
        "beta": {"command": sys.executable, "args": [ECHO], "env": beta_env},
    }})


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("agent")
    (root / "workspaces").mkdir()
    (root / "workspaces" / "pair.json").write_text(
        two_servers({"ALPHA_SECRET": "a-only"}, {"BETA_SECRET": "b-only"}))
    (root / "workspaces" / "solo.json").write_text(json.dumps(  # one backend: restarts fastest
        {"mcpServers": {"alpha": {"command": sys.executable, "args": [ECHO]}}}))
    f = Fleet(root, agent_args=["--health-interval", "5", "--health-timeout", "2"])
    f.start()
    try:
        yield f
    finally:
        f.stop()


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


async def echo(fleet: Fleet, workspace: str, text: str, timeout: float = 10) -> str:
    """Call alpha's echo on the workspace's worker directly (its port does not change across
    restarts; the edge path is covered by the foundation and edge tests)."""
    url = f"http://127.0.0.1:{fleet.list_workspaces()[workspace]['port']}/sse"
    with trio.fail_after(timeout):
        async with sse_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = [t.name for t in (await session.list_tools()).tools]
            result = await session.call_tool("alpha_echo" if "alpha_echo" in tools else "echo",
                                             {"text": text})
            assert not result.is_error, result
            return str(result.content[0].text)  # type: ignore[union-attr]


async def serving_again(fleet: Fleet, workspace: str, since: float, limit: float) -> float:
    """Seconds from `since` (time.monotonic) until an echo through the edge works."""
    while True:
        try:
            assert await echo(fleet, workspace, "back", timeout=5) == "back"
            return time.monotonic() - since
        except Exception:
            if time.monotonic() - since > limit:
                raise
            await trio.sleep(0.2)


def agent_log_time(fleet: Fleet, pattern: str, after: float) -> float:
    """Epoch seconds of the first agent log line matching `pattern` logged at/after `after`."""
    deadline = time.time() + 30
    while time.time() < deadline:
        for line in (fleet.root / "logs" / "agent.log").read_text().splitlines():
            if re.search(pattern, line):
                stamp = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                if stamp >= after - 0.01:
                    return stamp
        time.sleep(0.1)
    raise TimeoutError(f"no agent log line matching {pattern!r}")


def test_each_process_gets_only_its_own_env(fleet: Fleet) -> None:
    row = fleet.wait_for("pair")
    worker = psutil.Process(row["pid"])
    assert set(environ(worker.pid)) == WORKER_ENV, environ(worker.pid)
    servers = [p for p in worker.children(recursive=True) if ECHO in p.cmdline()]
    assert len(servers) == 2, [p.cmdline() for p in worker.children(recursive=True)]
    seen = []
    for proc in servers:
        env = environ(proc.pid)
        secrets = {k for k in env if k.endswith("_SECRET")}
        assert len(secrets) == 1, env
        own = secrets.pop()
        assert env[own] == {"ALPHA_SECRET": "a-only", "BETA_SECRET": "b-only"}[own]
        assert set(env) - {own} <= SERVER_MINIMAL_ENV, env
        seen.append(own)
        print(f"server {own}: env keys {sorted(env)}")
    assert sorted(seen) == ["ALPHA_SECRET", "BETA_SECRET"]


async def test_kill_9_exit_seen_within_1_s_and_serving_again(fleet: Fleet) -> None:
    before = fleet.wait_for("solo")
    assert await echo(fleet, "solo", "hi") == "hi"
    tree = [psutil.Process(before["pid"]), *psutil.Process(before["pid"]).children(recursive=True)]
    killed_wall, killed = time.time(), time.monotonic()
    os.kill(before["pid"], signal.SIGKILL)
    seen = agent_log_time(fleet, r"worker solo: exit: worker exited with code -9", killed_wall)
    back = await serving_again(fleet, "solo", killed, 30)
    print(f"kill -9: exit seen after {seen - killed_wall:.3f} s, serving again after {back:.2f} s")
    assert seen - killed_wall < 1.0
    assert not alive(tree), "the killed worker's stdio servers must not outlive it"
    after = fleet.wait_for("solo", pid_not=before["pid"])
    assert after["port"] == before["port"]
    assert after["restartCount"] == before["restartCount"] + 1


async def test_sigstop_detected_within_20_s_and_serving_within_30_s(fleet: Fleet) -> None:
    before = fleet.wait_for("solo")
    assert await echo(fleet, "solo", "hi") == "hi"
    tree = [psutil.Process(before["pid"]), *psutil.Process(before["pid"]).children(recursive=True)]
    stopped_wall, stopped = time.time(), time.monotonic()
    os.kill(before["pid"], signal.SIGSTOP)
    try:
        seen = agent_log_time(fleet, r"worker solo: .*health checks failed in a row", stopped_wall)
        back = await serving_again(fleet, "solo", stopped, 40)
    finally:
        if alive(tree[:1]):
            os.kill(before["pid"], signal.SIGCONT)
    print(f"SIGSTOP: detected after {seen - stopped_wall:.2f} s, serving again after {back:.2f} s")
    assert seen - stopped_wall < 20
    assert back < 30
    assert not alive(tree)


def worker_tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def wait_gone(tree: list[psutil.Process], timeout: float) -> float:
    started = time.monotonic()
    while alive(tree) and time.monotonic() - started < timeout:
        time.sleep(0.1)
    return time.monotonic() - started


def test_stop_and_delete_leave_no_descendants(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "stubborn.json"  # a server that ignores SIGTERM and outlives stdin EOF
    spec.write_text(json.dumps({"mcpServers": {
        "alpha": {"command": sys.executable, "args": [ECHO, "--stubborn"]},
        "beta": {"command": sys.executable, "args": [ECHO]}}}))
    out = fleet.mcpfleet("workspaces", "apply", "-f", str(spec), "--wait", timeout=90)
    assert out.returncode == 0, out.stdout + out.stderr
    row = fleet.wait_for("stubborn")
    tree = worker_tree(row["pid"])
    assert len(tree) >= 3, tree  # the worker and its two stdio servers
    out = fleet.mcpfleet("workspaces", "stop", "stubborn", "--wait", timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    took = wait_gone(tree, 10)
    print(f"stop: {len(tree)} processes, all gone {took:.2f} s after the stop returned")
    assert not alive(tree)
    assert fleet.mcpfleet("workspaces", "start", "stubborn", "--wait", timeout=90).returncode == 0
    row = fleet.wait_for("stubborn", pid_not=row["pid"])
    tree = worker_tree(row["pid"])
    assert len(tree) >= 3
    out = fleet.mcpfleet("workspaces", "delete", "stubborn", timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    took = wait_gone(tree, 20)
    print(f"delete: {len(tree)} processes, all gone {took:.2f} s after the delete returned")
    assert not alive(tree)


def test_memory_limit_exceeded_restarts_with_reason_oom(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "hog.json"  # a worker's RSS alone is ~90 MiB: far over 40
    spec.write_text(json.dumps({"mcpServers": {"alpha": {"command": sys.executable, "args": [ECHO]}},
                                "fleet": {"limits": {"memoryMB": 40}}}))
    started = time.time()
    out = fleet.mcpfleet("workspaces", "apply", "-f", str(spec), timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    try:
        seen = agent_log_time(fleet, r"worker hog: oom: RSS \d+ MiB over the limit of 40 MiB", started)
        print(f"oom: seen {seen - started:.1f} s after apply")
    finally:
        fleet.mcpfleet("workspaces", "delete", "hog", timeout=60)


def test_one_failing_server_is_that_servers_failure_and_health_degraded(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "half.json"
    spec.write_text(json.dumps({"mcpServers": {
        "alpha": {"command": sys.executable, "args": [ECHO]},
        "gone": {"command": "/nonexistent/mcp-server-that-is-not-there"}}}))
    assert fleet.mcpfleet("workspaces", "apply", "-f", str(spec), timeout=60).returncode == 0
    try:
        row = fleet.wait_for("half", timeout=60)
        deadline = time.monotonic() + 30
        while True:
            out = fleet.mcpfleet("-o", "json", "state", "show", "workspace")
            assert out.returncode == 0, out.stderr
            proc = json.loads(out.stdout)["workspaces"]["half"]["process"]
            if proc["health"] == "degraded" and proc["healthReason"]:
                break
            assert time.monotonic() < deadline, proc
            time.sleep(0.5)
        print(f"degraded: {proc['healthReason']}; usage {proc['rssMiB']} MiB, "
              f"{proc['cpuPercent']} % CPU, {proc['processCount']} processes")
        assert "'gone'" in proc["healthReason"] and "alpha" not in proc["healthReason"]
        assert proc["status"] == "running" and proc["processCount"] >= 2 and proc["rssMiB"] > 20
        assert row["restartCount"] == 0
    finally:
        fleet.mcpfleet("workspaces", "delete", "half", timeout=60)
