"""Control plane entry point: `python -m control_plane [flags]`. Wires state, stores and endpoints.

Serves AgentService, RoutingService and AdminService (plus gRPC health and reflection) on
`--grpc-bind`, prints the ready line with the bound address, and exits cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import trio

from control_plane.admin_endpoint import AdminEndpoint
from control_plane.agent_endpoint import AgentEndpoint
from control_plane.config_watcher import ConfigWatcher
from control_plane.coordinator import Coordinator
from control_plane.desired_store import load_desired
from control_plane.git_history import GitHistory
from control_plane.port_store import load_ports
from control_plane.routing_endpoint import RoutingEndpoint
from control_plane.state import FleetState
from control_plane.workspace_control import WorkspaceControl
from control_plane.workspace_ops import WorkspaceOps
from control_plane.workspace_waits import OpsTimers
from mcpfleet.ids import new_boot_id
from mcpfleet.logging import print_ready, setup_logging
from mcpfleet.rpc import open_bridge
from mcpfleet.service import add_flag, run_service

log = logging.getLogger("control_plane")
ENV = "CONTROL_PLANE"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="control_plane", description=__doc__)
    add_flag(p, ENV, "grpc-bind", "127.0.0.1:50051", "gRPC listen address (port 0 = any free port)")
    add_flag(p, ENV, "workspaces-dir", "./.mcpfleet/workspaces", "directory of <workspace>.json files",
             type=Path)
    add_flag(p, ENV, "state-dir", "./.mcpfleet/state", "where ports.json lives", type=Path)
    add_flag(p, ENV, "heartbeat-interval", 5.0, "seconds between agent heartbeats", type=float)
    add_flag(p, ENV, "heartbeat-ttl", 15.0, "seconds of agent silence before its stream is closed",
             type=float)
    add_flag(p, ENV, "log-level", "INFO", "log level")
    add_flag(p, ENV, "config-debounce", 0.5, "seconds of workspace file changes batched into one "
             "reload (at most one restart per workspace per window)", type=float)
    add_flag(p, ENV, "config-cache-ttl", 30.0, "seconds between full re-reads of the workspaces "
             "directory (catches changes the watcher missed)", type=float)
    add_flag(p, ENV, "startup-grace", 30.0, "seconds a new workspace config may take to be running "
             "and healthy before it is rolled back", type=float)
    add_flag(p, ENV, "stop-timeout", 30.0, "seconds `workspaces stop|restart` wait for a worker to "
             "stop", type=float)
    return p.parse_args(argv)


async def serve(args: argparse.Namespace, shutdown: trio.Event) -> None:
    """Run the control plane until `shutdown` is set."""
    args.workspaces_dir.mkdir(parents=True, exist_ok=True)
    ports_path = args.state_dir / "ports.json"
    state = FleetState(boot_id=new_boot_id(), heartbeat_interval_seconds=args.heartbeat_interval,
                       ports=load_ports(ports_path))
    coordinator = Coordinator(state, ports_path)
    ops = WorkspaceOps(coordinator, args.workspaces_dir, GitHistory(args.workspaces_dir),
                       OpsTimers(args.startup_grace, args.stop_timeout))
    state.desired.update(load_desired(args.state_dir / "desired.json"))
    coordinator.load_configs(await ops.load_at_startup())
    admin = AdminEndpoint(coordinator)
    admin.attach_workspaces(ops, WorkspaceControl(ops, args.state_dir / "desired.json"))
    bindings = [AgentEndpoint(coordinator, args.heartbeat_ttl).binding(),
                RoutingEndpoint(coordinator).binding(), admin.binding()]
    async with trio.open_nursery() as nursery:
        ops.run(nursery)
        await nursery.start(ConfigWatcher(ops, args.workspaces_dir, debounce_seconds=args.config_debounce,
                                          ttl_seconds=args.config_cache_ttl).run)
        async with open_bridge() as bridge:
            server = await bridge.serve(args.grpc_bind, bindings)
            host = args.grpc_bind.rsplit(":", 1)[0]
            print_ready("control_plane", {"grpc": f"{host}:{server.port}"})
            log.info("serving gRPC on %s:%d, workspaces from %s", host, server.port, args.workspaces_dir)
            await shutdown.wait()
            log.info("shutting down")
        nursery.cancel_scope.cancel()  # the watcher and unfinished apply tasks


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging("control_plane", args.log_level)
    run_service(lambda shutdown: serve(args, shutdown))
