"""Supervisor agent entry point: `python -m supervisor_agent [--config agent.toml] [flags]`.

Re-adopts the workers an earlier agent left running (state file), connects to the control plane,
runs the workers it is assigned, and on SIGINT/SIGTERM exits by its `on_exit` setting: `keep`
(default: workers stay up for the next agent) or `stop` (every worker stopped and reaped;
`mcpfleet up` uses it). ARCHITECTURE section 2 "Agent exit"; settings in `settings.py`.
"""

from __future__ import annotations

import logging

import httpx
import trio

from mcpfleet.logging import print_ready, setup_logging
from mcpfleet.rpc import open_bridge
from mcpfleet.service import run_service
from mcpfleet.settings import load_settings
from supervisor_agent.control_plane_link import ControlPlaneLink
from supervisor_agent.settings import AgentSettings, OnExit
from supervisor_agent.worker_pool import WorkerPool

log = logging.getLogger("supervisor_agent")
ENV = "AGENT"


def parse_args(argv: list[str] | None = None) -> AgentSettings:
    """Settings from flags, `MCPFLEET_AGENT_*` env and the `--config` TOML file (exit 2 if bad)."""
    return load_settings(AgentSettings, ENV, argv, prog="supervisor_agent", description=__doc__)


async def serve(settings: AgentSettings, shutdown: trio.Event) -> None:
    """Run the agent until `shutdown` is set, then keep or stop the workers (`on_exit`)."""
    timers = settings.timers()
    async with open_bridge() as bridge, httpx.AsyncClient() as http, trio.open_nursery() as nursery:
        pool = WorkerPool(nursery, settings.state_dir, settings.address, timers, http,
                          host_id=settings.host_id, spares=settings.spare_workers)
        await pool.fill_spares()
        restored = await pool.restore()
        if restored:
            log.info("found %d workers in the state file", restored)
        link = ControlPlaneLink(bridge, settings.control_plane, pool, settings.host_id,
                                settings.address, settings.port_min, settings.port_max,
                                reconnect_max=settings.reconnect_max,
                                resend_after=settings.status_resend)
        nursery.start_soon(link.run)
        print_ready("supervisor_agent", {"control_plane": settings.control_plane},
                    hostId=settings.host_id)
        await shutdown.wait()
        if settings.on_exit == OnExit.STOP:
            log.info("stopping %d workers (on_exit = stop)", len(pool.supervisors))
            with trio.move_on_after(settings.stop_grace * 2 + 5):
                await pool.stop_all()
        else:
            log.info("leaving %d workers running (on_exit = keep)", len(pool.supervisors))
            await pool.detach_all()  # reaps the spares: SIGKILL after stop_grace, so bounded
        nursery.cancel_scope.cancel()


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    setup_logging("supervisor_agent", settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health check otherwise
    run_service(lambda shutdown: serve(settings, shutdown))
