"""Edge entry point and wiring: `python -m sse_edge [flags]`.

`create_app(resolver)` builds the Quart-Trio app and `serve(app, bind, shutdown=...)` runs it on
Hypercorn until `shutdown` is set; `main` wires them to the control plane's RoutingService:

    app = create_app(resolver)
    urls = await nursery.start(partial(serve, app, "127.0.0.1:8080", shutdown=shutdown_event))
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import hypercorn.config
import hypercorn.trio
import trio
from quart_trio import QuartTrio

from mcpfleet.logging import print_ready, setup_logging
from mcpfleet.ops_http import serve_ops
from mcpfleet.rpc import open_bridge
from mcpfleet.service import run_service
from mcpfleet.settings import load_settings
from sse_edge.admin import admin_route
from sse_edge.control_plane_link import ControlPlaneResolver, watch_routes
from sse_edge.edge import Edge, EdgeOptions
from sse_edge.posts import PublicASGI
from sse_edge.routes import ON_CLOSE_KEY, register_routes
from sse_edge.routing_table import Resolver
from sse_edge.settings import EdgeSettings
from sse_edge.streams import mcp_get, sse_get

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest POST body accepted (larger: HTTP 413)."""
FINAL_SEND_SECONDS = 1.0
"""Bound on the shielded final body send of a response."""


def create_app(
    resolver: Resolver, *, keepalive_seconds: float = 15.0, route_ttl_seconds: float = 2.0,
    resolve_timeout_seconds: float = 5.0, options: EdgeOptions | None = None,
) -> QuartTrio:
    """Build the edge's public app (both MCP transports, `/healthz`, `/readyz`).

    `resolver.resolve(ws)` gives a `Route` or raises `NotFound` / `Unavailable`; resolved routes
    are cached `route_ttl_seconds`. Streams send a keep-alive comment every `keepalive_seconds`.
    `options` (EdgeOptions) overrides those three and carries the rest of the edge's settings.
    The app's state is `edge_of(app)`. Serve it with `serve()` (or any ASGI server that runs the
    lifespan; then call `edge_of(app).begin_shutdown()` yourself before stopping it).
    """
    app = QuartTrio("sse_edge")
    if options is None:
        options = EdgeOptions(keepalive_seconds=keepalive_seconds, route_ttl_seconds=route_ttl_seconds,
                              resolve_timeout_seconds=resolve_timeout_seconds)
    app.config["MAX_CONTENT_LENGTH"] = options.max_body_bytes
    edge = Edge(resolver, options)
    app.extensions["sse_edge"] = edge
    register_routes(app, edge)

    @app.before_serving
    async def _start_edge() -> None:
        edge.start(app.nursery)

    @app.after_serving
    async def _stop_edge() -> None:
        await edge.aclose()

    app.asgi_app = _EdgeASGI(PublicASGI(edge, app.asgi_app, {"sse": sse_get, "mcp": mcp_get}))  # type: ignore[method-assign]
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
    graceful_timeout: float = 2.0, admin_bind: str | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` (from `create_app`) on Hypercorn at `bind` ("host:port", port 0 for any)
    until `shutdown` is set; for `nursery.start`, which returns the bound URLs
    (e.g. `["http://127.0.0.1:41234"]`).

    With `admin_bind`, the admin app (`/metrics`, `/api/debug/state/connections`) is served there;
    its URLs are in `edge_of(app).admin_urls`. On shutdown: listeners close, every SSE stream
    of the app ends at once, other requests get
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
        if admin_bind is not None:
            edge.admin_urls = await nursery.start(
                serve_ops, admin_route(edge), admin_bind, shutdown, "sse_edge.admin")
        urls: list[str] = await nursery.start(run_hypercorn)
        log.info("sse_edge serving on %s", ", ".join(urls))
        task_status.started(urls)


async def run(settings: EdgeSettings, shutdown: trio.Event) -> None:
    """Serve until `shutdown` is set."""
    async with open_bridge() as bridge, trio.open_nursery() as nursery:
        channel = await bridge.channel(settings.control_plane)
        app = create_app(ControlPlaneResolver(channel), options=settings.options())
        edge = edge_of(app)
        urls = await nursery.start(partial(serve, app, settings.bind, shutdown=shutdown,
                                           admin_bind=settings.admin_bind))
        public = settings.public_url or urls[0]
        admin = edge.admin_urls[0] if edge.admin_urls else ""
        watch = trio.CancelScope()
        if settings.watch:
            async def watch_until_shutdown() -> None:
                with watch:
                    await watch_routes(channel, edge, public, admin)

            nursery.start_soon(watch_until_shutdown)
        print_ready("sse_edge", {"http": urls[0], "admin": admin})
        await shutdown.wait()
        watch.cancel()  # `serve` drains and returns by itself; the route watch never would


def main(argv: list[str] | None = None) -> None:
    settings = load_settings(EdgeSettings, "EDGE", argv, prog="sse_edge", description=__doc__)
    setup_logging("sse_edge", settings.log_level)
    run_service(lambda shutdown: run(settings, shutdown))
