"""The small GET-only ops listener every service has (`/healthz`, `/metrics`, state JSON).

A plain ASGI app served by hypercorn's trio worker: `route(method, path)` returns
`(status, content_type, body)`; the app answers lifespan messages and shields the final body send
(STACK-NOTES: otherwise hypercorn's graceful shutdown waits its full grace).

    urls = await nursery.start(serve_ops, my_route, "127.0.0.1:0", shutdown_event, "svc.http")
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import hypercorn.trio
import trio
from hypercorn.config import Config
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Response = tuple[int, str, bytes]
Route = Callable[[str, str], Response]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def json_response(status: int, doc: Any) -> Response:
    """`doc` as an indented JSON body with `status`."""
    return status, "application/json", json.dumps(doc, indent=1, sort_keys=True).encode()


def metrics_response(registry: CollectorRegistry) -> Response:
    """Prometheus text exposition of `registry`."""
    return 200, CONTENT_TYPE_LATEST, generate_latest(registry)


class OpsApp:
    """ASGI app around a `route(method, path) -> Response` function."""

    def __init__(self, route: Route) -> None:
        self.route = route

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, content_type, body = self.route(scope["method"], scope["path"])
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()),
                                (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store")]})
        with trio.CancelScope(shield=True):
            await send({"type": "http.response.body", "body": body})


async def serve_ops(route: Route, bind: str, shutdown: trio.Event, logger: str,
                    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
    """Serve `route` on `bind` ("host:port", port 0 = any) until `shutdown` is set; reports the
    bound URLs through `task_status`. Raises OSError if `bind` cannot be bound."""
    config = Config()
    config.bind = [bind]
    config.graceful_timeout = 0.5
    config.accesslog = None
    config.errorlog = logging.getLogger(logger)
    await hypercorn.trio.serve(OpsApp(route), config, shutdown_trigger=shutdown.wait,  # type: ignore[arg-type]
                               task_status=task_status, mode="asgi")
