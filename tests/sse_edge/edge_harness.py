"""Helpers for the edge proxy tests: a real FastMCP legacy-SSE worker subprocess
(tests/fixtures/sse_server.py), a fake resolver, an in-process edge on 127.0.0.1:0, raw SSE
reading with httpx."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import trio

from mcpfleet.errors import DeadlineExceeded, NotFound, Unavailable
from sse_edge.app import create_app, edge_of, serve
from sse_edge.routes import Edge
from sse_edge.routing_table import Route
from sse_edge.sse_frames import SSEEvent, SSEParser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sse_server.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_worker(log_path: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = port or free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, str(FIXTURE), str(port)], stdout=log, stderr=log)
    return proc, port


def wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"worker exited early with {proc.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"worker on port {port} did not listen within {timeout} s")


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Worker:
    port: int
    log_path: Path

    def sse_gets(self) -> int:
        """How many `GET /sse` the worker has served (from its uvicorn access log)."""
        return self.log_path.read_text(errors="replace").count('"GET /sse HTTP/1.1" 200')


class FakeResolver:
    """Routes by name; an Exception value is raised; unknown names raise NotFound."""

    def __init__(self, routes: dict[str, Route | Exception]) -> None:
        self.routes = routes

    async def resolve(self, workspace: str) -> Route:
        await trio.lowlevel.checkpoint()
        found = self.routes.get(workspace)
        if found is None:
            raise NotFound(f"workspace {workspace!r} not found")
        if isinstance(found, Exception):
            raise found
        return found


def running(ws: str, port: int) -> Route:
    return Route(ws, "running", "healthy", "127.0.0.1", port, 60.0)


def standard_routes(port: int) -> dict[str, Route | Exception]:
    return {
        "ws": running("ws", port),
        "other": running("other", port),
        "warming": Route("warming", "starting", "healthy", "127.0.0.1", port, 60.0),
        "broken": Route("broken", "error", "unhealthy", "", 0, 60.0, config_error="line 3: bad command"),
        "cp-down": Unavailable("connection refused"),
        "cp-slow": DeadlineExceeded("Resolve took longer than 2 s"),
        "dead": running("dead", free_port()),  # nothing listens there
    }


@dataclass
class RunningEdge:
    url: str
    state: Edge
    shutdown: trio.Event


@asynccontextmanager
async def running_edge(resolver: FakeResolver, **kwargs: Any) -> AsyncIterator[RunningEdge]:
    app = create_app(resolver, **kwargs)
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(partial(serve, app, "127.0.0.1:0", shutdown=shutdown))
        try:
            yield RunningEdge(urls[0], edge_of(app), shutdown)
        finally:
            shutdown.set()


@asynccontextmanager
async def raw_sse(
    url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[SSEEvent]]]:
    """GET an SSE URL with plain httpx; yield the response and an iterator of parsed events."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=None)) as client:
        async with client.stream("GET", url, headers=headers or {}) as resp:

            async def events() -> AsyncIterator[SSEEvent]:
                parser = SSEParser()
                async for chunk in resp.aiter_bytes():
                    for event in parser.feed(chunk):
                        yield event

            yield resp, events()


async def first_endpoint(events: AsyncIterator[SSEEvent]) -> str:
    with trio.fail_after(5):
        event = await events.__anext__()
    assert event.event == "endpoint"
    return event.data


async def wait_until(predicate: Any, timeout: float, what: str) -> float:
    """Poll `predicate()` every 10 ms; return the seconds it took; fail after `timeout`."""
    start = trio.current_time()
    with trio.move_on_after(timeout):
        while not predicate():  # noqa: ASYNC110 - polling state the edge does not signal
            await trio.sleep(0.01)
        return trio.current_time() - start
    raise AssertionError(f"{what}: not within {timeout} s")


