"""Edge entry point and wiring: `python -m sse_edge [flags]`.

`create_app(resolver)` builds the Quart-Trio app and `serve(app, bind, shutdown=...)` runs it on
Hypercorn until `shutdown` is set; `main` wires them to the control plane's RoutingService:

    app = create_app(resolver)
    urls = await nursery.start(partial(serve, app, "127.0.0.1:8080", shutdown=shutdown_event))
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import hypercorn.config
import hypercorn.trio
import trio
from quart_trio import QuartTrio

from mcpfleet.logging import print_ready, setup_logging
from mcpfleet.rpc import open_bridge
from mcpfleet.service import add_flag, run_service
from sse_edge.control_plane_link import ControlPlaneResolver
from sse_edge.routes import ON_CLOSE_KEY, Edge, register_routes
from sse_edge.routing_table import Resolver

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest POST body accepted (larger: HTTP 413)."""
FINAL_SEND_SECONDS = 1.0
"""Bound on the shielded final body send of a response."""


def create_app(
    resolver: Resolver, *, keepalive_seconds: float = 15.0, route_ttl_seconds: float = 2.0,
    resolve_timeout_seconds: float = 5.0,
) -> QuartTrio:
    """Build the edge's public app (legacy HTTP+SSE routes and `/healthz`).

    `resolver.resolve(ws)` gives a `Route` or raises `NotFound` / `Unavailable`; resolved routes
    are cached `route_ttl_seconds`. Streams send a keep-alive comment every `keepalive_seconds`.
    The app's state is `edge_of(app)`. Serve it with `serve()` (or any ASGI server that runs the
    lifespan; then call `edge_of(app).begin_shutdown()` yourself before stopping it).
    """
    app = QuartTrio("sse_edge")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    edge = Edge(
        resolver, keepalive_seconds=keepalive_seconds, route_ttl_seconds=route_ttl_seconds,
        resolve_timeout_seconds=resolve_timeout_seconds,
    )
    app.extensions["sse_edge"] = edge
    register_routes(app, edge)

    @app.before_serving
    async def _start_edge() -> None:
        edge.start(app.nursery)

    @app.after_serving
    async def _stop_edge() -> None:
        await edge.aclose()

    app.asgi_app = _EdgeASGI(app.asgi_app)  # type: ignore[method-assign]
    return app


def edge_of(app: QuartTrio) -> Edge:
    """The `Edge` state object of an app made by `create_app` (sessions, routes, shutdown)."""
    edge = app.extensions["sse_edge"]
    assert isinstance(edge, Edge)
    return edge


class _EdgeASGI:
    """ASGI wrapper: (1) shields the final `http.response.body` send (bounded), so a graceful
    shutdown does not wait the full graceful_timeout (quart-trio + hypercorn otherwise cancel it
    inside hypercorn's keep-alive setup; see STACK-NOTES); (2) calls the request's
    `ON_CLOSE_KEY` callback when the exchange is over, whichever way it ended."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def shielded_send(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                with trio.CancelScope(shield=True, deadline=trio.current_time() + FINAL_SEND_SECONDS):
                    await send(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, shielded_send)
        finally:
            on_close = scope.get(ON_CLOSE_KEY)
            if on_close is not None:
                on_close()


async def serve(
    app: QuartTrio, bind: str | Sequence[str], *, shutdown: trio.Event,
    graceful_timeout: float = 2.0, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` (from `create_app`) on Hypercorn at `bind` ("host:port", port 0 for any)
    until `shutdown` is set; for `nursery.start`, which returns the bound URLs
    (e.g. `["http://127.0.0.1:41234"]`).

    On shutdown: listeners close, every SSE stream of the app ends at once, other requests get
    up to `graceful_timeout` seconds, then the app's lifespan shutdown runs. Returns then.
    """
    config = hypercorn.config.Config()
    config.bind = [bind] if isinstance(bind, str) else list(bind)
    config.graceful_timeout = graceful_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    edge = edge_of(app)

    async with trio.open_nursery() as nursery:

        async def end_streams_on_shutdown() -> None:
            await shutdown.wait()
            edge.begin_shutdown()

        async def run_hypercorn(task_status: trio.TaskStatus[list[str]]) -> None:
            await hypercorn.trio.serve(app, config, shutdown_trigger=shutdown.wait, task_status=task_status)
            nursery.cancel_scope.cancel()

        nursery.start_soon(end_streams_on_shutdown)
        urls: list[str] = await nursery.start(run_hypercorn)
        log.info("sse_edge serving on %s", ", ".join(urls))
        task_status.started(urls)


ENV = "EDGE"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sse_edge", description=__doc__)
    add_flag(p, ENV, "control-plane", "127.0.0.1:50051", "control plane gRPC address")
    add_flag(p, ENV, "bind", "127.0.0.1:8080", "public listener (port 0 = any free port)")
    add_flag(p, ENV, "keepalive", 15.0, "seconds between SSE keep-alive comments", type=float)
    add_flag(p, ENV, "route-ttl", 2.0, "seconds a resolved route is cached", type=float)
    add_flag(p, ENV, "log-level", "INFO", "log level")
    return p.parse_args(argv)


async def run(args: argparse.Namespace, shutdown: trio.Event) -> None:
    """Serve until `shutdown` is set."""
    async with open_bridge() as bridge, trio.open_nursery() as nursery:
        channel = await bridge.channel(args.control_plane)
        app = create_app(ControlPlaneResolver(channel), keepalive_seconds=args.keepalive,
                         route_ttl_seconds=args.route_ttl)
        urls = await nursery.start(partial(serve, app, args.bind, shutdown=shutdown))
        print_ready("sse_edge", {"http": urls[0]})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging("sse_edge", args.log_level)
    run_service(lambda shutdown: run(args, shutdown))
