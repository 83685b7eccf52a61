"""The agent's link protocol against a scripted AgentService (real gRPC on loopback, port 0).

Unacknowledged worker statuses are resent (latest value, coalesced); acknowledged ones are not;
a control plane that stops answering heartbeats is left and reconnected to.
"""

from __future__ import annotations

from pathlib import Path

import trio

from mcpfleet.model import AssignmentSet, WorkerState
from mcpfleet.rpc import CallContext, ServiceBinding, Stream, open_bridge
from mcpfleet.v1 import agent_pb2, agent_pb2_grpc
from supervisor_agent.control_plane_link import ControlPlaneLink


class FakePool:
    """What the link needs of a WorkerPool: one worker `w` whose state changed once."""

    def __init__(self) -> None:
        self.states = {"w": WorkerState("w", 40000, pid=1)}
        self.dirty = {"w"}
        self.changed = trio.Event()
        self.changed.set()

    def snapshot(self) -> tuple[WorkerState, ...]:
        return ()

    def take_changes(self) -> list[WorkerState]:
        out = [self.states[w] for w in sorted(self.dirty)]
        self.dirty.clear()
        self.changed = trio.Event()
        return out

    def mark_changed(self, workspaces: list[str]) -> None:
        self.dirty.update(workspaces)
        self.changed.set()

    async def apply(self, desired: AssignmentSet) -> bool:
        return True

    def log_path(self, workspace: str) -> Path:
        return Path("/nonexistent") / workspace


class ScriptedControlPlane:
    def __init__(self, ack: bool, answer_heartbeats: bool = True) -> None:
        self.ack = ack
        self.answer_heartbeats = answer_heartbeats
        self.statuses: list[int] = []
        self.connects = 0

    async def Connect(self, stream: Stream, ctx: CallContext) -> None:  # noqa: N802
        self.connects += 1
        assert (await stream.receive()).WhichOneof("body") == "hello"
        await stream.send(agent_pb2.ControlMessage(seq=1, assignments=agent_pb2.Assignments(
            boot_id="b", generation=1, heartbeat_interval_seconds=0.2)))
        async for msg in stream:
            kind = msg.WhichOneof("body")
            if kind == "status":
                self.statuses.append(msg.seq)
                if self.ack:
                    await stream.send(agent_pb2.ControlMessage(status_ack=agent_pb2.StatusAck(seq=msg.seq)))
            elif kind == "heartbeat" and self.answer_heartbeats:
                await stream.send(agent_pb2.ControlMessage(heartbeat=agent_pb2.Heartbeat()))


async def run_link(cp: ScriptedControlPlane, seconds: float) -> None:
    async with open_bridge() as bridge:
        server = await bridge.serve("127.0.0.1:0", [ServiceBinding(
            agent_pb2_grpc.add_AgentServiceServicer_to_server, "mcpfleet.v1.AgentService", cp)])
        link = ControlPlaneLink(bridge, f"127.0.0.1:{server.port}", FakePool(), "h", "127.0.0.1",  # type: ignore[arg-type]
                                40000, 40009, reconnect_max=0.5, resend_after=0.5)
        with trio.move_on_after(seconds):
            await link.run()


async def test_unacknowledged_status_is_resent_with_growing_seq() -> None:
    cp = ScriptedControlPlane(ack=False)
    await run_link(cp, 2.5)
    assert len(cp.statuses) >= 3, cp.statuses
    assert cp.statuses == sorted(set(cp.statuses))


async def test_acknowledged_status_is_sent_once() -> None:
    cp = ScriptedControlPlane(ack=True)
    await run_link(cp, 2.5)
    assert len(cp.statuses) == 1, cp.statuses


async def test_unanswered_heartbeats_make_the_agent_reconnect() -> None:
    cp = ScriptedControlPlane(ack=True, answer_heartbeats=False)
    await run_link(cp, 5.0)  # silent for 3 x 0.2 s, but at least 3 s; then a jittered reconnect
    assert cp.connects >= 2
