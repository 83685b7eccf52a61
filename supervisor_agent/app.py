"""Supervisor agent entry point: `python -m supervisor_agent [flags]`.

Connects to the control plane, runs the workers it is assigned, and on SIGINT/SIGTERM stops
every worker and reaps it (`on_exit = stop`, ARCHITECTURE section 2) before exiting.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import httpx
import trio

from mcpfleet.ids import default_host_id
from mcpfleet.logging import print_ready, setup_logging
from mcpfleet.rpc import open_bridge
from mcpfleet.service import add_flag, run_service
from supervisor_agent.control_plane_link import ControlPlaneLink
from supervisor_agent.worker_pool import WorkerPool
from supervisor_agent.worker_supervisor import Timers

log = logging.getLogger("supervisor_agent")
ENV = "AGENT"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="supervisor_agent", description=__doc__)
    add_flag(p, ENV, "control-plane", "127.0.0.1:50051", "control plane gRPC address")
    add_flag(p, ENV, "host-id", default_host_id(), "this host's id in the fleet")
    add_flag(p, ENV, "address", "127.0.0.1", "address edges use to reach this host's workers; "
             "workers bind to it")
    add_flag(p, ENV, "port-min", 40000, "lowest worker port", type=int)
    add_flag(p, ENV, "port-max", 40999, "highest worker port", type=int)
    add_flag(p, ENV, "state-dir", "./.mcpfleet/agent", "worker configs and logs", type=Path)
    add_flag(p, ENV, "startup-grace", 30.0, "seconds a new worker has to become healthy", type=float)
    add_flag(p, ENV, "health-interval", 5.0, "seconds between health checks", type=float)
    add_flag(p, ENV, "health-timeout", 2.0, "seconds one health check may take", type=float)
    add_flag(p, ENV, "stop-grace", 5.0, "seconds between SIGTERM and SIGKILL", type=float)
    add_flag(p, ENV, "log-level", "INFO", "log level")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace, shutdown: trio.Event) -> None:
    """Run the agent until `shutdown` is set, then stop every worker."""
    timers = Timers(startup_grace=args.startup_grace, health_interval=args.health_interval,
                    health_timeout=args.health_timeout, stop_grace=args.stop_grace)
    async with open_bridge() as bridge, httpx.AsyncClient() as http, trio.open_nursery() as nursery:
        pool = WorkerPool(nursery, args.state_dir, args.address, timers, http)
        link = ControlPlaneLink(bridge, args.control_plane, pool, args.host_id, args.address,
                                args.port_min, args.port_max)
        nursery.start_soon(link.run)
        print_ready("supervisor_agent", {"control_plane": args.control_plane}, hostId=args.host_id)
        await shutdown.wait()
        log.info("stopping %d workers", len(pool.supervisors))
        with trio.move_on_after(args.stop_grace + 5):
            await pool.stop_all()
        nursery.cancel_scope.cancel()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging("supervisor_agent", args.log_level)
    run_service(lambda shutdown: serve(args, shutdown))
