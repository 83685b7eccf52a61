"""The workspace process: one FastMCP server fronting every enabled server of one workspace.

    python -m supervisor_agent.worker --config PATH --port N [--host 127.0.0.1] [--name NAME]
        [--startup-timeout 20] [--health-timeout 2]

Shape (ARCHITECTURE section 3):
- One `create_proxy` per enabled server, mounted on a root FastMCP server with `namespace=<name>`
  when the file enables several servers (tools become `<server>_<tool>`), without a namespace when
  it enables one. FastMCP builds a fresh backend client per request, but a stdio transport keeps
  one backend process and session alive and hands it to every client built with the same options;
  pinning the era (`mode="legacy"`, the handshake) keeps those options identical whatever era the
  front negotiated (FastMCP rebuilds an idle kept-alive session whose options differ).
  Requests to a backend time out after the workspace's fleet.requestTimeoutSeconds.
- Legacy SSE (`/sse`, `/messages/`) and Streamable HTTP (`/mcp`) are FastMCP's own two Starlette
  apps, dispatched by path so each keeps its own middleware (request context, transport type);
  `/healthz` sits beside them in an outer app whose lifespan enters both apps' lifespans.
  uvicorn serves it all on --host:--port.
- Before serving, every server is probed (connect + tools/list, --startup-timeout, concurrently).
  A server that fails is logged, left unmounted until the worker restarts (so a hung one cannot
  stall tools/list) and reported in /healthz; if none works the process exits 1 at once.
- /healthz lists tools on every started server through its proxy's own session (--health-timeout
  each, concurrently): 200 healthy or degraded, 503 when no server answers.
- On exit (SIGTERM, handled by uvicorn) every backend transport is closed (stdin EOF, then the SDK
  kills the backend's group) and anything still alive after 2.5 s is SIGKILLed. The SDK starts
  each backend with `start_new_session=True`, so a killpg of the worker's group does not reach them.
- When serving, one JSON line on stdout: {"event": "ready", "service": "worker", ...}.
- `--spare` alone: do the imports, then wait on stdin for the workspace to serve (a pre-warmed
  spare the agent hands its next start to; `worker_spare.py`, agent side `spare_worker.py`).
"""

# ruff: noqa: E402  (the precheck below runs before the heavy imports)
from __future__ import annotations

import sys

if __name__ == "__main__":
    from supervisor_agent.worker_precheck import no_server_can_start

    if no_server_can_start(sys.argv[1:]):
        sys.exit(1)

import argparse
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import anyio
import psutil
import uvicorn
from fastmcp import Client, FastMCP
from fastmcp.server import create_proxy
from fastmcp.server.providers.proxy import ProxyClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpfleet.errors import InvalidArgument
from mcpfleet.workspace import parse_workspace

log = logging.getLogger("supervisor_agent.worker")


class Backend:
    """One enabled server: its mounted proxy and how to reach the backend through it."""

    def __init__(self, name: str, entry: dict[str, Any], request_timeout: float) -> None:
        self.name = name
        self.start_error: str | None = None  # set when the startup probe failed: then never mounted
        # No inbound header forwarding: the edge's bearer tokens are ours, not the backend's.
        config = {"mcpServers": {name: entry}}
        client: ProxyClient[Any] = ProxyClient(
            config, mode="legacy", timeout=request_timeout, forward_incoming_headers=False
        )
        self.proxy = create_proxy(client, name=name)

    def _client(self) -> Client[Any]:
        """A fresh client from the proxy's own factory: same options, so the same kept-alive session."""
        return cast(Client[Any], self.proxy.client_factory())

    async def probe(self, timeout: float) -> dict[str, Any]:
        """tools/list on the backend through the proxy's own client factory (same kept-alive session)."""
        start = time.perf_counter()
        try:
            with anyio.fail_after(timeout):
                async with self._client() as client:
                    tools = await client.list_tools()
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {timeout:g} s"}
        except Exception as exc:  # any backend failure is a health result, not a worker crash
            cause = exc.__cause__ or exc
            return {"ok": False, "error": f"{type(cause).__name__}: {cause}"}
        return {"ok": True, "tools": len(tools), "latencyMs": round((time.perf_counter() - start) * 1000, 1)}

    async def close(self) -> None:
        """Close the backend's transport: for stdio, stdin EOF then the SDK kills the process tree."""
        await self._client().transport.close()


async def probe_all(backends: list[Backend], timeout: float) -> dict[str, dict[str, Any]]:
    """Probe every started backend concurrently; one that failed to start reports that failure."""
    results: dict[str, dict[str, Any]] = {}

    async def one(backend: Backend) -> None:
        if backend.start_error is not None:
            results[backend.name] = {"ok": False, "error": f"failed to start: {backend.start_error}"}
        else:
            results[backend.name] = await backend.probe(timeout)

    async with anyio.create_task_group() as tg:
        for backend in backends:
            tg.start_soon(one, backend)
    return {b.name: results[b.name] for b in backends}


