"""The edge's public routes served by Quart: `/healthz` and `/readyz`. Everything on the MCP
paths is raw ASGI: POST/DELETE in `posts.py`, the GET streams in `streams.py` (no framework on
the hot path); checks (Host, Origin, token) run in `posts.PublicASGI` before any of them."""

from __future__ import annotations

import json

from quart import Quart, Response
from werkzeug.exceptions import HTTPException

from sse_edge.edge import Edge, EdgeOptions

__all__ = ["ON_CLOSE_KEY", "Edge", "EdgeOptions", "register_routes"]

ON_CLOSE_KEY = "sse_edge.on_close"
"""ASGI scope key: a sync callable the app wrapper calls once the HTTP exchange is over."""


def register_routes(app: Quart, edge: Edge) -> None:
    """Add `/healthz` (always 200) and `/readyz` (503 while shutting down) to `app`, and JSON
    answers for the HTTP errors Quart itself gives (unknown path 404, wrong method 405, ...)."""

    @app.errorhandler(HTTPException)
    async def http_error(err: HTTPException) -> Response:
        return Response(json.dumps({"error": err.name}), status=err.code or 500,
                        content_type="application/json")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response('{"status": "ok"}', content_type="application/json")

    @app.get("/readyz")
    async def readyz() -> Response:
        if edge.closing:
            return Response(json.dumps({"error": "edge is shutting down"}), status=503,
                            content_type="application/json")
        return Response('{"status": "ready"}', content_type="application/json")
