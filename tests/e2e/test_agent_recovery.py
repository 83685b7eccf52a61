"""Agent and control-plane restarts leave running workers alone (issue 4 items 4-5).

- control plane `kill -9`, down 10 s, restarted on the same address: the agent reconnects, its
  workers keep their pids and ports, 0 restarts;
- agent `kill -9` (its workers live in their own sessions), restarted: it re-adopts the recorded
  live workers (pid and create time match), 0 restarts; a record naming a live unrelated process
  with the wrong create time is neither adopted nor signalled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.harness import DEMO, Fleet, alive, idle_spare

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("recovery")
    (root / "workspaces").mkdir()
    shutil.copy(DEMO, root / "workspaces" / "demo.json")
    f = Fleet(root).start()
    try:
        yield f
    finally:
        f.stop()


def log_text(fleet: Fleet, name: str = "agent.log") -> str:
    return (fleet.root / "logs" / name).read_text()


def test_control_plane_kill_9_down_10_s_agent_reconnects_without_restarts(fleet: Fleet) -> None:
    before = fleet.wait_for("demo")
    cp = fleet.services[0]
    cp.stop(sig=9)
    marker = len(log_text(fleet))
    time.sleep(10)
    assert psutil.Process(before["pid"]).is_running(), "the worker must keep running meanwhile"
    restarted = time.monotonic()
    fleet.services[0] = fleet.start_control_plane(fleet.grpc)
    after = fleet.wait_for("demo", timeout=30)
    print(f"control plane back: demo running again in its list after {time.monotonic() - restarted:.2f} s")
    assert (after["pid"], after["port"], after["restartCount"]) == (
        before["pid"], before["port"], before["restartCount"])
    assert "connected to control plane" in log_text(fleet)[marker:]


def test_agent_kill_9_readopts_workers_and_leaves_unrelated_processes_alone(fleet: Fleet) -> None:
    before = fleet.wait_for("demo")
    worker = psutil.Process(before["pid"])
    # The demo worker was born as the agent's spare (its first start took the spare): re-adopted
    # by pid + create time all the same. The agent's new spare must not outlive the agent.
    assert f"started worker demo pid {before['pid']} on port {before['port']} (a spare" in log_text(fleet)
    spare_pid, _ = idle_spare(fleet)
    assert spare_pid is not None
    spare = psutil.Process(spare_pid)
    agent_index = next(i for i, s in enumerate(fleet.services) if s.name == "supervisor_agent")
    fleet.services[agent_index].stop(sig=9)
    time.sleep(1)
    assert alive([worker]), "workers live in their own sessions: an agent kill -9 leaves them"
    assert not alive([spare]), "an idle spare exits on its stdin's EOF when the agent dies"
    state_dir = fleet.root / "agent"
    state = json.loads((state_dir / "workers-state.json").read_text())
    assert state["schemaVersion"] == 1
    assert state["workers"]["demo"]["pid"] == before["pid"]
    # A live process that is not our worker, recorded with a create time that is not its own.
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        stranger_ps = psutil.Process(stranger.pid)
        state["workers"]["ghost"] = {"pid": stranger.pid, "createTime": stranger_ps.create_time() - 1000,
                                     "port": fleet.port_range[1], "configVersion": "x", "restartCount": 0}
        (state_dir / "workers-state.json").write_text(json.dumps(state))
        shutil.copy(DEMO, state_dir / "workers" / "ghost.json")
        marker = len(log_text(fleet))
        fleet.services[agent_index] = fleet.start_agent(fleet.host_id, fleet.port_range)
        time.sleep(3)
        after = fleet.wait_for("demo")
        assert (after["pid"], after["port"], after["restartCount"]) == (
            before["pid"], before["port"], before["restartCount"])
        assert after["startTime"] == before["startTime"]  # its start, not the spare's creation
        logged = log_text(fleet)[marker:]
        assert f"worker demo: re-adopted pid {before['pid']}" in logged
        assert f"recorded pid {stranger.pid}" in logged and "not ours" in logged
        assert stranger.poll() is None and stranger_ps.status() != psutil.STATUS_STOPPED, \
            "the unrelated process must not be signalled"
        recorded = json.loads((state_dir / "workers-state.json").read_text())["workers"]
        assert recorded.get("ghost", {}).get("pid") != stranger.pid
    finally:
        stranger.kill()
        stranger.wait()


def test_dead_control_plane_stream_noticed_within_20_s(fleet: Fleet) -> None:
    """A control plane that hangs (SIGSTOP: its TCP connection stays open) is noticed by gRPC
    keepalive, not by waiting forever."""
    fleet.wait_for("demo")
    cp = fleet.services[0]
    marker = len(log_text(fleet))
    stopped = time.time()
    os.kill(cp.proc.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 30
        while "control plane link to" not in log_text(fleet)[marker:]:
            assert time.monotonic() < deadline, "the agent never noticed the hung control plane"
            time.sleep(0.2)
        noticed = time.time() - stopped
    finally:
        os.kill(cp.proc.pid, signal.SIGCONT)
    print(f"hung control plane noticed by the agent after {noticed:.1f} s")
    assert noticed < 20


def test_agent_restarts_crashed_workers_while_the_control_plane_is_away(fleet: Fleet) -> None:
    before = fleet.wait_for("demo")
    fleet.services[0].stop(sig=9)
    marker = len(log_text(fleet))
    os.kill(before["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while "worker demo: start ended" not in log_text(fleet)[marker:]:
        assert time.monotonic() < deadline, log_text(fleet)[marker:]
        time.sleep(0.2)
    fleet.services[0] = fleet.start_control_plane(fleet.grpc)
    after = fleet.wait_for("demo", pid_not=before["pid"], timeout=30)
    assert after["port"] == before["port"] and after["restartCount"] == before["restartCount"] + 1


def test_agent_sigterm_with_on_exit_keep_leaves_workers_for_the_next_agent(fleet: Fleet) -> None:
    i = next(i for i, s in enumerate(fleet.services) if s.name == "supervisor_agent")
    fleet.services[i].stop()  # the harness's agents run with on_exit = stop ...
    fleet.services[i] = fleet.start_agent(fleet.host_id, fleet.port_range, "--on-exit", "keep")
    before = fleet.wait_for("demo")  # ... so this one started it anew
    worker = psutil.Process(before["pid"])
    spare_pid, _ = idle_spare(fleet)
    spares = [psutil.Process(spare_pid)] if spare_pid else []
    assert fleet.services[i].stop() == 0  # SIGTERM: a clean exit that keeps its workers
    time.sleep(1)
    assert alive([worker])
    assert "leaving 1 workers running (on_exit = keep)" in log_text(fleet)
    assert spares and not alive(spares) and "reaped 1 spare worker(s)" in log_text(fleet)  # never kept
    fleet.services[i] = fleet.start_agent(fleet.host_id, fleet.port_range)
    time.sleep(2)
    after = fleet.wait_for("demo")
    assert (after["pid"], after["restartCount"]) == (before["pid"], before["restartCount"])
