"""AdminService RPCs of the `// -- workspaces` section beyond `ListWorkspaces` (gRPC endpoint).

A mixin of AdminEndpoint (one servicer per gRPC service): `GetWorkspace`, `ApplyWorkspace`,
`DeleteWorkspace`, `Stop|Start|RestartWorkspace`, `WorkspaceHistory`, `RollbackWorkspace`.
Protobuf stays here; the work is done by WorkspaceOps / WorkspaceControl on dataclasses.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from control_plane.workspace_ops import ApplyResult
from mcpfleet.convert import enum_to_pb, ts_to_pb
from mcpfleet.errors import Internal
from mcpfleet.model import Desired
from mcpfleet.rpc import CallContext
from mcpfleet.v1 import admin_pb2
from mcpfleet.workspace import check_name, redact_secrets

if TYPE_CHECKING:
    from control_plane.coordinator import Coordinator
    from control_plane.workspace_control import WorkspaceControl
    from control_plane.workspace_ops import WorkspaceOps


def result_to_pb(r: ApplyResult) -> admin_pb2.ApplyWorkspaceResponse:
    return admin_pb2.ApplyWorkspaceResponse(
        name=r.name, outcome=enum_to_pb("APPLY_OUTCOME", r.outcome), version=r.version,
        previous_version=r.previous_version, reason=r.reason, revision=r.revision,
        started_at=ts_to_pb(r.started_at or None), finished_at=ts_to_pb(r.finished_at or None))


class WorkspaceRpcs:
    """Mixin; the endpoint sets `coordinator`, and `attach_workspaces(ops, control)` the rest."""

    coordinator: Coordinator
    _ops: WorkspaceOps | None = None
    _control: WorkspaceControl | None = None

    def attach_workspaces(self, ops: WorkspaceOps, control: WorkspaceControl) -> None:
        """Give the endpoint the workspace operations (done once by app.py)."""
        self._ops, self._control = ops, control

    def _need(self) -> tuple[WorkspaceOps, WorkspaceControl]:
        if self._ops is None or self._control is None:
            raise Internal("workspace operations are not wired")
        return self._ops, self._control

    async def GetWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.GetWorkspaceRequest, ctx: CallContext
    ) -> admin_pb2.GetWorkspaceResponse:
        from control_plane.admin_endpoint import summary_to_pb

        state = self.coordinator.state
        view = state.view(check_name(request.name))
        entry = state.configs[request.name]
        config_json = ""
        if entry.raw is not None:
            data = json.loads(entry.raw)
            config_json = json.dumps(data if request.show_secrets else redact_secrets(data), indent=2)
        desired = state.desired.get(request.name, Desired.RUNNING)
        return admin_pb2.GetWorkspaceResponse(
            summary=summary_to_pb(view), config_json=config_json,
            desired=enum_to_pb("DESIRED_STATUS", desired),
            restart_count=view.worker.restart_count if view.worker else 0)

    async def ApplyWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ApplyWorkspaceRequest, ctx: CallContext
    ) -> admin_pb2.ApplyWorkspaceResponse:
        ops, _ = self._need()
        return result_to_pb(await ops.apply(request.name, request.content, wait=request.wait))

    async def RollbackWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.RollbackWorkspaceRequest, ctx: CallContext
    ) -> admin_pb2.ApplyWorkspaceResponse:
        ops, _ = self._need()
        return result_to_pb(await ops.rollback(request.name, request.revision, wait=request.wait))

    async def DeleteWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.DeleteWorkspaceRequest, ctx: CallContext
    ) -> admin_pb2.ApplyWorkspaceResponse:
        ops, _ = self._need()
        return result_to_pb(await ops.delete(request.name))

    async def WorkspaceHistory(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.WorkspaceHistoryRequest, ctx: CallContext
    ) -> admin_pb2.WorkspaceHistoryResponse:
        ops, _ = self._need()
        revs = await ops.history.log(check_name(request.name), request.limit or 100)
        return admin_pb2.WorkspaceHistoryResponse(revisions=[
            admin_pb2.Revision(sha=r.sha, time=ts_to_pb(r.time), author=r.author, subject=r.subject)
            for r in revs])

    async def _action(self, verb: str, request: admin_pb2.WorkspaceActionRequest
                      ) -> admin_pb2.WorkspaceActionResponse:
        from control_plane.admin_endpoint import summary_to_pb

        _, control = self._need()
        name = check_name(request.name)
        fn = {"stop": control.stop, "start": control.start, "restart": control.restart}[verb]
        return admin_pb2.WorkspaceActionResponse(summary=summary_to_pb(await fn(name, wait=request.wait)))

    async def StopWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.WorkspaceActionRequest, ctx: CallContext
    ) -> admin_pb2.WorkspaceActionResponse:
        return await self._action("stop", request)

    async def StartWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.WorkspaceActionRequest, ctx: CallContext
    ) -> admin_pb2.WorkspaceActionResponse:
        return await self._action("start", request)

    async def RestartWorkspace(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.WorkspaceActionRequest, ctx: CallContext
    ) -> admin_pb2.WorkspaceActionResponse:
        return await self._action("restart", request)
