"""Many hosts (issue 4 items 4, 6, 7): two agents on this machine against one control plane.

Distinct host ids, own port ranges, own state dirs. Workspaces spread over both; `agents list`
shows each agent's address, status, version, workspaces and usage; an agent that goes silent
becomes `unknown` after heartbeat TTL + grace and nothing of it is killed or moved; `mcpfleet
logs` streams a worker's log from its host; `agents drain` moves workspaces (started elsewhere,
then stopped there) and a client reconnecting through the edge reaches the moved workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from tests.harness import DEMO, REPO, Fleet, Service, alive, free_port_range

pytestmark = pytest.mark.e2e
NAMES = ["w1", "w2", "w3", "w4"]
TTL = 2.0  # heartbeat TTL (s); the control plane's heartbeat interval is 1 s: unknown after 3 s


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("hosts")
    (root / "workspaces").mkdir()
    f = Fleet(root, host_id="h1", cp_args=["--heartbeat-ttl", str(TTL)])
    f.start()
    try:
        f.services.append(f.start_agent("h2", free_port_range()))
        deadline = time.monotonic() + 20
        while len(agents(f)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        for name in NAMES:  # placed one by one, now that both agents are known
            shutil.copy(DEMO, root / "workspaces" / f"{name}.json")
        for name in NAMES:
            f.wait_for(name, timeout=90)
        yield f
    finally:
        f.stop()


def agents(fleet: Fleet) -> dict[str, dict[str, Any]]:
    out = fleet.mcpfleet("-o", "json", "agents", "list")
    assert out.returncode == 0, out.stderr
    return {a["hostId"]: a for a in json.loads(out.stdout)}


def agent_service(fleet: Fleet, host: str) -> Service:
    return next(s for s in fleet.services if s.name == "supervisor_agent"
                and s.ready.get("hostId") == host)


async def tokyo_time(fleet: Fleet, workspace: str) -> str:
    async with sse_client(f"{fleet.edge_url}/workspaces/{workspace}/sse") as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("get_current_time", {"timezone": "Asia/Tokyo"})
        assert not result.is_error, result
        return str(result.content[0].text)  # type: ignore[union-attr]


def test_workspaces_spread_over_both_agents_and_agents_list_shows_them(fleet: Fleet) -> None:
    rows = fleet.list_workspaces()
    hosts = {n: rows[n]["host"] for n in NAMES}
    print(f"placement: {hosts}")
    assert sorted(hosts.values()) == ["h1", "h1", "h2", "h2"]
    time.sleep(1.5)  # a sample of every worker's tree has been reported
    listed = agents(fleet)
    for host in ("h1", "h2"):
        a = listed[host]
        print(f"agent {host}: {a}")
        assert a["status"] == "ready" and a["connected"]
        assert a["address"] == "127.0.0.1" and a["version"]
        assert sorted(a["workspaces"]) == sorted(n for n in NAMES if hosts[n] == host)
        assert a["rssMB"] > 20 and a["processCount"] >= 4  # 2 workers + their time servers
    ports = {rows[n]["port"] for n in NAMES}
    assert len(ports) == 4
    table = fleet.mcpfleet("agents", "list")
    assert table.returncode == 0 and "h2" in table.stdout and "ready" in table.stdout


def test_silent_agent_becomes_unknown_and_nothing_of_it_moves(fleet: Fleet) -> None:
    on_h2 = {n: r for n, r in fleet.list_workspaces().items() if r["host"] == "h2"}
    agent = agent_service(fleet, "h2")
    os.kill(agent.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        while agents(fleet)["h2"]["status"] != "unknown":
            assert time.monotonic() - started < 20, agents(fleet)["h2"]
            time.sleep(0.3)
        print(f"agent h2 unknown {time.monotonic() - started:.1f} s after it went silent")
        time.sleep(2)
        rows = fleet.list_workspaces()
        for name, before in on_h2.items():
            assert rows[name]["host"] == "h2"
            assert psutil.pid_exists(before["pid"])
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while agents(fleet)["h2"]["status"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    rows = fleet.list_workspaces()
    for name, before in on_h2.items():
        assert (rows[name]["host"], rows[name]["pid"]) == ("h2", before["pid"])


def test_logs_stream_from_the_host_that_runs_the_workspace(fleet: Fleet) -> None:
    name = next(n for n, r in fleet.list_workspaces().items() if r["host"] == "h2")
    out = fleet.mcpfleet("logs", name, "--tail", "20")
    assert out.returncode == 0, out.stderr
    assert '"event": "ready"' in out.stdout and name in out.stdout
    log_file = fleet.root / "agent-h2" / "logs" / f"{name}.log"
    follow = subprocess.Popen([sys.executable, "-m", "mcpfleet.cli", "--control-plane", fleet.grpc,
                               "logs", name, "--follow", "--tail", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    try:
        time.sleep(3)
        with open(log_file, "a") as f:
            f.write("marker line from the test\n")
        assert follow.stdout is not None
        os.set_blocking(follow.stdout.fileno(), False)
        got = b""
        deadline = time.monotonic() + 15
        while b"marker line from the test" not in got and time.monotonic() < deadline:
            got += follow.stdout.read() or b""
            time.sleep(0.2)
        assert b"marker line from the test" in got, got
    finally:
        follow.send_signal(signal.SIGINT)
        try:
            follow.wait(10)
        except subprocess.TimeoutExpired:
            follow.kill()
            follow.wait()
    missing = fleet.mcpfleet("logs", "no-such-workspace")
    assert missing.returncode == 1 and "no-such-workspace" in missing.stderr


async def test_drain_moves_workspaces_and_clients_reach_them_through_the_edge(fleet: Fleet) -> None:
    before = fleet.list_workspaces()
    moving = sorted(n for n in NAMES if before[n]["host"] == "h2")
    old_trees = {n: [psutil.Process(before[n]["pid"]),
                     *psutil.Process(before[n]["pid"]).children(recursive=True)] for n in moving}
    for name in moving:
        assert "Asia/Tokyo" in await tokyo_time(fleet, name)
    started = time.monotonic()
    out = fleet.mcpfleet("-o", "json", "agents", "drain", "h2")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert sorted(result["moving"]) == moving and result["agent"]["status"] == "draining"
    deadline = time.monotonic() + 60
    while True:
        rows = fleet.list_workspaces()
        if all(rows[n]["host"] == "h1" and rows[n]["status"] == "running" for n in moving) \
                and not any(alive(t) for t in old_trees.values()):
            break
        assert time.monotonic() < deadline, (rows, {n: alive(t) for n, t in old_trees.items()})
        time.sleep(0.3)
    print(f"drain: {moving} running on h1 and gone from h2 after {time.monotonic() - started:.1f} s")
    for name in moving:  # a new client session through the edge reaches the moved workspace
        assert "Asia/Tokyo" in await tokyo_time(fleet, name)
    listed = agents(fleet)
    assert listed["h2"]["status"] == "draining" and listed["h2"]["workspaces"] == []
    assert sorted(listed["h1"]["workspaces"]) == NAMES
