"""Pre-warmed spare workers (spare_worker.py, worker_spare.py) as real processes on loopback.

A start handed to the idle spare (same pid, workspace log, refilled, re-adoptable), a dead spare
skipped for a fresh spawn, the precheck on both paths, stdin EOF ends an idle spare, shutdown
reaps them. Figures are printed (run with -s).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import trio

from supervisor_agent import process_runner
from supervisor_agent.spare_worker import SpareWorkers, assignment_line
from supervisor_agent.worker_spare import parse_assignment, worker_args
from tests.harness import free_port

REPO = Path(__file__).resolve().parents[2]
ECHO = {"command": sys.executable, "args": [str(REPO / "tests" / "fixtures" / "echo_stdio_server.py")]}
MISSING = {"command": "definitely-not-a-command-on-path"}


def make_spec(state_dir: Path, servers: dict[str, Any], name: str = "ws") -> process_runner.WorkerSpec:
    """What WorkerSupervisor builds: the config written to `workers/<name>.json`."""
    config = state_dir / "workers" / f"{name}.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcpServers": servers}))
    return process_runner.WorkerSpec(workspace=name, config_path=config, port=free_port(),
                                     bind_host="127.0.0.1", log_path=state_dir / "logs" / f"{name}.log")


def has_text(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text()


async def wait_for_text(path: Path, text: str, timeout: float = 60.0) -> None:
    """Until `text` appears in the file at `path` (a loaded 2-core box: imports take seconds)."""
    with trio.fail_after(timeout):
        while not has_text(path, text):
            await trio.sleep(0.05)


async def wait_idle(spares: SpareWorkers, proc: trio.Process) -> None:
    await wait_for_text(spares.log_path, f"spare worker pid {proc.pid}: imports done")


async def wait_refilled(spares: SpareWorkers) -> None:
    with trio.fail_after(10):
        while not spares.idle:
            await trio.sleep(0.05)


async def stop_worker(proc: trio.Process) -> None:
    await process_runner.stop(proc, process_runner.descendants(proc.pid), 3.0)


async def test_a_start_goes_to_the_idle_spare_then_a_new_spare_is_made(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        spares = SpareWorkers(nursery, tmp_path, count=1, stop_grace=2.0)
        proc: trio.Process | None = None
        try:
            await spares.fill()
            (spare,) = spares.idle
            await wait_idle(spares, spare)
            spec = make_spec(tmp_path, {"echo": ECHO})
            handed = time.perf_counter()
            proc = await spares.start(spec)
            assert proc is spare and spares.handed_over == 1
            await wait_for_text(spec.log_path, '"event": "ready"')
            print(f"idle spare handed a workspace -> ready line in {time.perf_counter() - handed:.2f} s")
            ready = next(json.loads(line) for line in spec.log_path.read_text().splitlines()
                         if line.startswith("{"))
            assert ready == {"event": "ready", "service": "worker", "workspace": "ws",
                             "addresses": {"http": f"http://127.0.0.1:{spec.port}"}}
            assert '"ready"' not in spares.log_path.read_text()  # the spare log kept only the idle part
            async with httpx.AsyncClient() as http:
                health = await http.get(f"http://127.0.0.1:{spec.port}/healthz", timeout=10)
            assert health.status_code == 200 and health.json()["status"] == "healthy"
            # The worker no longer depends on us: stdin is /dev/null, cwd the workers dir.
            assert os.readlink(f"/proc/{proc.pid}/fd/0") == "/dev/null"
            assert os.readlink(f"/proc/{proc.pid}/cwd") == str(spec.config_path.parent.resolve())
            # Re-adoption by pid + create time works for a worker born as a spare.
            adopted = process_runner.adopt(proc.pid, psutil.Process(proc.pid).create_time())
            assert adopted is not None and adopted.pid == spare.pid
            adopted.close()
            await wait_refilled(spares)  # no start in progress: at once
            assert spares.idle[0].pid != proc.pid and spares.idle[0].returncode is None
        finally:
            if proc is not None:
                await stop_worker(proc)
            await spares.aclose()


async def test_a_dead_spare_is_skipped_and_the_worker_spawned_fresh(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        spares = SpareWorkers(nursery, tmp_path, count=1, stop_grace=2.0)
        proc: trio.Process | None = None
        try:
            await spares.fill()
            (spare,) = spares.idle
            assert spare.stdin is not None
            await spare.stdin.send_all(b'{"not": "an assignment"}\n')  # a bad line: exit 2
            with trio.fail_after(60):
                assert await spare.wait() == 2
            assert "cannot take this assignment" in spares.log_path.read_text()
            spec = make_spec(tmp_path, {"echo": ECHO})
            proc = await spares.start(spec)
            assert proc.pid != spare.pid and spares.handed_over == 0
            await wait_for_text(spec.log_path, '"event": "ready"')
            await wait_refilled(spares)  # a refill all the same
        finally:
            if proc is not None:
                await stop_worker(proc)
            await spares.aclose()


async def test_the_precheck_applies_to_a_spare_and_unstartable_workspaces_start_fresh(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        spares = SpareWorkers(nursery, tmp_path, count=1, stop_grace=2.0)
        try:
            await spares.fill()
            (spare,) = spares.idle
            spec = make_spec(tmp_path, {"broken": MISSING})
            # The agent routes a workspace no server of which can start to a fresh process (it
            # exits before any import), keeping the spare.
            fresh = await spares.start(spec)
            with trio.fail_after(30):
                assert await fresh.wait() == 1
            assert spares.idle == [spare] and spares.handed_over == 0
            # A spare handed such a workspace anyway runs the same precheck: exit 1, said in the
            # workspace's log.
            spares.idle.clear()
            assert spare.stdin is not None
            await spare.stdin.send_all(assignment_line(spec))
            await spare.stdin.aclose()
            with trio.fail_after(60):
                assert await spare.wait() == 1
            logged = spec.log_path.read_text()  # the precheck's words (the worker's differ)
            assert logged.count(f"failed to start: command {MISSING['command']!r} not found") == 2, logged
        finally:
            await spares.aclose()


async def test_stdin_eof_ends_an_idle_spare_at_once_and_shutdown_reaps_the_rest(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        spares = SpareWorkers(nursery, tmp_path, count=2, stop_grace=2.0)
        try:
            await spares.fill()
            first, second = spares.idle
            await wait_idle(spares, first)
            await wait_idle(spares, second)
            assert first.stdin is not None
            t0 = time.perf_counter()
            await first.stdin.aclose()  # what the agent's death does to the pipe
            with trio.fail_after(5):
                assert await first.wait() == 0
            eof_exit = time.perf_counter() - t0
            spares.idle.remove(first)
            t0 = time.perf_counter()
        finally:
            await spares.aclose()
        reaped = time.perf_counter() - t0
    print(f"idle spare: stdin EOF -> exit 0 in {eof_exit:.3f} s; shutdown reaped the other in {reaped:.3f} s")
    assert eof_exit < 1.0 and reaped < 3.0
    assert second.returncode is not None  # reaped: no zombie left either
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(second.pid).status()
    assert spares.idle == []
    await spares.fill()  # closed: spawns no more
    assert spares.idle == []


def test_assignment_lines_are_checked() -> None:
    spec = process_runner.WorkerSpec("ws", Path("/s/workers/ws.json"), 40001, "127.0.0.1",
                                     Path("/s/logs/ws.log"))
    line = assignment_line(spec)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    parsed = parse_assignment(line)
    assert parsed == {"config": "/s/workers/ws.json", "name": "ws", "port": 40001,
                      "host": "127.0.0.1", "log": "/s/logs/ws.log", "cwd": "/s/workers"}
    assert worker_args(parsed) == process_runner.worker_argv(spec)[3:]
    good = json.loads(line)
    for bad in ({**good, "port": "40001"}, {**good, "port": True}, {**good, "log": "ws.log"},
                {**good, "extra": 1}, {k: v for k, v in good.items() if k != "cwd"}, [good]):
        with pytest.raises(ValueError):
            parse_assignment(json.dumps(bad).encode())
    with pytest.raises(ValueError):
        parse_assignment(b"{not json")
