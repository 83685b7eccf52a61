"""supervisor_agent.worker as a real process on loopback, driven by the official MCP client."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import trio
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.harness import alive

REPO = Path(__file__).resolve().parents[2]
ECHO_SERVER = REPO / "tests" / "fixtures" / "echo_stdio_server.py"
TIME = {"command": "mcp-server-time", "args": ["--local-timezone", "UTC"]}
ECHO = {"command": sys.executable, "args": [str(ECHO_SERVER)]}
STUBBORN = {"command": sys.executable, "args": [str(ECHO_SERVER), "--stubborn"]}
MISSING = {"command": "/nonexistent/definitely-not-a-server"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env() -> dict[str, str]:
    """What the agent gives a worker: PATH with the fleet's bin dir first, HOME, LANG."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONPATH": str(REPO),
    }


async def spawn(tmp_path: Path, servers: dict[str, Any], port: int, *extra: str) -> trio.Process:
    config = tmp_path / "ws.json"
    config.write_text(json.dumps({"mcpServers": servers}))
    argv = [sys.executable, "-m", "supervisor_agent.worker", "--config", str(config), "--port", str(port)]
    with (tmp_path / "worker.err").open("ab") as stderr:  # the child keeps its own copy
        return await trio.lowlevel.open_process(
            [*argv, *extra], stdout=-1, stderr=stderr, env=worker_env(), cwd=str(tmp_path),
            start_new_session=True,
        )


async def read_ready(proc: trio.Process, timeout: float = 30.0) -> dict[str, Any]:
    """The first stdout line, which must be the ready line."""
    assert proc.stdout is not None
    buf = b""
    with trio.fail_after(timeout):
        while b"\n" not in buf:
            chunk = await proc.stdout.receive_some(4096)
            assert chunk, f"worker exited before ready (rc={proc.poll()})"
            buf += chunk
    return json.loads(buf.split(b"\n", 1)[0])


def descendants(proc: trio.Process) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_tree(proc: trio.Process, known: Sequence[psutil.Process] = ()) -> None:
    """Last-resort cleanup: the worker's backends (they have sessions of their own), then its group."""
    for p in [*known, *descendants(proc)]:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@asynccontextmanager
async def running_worker(
    tmp_path: Path, servers: dict[str, Any], *extra: str
) -> AsyncIterator[tuple[str, trio.Process]]:
    port = free_port()
    started = time.perf_counter()
    proc = await spawn(tmp_path, servers, port, *extra)
    backends: list[psutil.Process] = []
    try:
        ready = await read_ready(proc)
        backends = descendants(proc)
        print(f"cold start (spawn -> ready line): {time.perf_counter() - started:.2f} s")
        assert ready == {
            "event": "ready", "service": "worker", "workspace": "ws",
            "addresses": {"http": f"http://127.0.0.1:{port}"},
        }
        yield ready["addresses"]["http"], proc
    finally:
        kill_tree(proc, backends)
        with trio.move_on_after(5):
            await proc.wait()


async def test_sse_and_streamable_http_reach_both_servers(tmp_path: Path) -> None:
    async with running_worker(tmp_path, {"time": TIME, "echo": ECHO}) as (url, _):
        async with sse_client(url + "/sse") as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"time_get_current_time", "time_convert_time", "echo_echo", "echo_add"} <= names
            result = await session.call_tool("time_get_current_time", {"timezone": "Europe/Paris"})
            assert not result.is_error
            assert "Europe/Paris" in result.content[0].text  # type: ignore[union-attr]

        async with streamable_http_client(url + "/mcp") as (rd, wr), ClientSession(rd, wr) as session:
            await session.initialize()
            result = await session.call_tool("echo_echo", {"text": "hello fleet"})
            assert not result.is_error
            assert result.content[0].text == "hello fleet"  # type: ignore[union-attr]
            # The backend is kept alive: later calls take milliseconds, not a respawn (~1 s).
            latencies = []
            for i in range(20):
                t0 = time.perf_counter()
                result = await session.call_tool("echo_add", {"a": i, "b": 1})
                latencies.append(time.perf_counter() - t0)
                assert result.content[0].text == str(i + 1)  # type: ignore[union-attr]
            p50, worst = sorted(latencies)[10], max(latencies)
            print(f"tools/call via /mcp: p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms")
            assert p50 < 0.1


