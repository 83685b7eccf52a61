"""AdminService RPCs for events, state and breakers (`// -- events, state, breakers` in admin.proto).

A mixin of `AdminEndpoint` (which provides `self.coordinator`): WatchEvents (server-streaming),
GetState, ValidateState, ListBreakers, ResetBreaker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from control_plane.breaker_board import workspace_component
from control_plane.events import Event, Resync
from control_plane.state_report import HostChecks, Issue, breaker_json, report, validate
from mcpfleet import errors
from mcpfleet.convert import ts_to_pb
from mcpfleet.rpc import CallContext, Stream
from mcpfleet.v1 import admin_pb2

if TYPE_CHECKING:
    from control_plane.coordinator import Coordinator

log = logging.getLogger(__name__)

ChecksHook = Callable[[], Awaitable[Mapping[str, HostChecks]]]


def event_to_pb(event: Event, boot_id: str) -> admin_pb2.FleetEvent:
    """One bus event as a FleetEvent."""
    return admin_pb2.FleetEvent(seq=event.seq, type=str(event.type), time=ts_to_pb(event.time),
                                workspace=event.workspace, host=event.host, boot_id=boot_id,
                                data_json=json.dumps(dict(event.data), default=str, sort_keys=True))


def breaker_to_pb(data: dict) -> admin_pb2.BreakerInfo:  # type: ignore[type-arg]
    """A `breaker_json` document (RFC 3339 times) as BreakerInfo."""
    cb = data["circuitBreaker"]
    info = admin_pb2.BreakerInfo(
        component=data["component"], state="BREAKER_STATE_" + cb["state"].upper().replace("-", "_"),
        failure_count=cb["failureCount"], open_count=cb["openCount"],
        recent_errors=[f"{e['time']} {e['reason']}: {e['message']}".rstrip(": ") for e in data["recentErrors"]],
        health="HEALTH_" + data["healthStatus"].upper())
    for field, key in (("last_failure", "lastFailure"), ("next_retry", "nextRetry")):
        if cb[key]:
            getattr(info, field).FromJsonString(cb[key])
    return info


class StateRpcs:
    """The events/state/breakers RPCs of AdminService (see module docstring)."""

    coordinator: Coordinator
    event_queue_size: int = 256
    # The agents' own checks of pids and ports, gathered before validating (None: the mirrored
    # state alone).
    checks_hook: ChecksHook | None = None

    async def WatchEvents(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.WatchEventsRequest, stream: Stream, ctx: CallContext
    ) -> None:
        bus = self.coordinator.bus
        boot_id = self.coordinator.state.boot_id
        with bus.subscribe(maxsize=self.event_queue_size, workspace=request.workspace,
                           types=set(request.types)) as sub:
            if request.recent:
                recent = [e for e in list(bus.recent) if sub.wants(e)][-request.recent:]
                for event in recent:
                    await stream.send(admin_pb2.WatchEventsResponse(event=event_to_pb(event, boot_id)))
            if request.replay_only:
                return
            async for item in sub:
                if isinstance(item, Resync):
                    await stream.send(admin_pb2.WatchEventsResponse(
                        resync=admin_pb2.EventsResync(dropped=item.dropped)))
                else:
                    await stream.send(admin_pb2.WatchEventsResponse(event=event_to_pb(item, boot_id)))

    async def GetState(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.GetStateRequest, ctx: CallContext
    ) -> admin_pb2.GetStateResponse:
        if request.component == "connections":  # reported by the edges (control_plane/edges.py)
            return admin_pb2.GetStateResponse(json=json.dumps(self.coordinator.edges.connections_json(),
                                                              sort_keys=True))
        doc = report(request.component, self.coordinator.state, self.coordinator.breakers,
                     show_secrets=request.show_secrets)
        return admin_pb2.GetStateResponse(json=json.dumps(doc, sort_keys=True))

    async def ValidateState(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ValidateStateRequest, ctx: CallContext
    ) -> admin_pb2.ValidateStateResponse:
        checks = None
        if self.checks_hook is not None:
            checks = await self.checks_hook()
        issues: list[Issue] = validate(self.coordinator.state, self.coordinator.breakers, checks)
        return admin_pb2.ValidateStateResponse(issues=[
            admin_pb2.StateIssue(severity=i.severity, component=i.component, workspace=i.workspace,
                                 host=i.host, issue=i.issue) for i in issues])

    async def ListBreakers(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ListBreakersRequest, ctx: CallContext
    ) -> admin_pb2.ListBreakersResponse:
        board = self.coordinator.breakers
        names = set(board.breakers) | {workspace_component(ws) for ws in self.coordinator.state.configs}
        return admin_pb2.ListBreakersResponse(
            breakers=[breaker_to_pb(breaker_json(board, c)) for c in sorted(names)])

    async def ResetBreaker(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ResetBreakerRequest, ctx: CallContext
    ) -> admin_pb2.ResetBreakerResponse:
        component = request.component
        if not component:
            raise errors.InvalidArgument("component is required (workspace/<name>, agent/<host> or a workspace)")
        if "/" not in component:
            component = workspace_component(component)
        board = self.coordinator.breakers
        if component not in board.breakers:
            if component.removeprefix("workspace/") in self.coordinator.state.configs:
                board.get(component)
            else:
                raise errors.NotFound(f"no breaker {component!r} (see `mcpfleet breakers list`)")
        self.coordinator.reset_breaker(component)
        log.info("breaker %s reset by %s", component, ctx.peer)
        return admin_pb2.ResetBreakerResponse(breaker=breaker_to_pb(breaker_json(board, component)))
