"""The control plane's HTTP port (ARCHITECTURE 1 and 7): `/healthz`, Prometheus `/metrics` and the
state inspection API `GET /api/debug/state/{workspace|resources|errors|agents}`.

Served by `mcpfleet.ops_http`. JSON everywhere but /metrics; secrets are
always redacted here; an unknown path or component answers 404 with `{"error": ...}`.

    urls = await nursery.start(serve_http, coordinator, "127.0.0.1:0", shutdown_event)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import trio
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from control_plane.coordinator import Coordinator
from control_plane.state_report import report
from mcpfleet import errors
from mcpfleet.ops_http import Response, json_response, metrics_response, serve_ops

log = logging.getLogger(__name__)

STATE_PREFIX = "/api/debug/state/"


class FleetCollector(Collector):
    """Prometheus metrics read from the coordinator at scrape time."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def collect(self) -> Iterator[Any]:
        state = self.coordinator.state
        ws = GaugeMetricFamily("mcpfleet_workspaces", "Configured workspaces by process status",
                               labels=["status"])
        counts: dict[str, int] = {}
        for v in state.views():
            status = str(v.worker.status) if v.worker else "unknown"
            counts[status] = counts.get(status, 0) + 1
        for status, n in sorted(counts.items()):
            ws.add_metric([status], n)
        yield ws
        pending = GaugeMetricFamily("mcpfleet_workspaces_pending", "Workspaces whose placement is pending")
        pending.add_metric([], len(state.pending))
        yield pending
        breakers = GaugeMetricFamily("mcpfleet_breakers", "Circuit breakers by state", labels=["kind", "state"])
        bcount: dict[tuple[str, str], int] = {}
        for component, b in self.coordinator.breakers.breakers.items():
            key = (component.split("/", 1)[0], str(b.state))
            bcount[key] = bcount.get(key, 0) + 1
        for (kind, st), n in sorted(bcount.items()):
            breakers.add_metric([kind, st], n)
        yield breakers
        agents = GaugeMetricFamily("mcpfleet_agents", "Known agents by status", labels=["status"])
        connected = sum(1 for a in state.agents.values() if a.connected)
        agents.add_metric(["ready"], connected)
        agents.add_metric(["unknown"], len(state.agents) - connected)
        yield agents
        ports = GaugeMetricFamily("mcpfleet_ports_allocated", "Allocated worker ports per host", labels=["host"])
        memory = GaugeMetricFamily("mcpfleet_host_memory_mib", "Sum of the workers' RSS per host (MiB)",
                                   labels=["host"])
        for host, hp in sorted(state.ports.hosts.items()):
            ports.add_metric([host], len(hp.allocated))
            memory.add_metric([host], sum(w.rss_mib for (h, _), w in state.workers.items() if h == host))
        yield ports
        yield memory
        events = CounterMetricFamily("mcpfleet_events", "Events emitted on the control plane's bus")
        events.add_metric([], self.coordinator.bus.last_seq)
        yield events


class HttpApi:
    """The routes of the control plane's HTTP port (see module docstring)."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(FleetCollector(coordinator))

    def route(self, method: str, path: str) -> Response:
        """(status, content type, body) for one request."""
        if method not in ("GET", "HEAD"):
            return json_response(405, {"error": f"method {method} not allowed"})
        if path == "/healthz":
            return json_response(200, {"status": "ok", "bootId": self.coordinator.state.boot_id})
        if path == "/metrics":
            return metrics_response(self.registry)
        if path.startswith(STATE_PREFIX):
            component = path[len(STATE_PREFIX):].strip("/")
            try:
                return json_response(200, report(component, self.coordinator.state, self.coordinator.breakers))
            except errors.NotFound as err:
                return json_response(404, {"error": str(err)})
            except Exception:
                log.exception("state report %s failed", component)
                return json_response(500, {"error": "internal error"})
        return json_response(404, {"error": f"no such path {path!r}"})


async def serve_http(coordinator: Coordinator, bind: str, shutdown: trio.Event,
                     task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
    """Serve the HTTP API on `bind` ("host:port", port 0 = any) until `shutdown` is set; reports
    the bound URLs through `task_status`. Raises OSError if `bind` cannot be bound."""
    await serve_ops(HttpApi(coordinator).route, bind, shutdown, "control_plane.http", task_status=task_status)