async def test_single_server_tools_are_not_namespaced(tmp_path: Path) -> None:
    async with running_worker(tmp_path, {"time": TIME}) as (url, _):
        async with streamable_http_client(url + "/mcp") as (rd, wr), ClientSession(rd, wr) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert names == {"get_current_time", "convert_time"}


async def test_healthz_healthy_degraded_unhealthy(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    async with running_worker(tmp_path / "a", {"time": TIME, "echo": ECHO}) as (url, _):
        async with httpx.AsyncClient() as http:
            resp = await http.get(url + "/healthz")
        assert resp.status_code == 200
        body = resp.json()
        assert body["status"] == "healthy"
        for name in ("time", "echo"):
            assert body["servers"][name]["ok"] is True
            assert body["servers"][name]["tools"] == 2
            assert body["servers"][name]["latencyMs"] < 2000

    (tmp_path / "b").mkdir()
    broken = {"echo": ECHO, "broken": MISSING}
    async with running_worker(tmp_path / "b", broken, "--health-timeout", "1") as (url, proc):
        async with httpx.AsyncClient() as http:
            resp = await http.get(url + "/healthz")
            assert resp.status_code == 200
            body = resp.json()
            assert body["status"] == "degraded"
            assert body["servers"]["echo"]["ok"] is True
            assert body["servers"]["broken"]["ok"] is False
            assert MISSING["command"] in body["servers"]["broken"]["error"]
            # The good server keeps working beside the broken one.
            async with sse_client(url + "/sse") as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                assert {t.name for t in (await session.list_tools()).tools} == {"echo_echo", "echo_add"}
                result = await session.call_tool("echo_echo", {"text": "still here"})
                assert result.content[0].text == "still here"  # type: ignore[union-attr]

            # A frozen backend: /healthz really reaches it, times out (--health-timeout 1) -> 503.
            (echo_backend,) = descendants(proc)
            echo_backend.suspend()
            try:
                t0 = time.perf_counter()
                resp = await http.get(url + "/healthz", timeout=10)
                assert time.perf_counter() - t0 < 3
            finally:
                echo_backend.resume()
            assert resp.status_code == 503
            assert resp.json()["status"] == "unhealthy"
            assert resp.json()["servers"]["echo"] == {"ok": False, "error": "no answer within 1 s"}
            resp = await http.get(url + "/healthz")
            assert resp.json()["status"] == "degraded", resp.json()
    assert "'broken' failed to start" in (tmp_path / "b" / "worker.err").read_text()


async def test_exits_nonzero_when_no_server_can_start(tmp_path: Path) -> None:
    proc = await spawn(tmp_path, {"broken": MISSING}, free_port())
    try:
        with trio.fail_after(10):
            rc = await proc.wait()
    finally:
        kill_tree(proc)
    assert rc == 1
    assert "none of its 1 server(s) could start" in (tmp_path / "worker.err").read_text()


async def test_sigterm_exits_promptly_and_leaves_no_backend(tmp_path: Path) -> None:
    # The stubborn backend ignores stdin EOF and SIGTERM: only the worker's SIGKILL backstop ends it.
    async with running_worker(tmp_path, {"time": TIME, "echo": ECHO, "stubborn": STUBBORN}) as (_, proc):
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) == 3, children
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        with trio.fail_after(5):
            rc = await proc.wait()
        print(f"SIGTERM -> exit: {time.perf_counter() - t0:.2f} s (rc={rc})")
        assert rc == -signal.SIGTERM  # uvicorn re-raises the SIGTERM once it has shut down
        psutil.wait_procs(children, timeout=0.5)
        assert not alive(children), alive(children)  # a zombie is gone: init reaps it when it can
