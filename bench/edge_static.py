"""The edge as its own process with a fixed route table (no control plane), for the benchmark.

    python -m bench.edge_static --worker-port N [--bind 127.0.0.1:0]

Prints one ready line `{"event": "ready", "service": "sse_edge", "addresses": {"http": URL}}`.
Workspace `bench` routes to 127.0.0.1:<worker-port>.
"""

from __future__ import annotations

import argparse
import logging
from functools import partial

import trio

from mcpfleet.errors import NotFound
from mcpfleet.logging import print_ready
from mcpfleet.model import Route
from mcpfleet.service import run_service
from sse_edge.app import create_app, serve
from sse_edge.edge import EdgeOptions


class StaticResolver:
    """One workspace, `bench`, at a fixed port."""

    def __init__(self, port: int) -> None:
        self.route = Route("bench", "running", "healthy", "127.0.0.1", port, 60.0)  # type: ignore[arg-type]

    async def resolve(self, workspace: str) -> Route:
        await trio.lowlevel.checkpoint()
        if workspace != "bench":
            raise NotFound(workspace)
        return self.route


async def run(args: argparse.Namespace, shutdown: trio.Event) -> None:
    app = create_app(StaticResolver(args.worker_port), options=EdgeOptions(route_ttl_seconds=3600))
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(partial(serve, app, args.bind, shutdown=shutdown))
        print_ready("sse_edge", {"http": urls[0]})


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker-port", type=int, required=True)
    p.add_argument("--bind", default="127.0.0.1:0")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    run_service(lambda shutdown: run(args, shutdown))


if __name__ == "__main__":
    main()