async def close_backends(backends: list[Backend], grace: float = 2.5) -> None:
    """Close every backend; SIGKILL whatever of ours still runs after `grace` seconds.

    The SDK starts each stdio backend in a session of its own, so the agent's killpg of the worker's
    group never reaches them: this is where they end.
    """
    kids = psutil.Process().children(recursive=True)
    with anyio.CancelScope(shield=True), anyio.move_on_after(grace):
        async with anyio.create_task_group() as tg:
            for backend in backends:
                tg.start_soon(backend.close)
    for kid in kids:
        with contextlib.suppress(psutil.Error, OSError):
            if kid.is_running() and kid.status() != psutil.STATUS_ZOMBIE:
                log.warning("backend pid %d outlived its transport; killing its process group", kid.pid)
                os.killpg(kid.pid, signal.SIGKILL)
                kid.kill()


def health_body(results: dict[str, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The /healthz status code and JSON body for per-server probe results."""
    ok = sum(1 for r in results.values() if r["ok"])
    status = "healthy" if ok == len(results) else "degraded" if ok else "unhealthy"
    return (503 if ok == 0 else 200), {"status": status, "servers": results}


def build_app(backends: list[Backend], health_timeout: float) -> ASGIApp:
    """The ASGI app: FastMCP's SSE and Streamable HTTP apps plus /healthz, one lifespan."""
    root: FastMCP[Any] = FastMCP("workspace")
    for backend in backends:
        if backend.start_error is None:  # names depend on the file, not on which servers started
            root.mount(backend.proxy, namespace=backend.name if len(backends) > 1 else None)
    sse_app = root.http_app(transport="sse")
    mcp_app = root.http_app(transport="http")

    async def healthz(_: Request) -> JSONResponse:
        code, body = health_body(await probe_all(backends, health_timeout))
        return JSONResponse(body, status_code=code)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            async with sse_app.lifespan(sse_app), mcp_app.lifespan(mcp_app):
                yield
        finally:  # before uvicorn re-raises the SIGTERM it caught, which ends the process at once
            await close_backends(backends)

    outer = Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/mcp" or path.startswith("/mcp/"):
            await mcp_app(scope, receive, send)
        elif path == "/sse" or path.startswith("/messages/"):
            await sse_app(scope, receive, send)
        else:
            await outer(scope, receive, send)

    return app


class _Server(uvicorn.Server):
    """uvicorn, printing the ready line once its socket is bound."""

    ready_line: dict[str, Any] = {}

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(json.dumps(self.ready_line), flush=True)


async def serve(args: argparse.Namespace, backends: list[Backend], workspace: str) -> int:
    """Probe the backends, serve until told to stop, close the backends. Returns the exit code."""
    try:
        results = await probe_all(backends, args.startup_timeout)
        for backend in backends:
            if not results[backend.name]["ok"]:
                backend.start_error = results[backend.name]["error"]
                log.error("server %r failed to start (left out until restart): %s", backend.name,
                          backend.start_error)
        if not any(r["ok"] for r in results.values()):
            log.error("workspace %r: none of its %d server(s) could start; exiting", workspace, len(backends))
            return 1
        config = uvicorn.Config(
            build_app(backends, args.health_timeout), host=args.host, port=args.port,
            log_level="warning", lifespan="on", timeout_graceful_shutdown=1,
        )
        server = _Server(config)
        host = f"[{args.host}]" if ":" in args.host else args.host
        server.ready_line = {"event": "ready", "service": "worker", "workspace": workspace,
                             "addresses": {"http": f"http://{host}:{args.port}"}}
        await server.serve()
        return 0 if server.started else 1
    finally:
        await close_backends(backends)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m supervisor_agent.worker",
                                     description="Run one workspace's FastMCP worker.")
    parser.add_argument("--config", required=True, type=Path, help="workspace JSON file")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", help="workspace name (default: the config file's stem)")
    parser.add_argument("--startup-timeout", type=float, default=20.0, help="seconds for servers to start")
    parser.add_argument("--health-timeout", type=float, default=2.0, help="seconds per server in /healthz")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fastmcp_log = logging.getLogger("fastmcp")  # plain lines like ours, not FastMCP's rich console
    fastmcp_log.handlers.clear()
    fastmcp_log.propagate = True
    workspace = args.name or args.config.stem
    try:
        ws = parse_workspace(args.config.read_bytes(), source=str(args.config))
    except (OSError, InvalidArgument) as exc:
        log.error("cannot load workspace %r: %s", workspace, exc)
        return 1
    servers = ws.enabled_servers()
    if not servers:
        log.error("workspace %r has no enabled server", workspace)
        return 1
    backends = [Backend(n, e, ws.fleet.request_timeout_seconds) for n, e in servers.items()]
    return anyio.run(serve, args, backends, workspace)


if __name__ == "__main__":
    if sys.argv[1:] == ["--spare"]:  # a pre-warmed spare: the imports above are done (worker_spare.py)
        from supervisor_agent.worker_spare import wait_for_assignment

        sys.exit(wait_for_assignment(main))
    sys.exit(main())
