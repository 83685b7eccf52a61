"""Control plane entry point: `python -m control_plane [flags]`. Wires state, stores and endpoints.

Serves AgentService, RoutingService and AdminService (plus gRPC health and reflection) on
`--grpc-bind`, prints the ready line with the bound address, and exits cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
from functools import partial

import trio

from control_plane.admin_endpoint import AdminEndpoint
from control_plane.agent_endpoint import AgentEndpoint
from control_plane.breaker_board import BreakerBoard
from control_plane.check_broker import CheckBroker
from control_plane.config_watcher import ConfigWatcher
from control_plane.coordinator import Coordinator
from control_plane.desired_store import load_desired
from control_plane.events import EventBus
from control_plane.git_history import GitHistory
from control_plane.http_api import serve_http
from control_plane.log_broker import LogBroker
from control_plane.port_store import load_ports
from control_plane.routing_endpoint import RoutingEndpoint
from control_plane.settings import ENV_PREFIX, ControlPlaneSettings
from control_plane.state import FleetState
from control_plane.workspace_control import WorkspaceControl
from control_plane.workspace_ops import WorkspaceOps
from control_plane.workspace_waits import OpsTimers
from mcpfleet.ids import new_boot_id
from mcpfleet.logging import print_ready, setup_logging
from mcpfleet.rpc import open_bridge
from mcpfleet.service import run_service
from mcpfleet.settings import load_settings

log = logging.getLogger("control_plane")


def parse_args(argv: list[str] | None = None) -> ControlPlaneSettings:
    """Settings from defaults < TOML (`--config`) < MCPFLEET_CONTROL_PLANE_* env < flags; exits 2
    on an unknown key or a bad value (control_plane/settings.py lists every key)."""
    return load_settings(ControlPlaneSettings, ENV_PREFIX, argv, prog="control_plane", description=__doc__)


async def serve(args: ControlPlaneSettings, shutdown: trio.Event) -> None:
    """Run the control plane until `shutdown` is set."""
    args.workspaces_dir.mkdir(parents=True, exist_ok=True)
    ports_path = args.state_dir / "ports.json"
    state = FleetState(boot_id=new_boot_id(), heartbeat_interval_seconds=args.heartbeat_interval,
                       ports=load_ports(ports_path))
    bus = EventBus(handler_timeout_seconds=args.event_handler_timeout, history=args.event_history)
    coordinator = Coordinator(state, ports_path, bus=bus)
    coordinator.breakers = BreakerBoard(args.breaker_policy(), args.agent_breaker_policy())
    state.limits = args.host_limits()
    ops = WorkspaceOps(coordinator, args.workspaces_dir, GitHistory(args.workspaces_dir),
                       OpsTimers(args.startup_grace, args.stop_timeout))
    state.desired.update(load_desired(args.state_dir / "desired.json"))
    coordinator.load_configs(await ops.load_at_startup())
    coordinator.validate_ports_at_startup()
    admin = AdminEndpoint(coordinator)
    admin.event_queue_size = args.event_queue
    admin.attach_workspaces(ops, WorkspaceControl(ops, args.state_dir / "desired.json"))
    logs = LogBroker()
    admin.attach_agents(logs, unknown_after_seconds=args.heartbeat_ttl + args.heartbeat_interval)
    checks = CheckBroker()
    admin.checks_hook = partial(checks.gather, state, args.validate_timeout)
    bindings = [AgentEndpoint(coordinator, args.heartbeat_ttl, logs, checks).binding(),
                RoutingEndpoint(coordinator).binding(), admin.binding()]
    async with trio.open_nursery() as nursery:
        ops.run(nursery)
        await nursery.start(ConfigWatcher(ops, args.workspaces_dir, debounce_seconds=args.config_debounce,
                                          ttl_seconds=args.config_cache_ttl).run)
        await nursery.start(bus.run)
        await nursery.start(coordinator.run_breakers, args.breaker_tick)
        http_stop = trio.Event()
        http_urls = await nursery.start(serve_http, coordinator, args.http_bind, http_stop)
        async with open_bridge() as bridge:
            server = await bridge.serve(args.grpc_bind, bindings)
            host = args.grpc_bind.rsplit(":", 1)[0]
            http = http_urls[0].removeprefix("http://") if http_urls else ""
            print_ready("control_plane", {"grpc": f"{host}:{server.port}", "http": http})
            log.info("serving gRPC on %s:%d, HTTP on %s, workspaces from %s", host, server.port, http,
                     args.workspaces_dir)
            await shutdown.wait()
            log.info("shutting down")
            coordinator.closing = True
            http_stop.set()
        nursery.cancel_scope.cancel()  # the watcher and unfinished apply tasks


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging("control_plane", args.log_level)
    run_service(lambda shutdown: serve(args, shutdown))
