"""gRPC AgentService: one bidi stream per agent; status up, assignments down.

Protocol: the agent's first message is `hello` (host id, address, port range, version and a full
snapshot of its workers); then `status` changes, `heartbeat`s and `ack`s of assignment
generations, each with a growing `seq`. We answer the hello with the host's full desired set and
send a new full set whenever it changes. A stream silent for `heartbeat_ttl_seconds` is closed.
"""

from __future__ import annotations

import logging

import trio

from control_plane.coordinator import Coordinator, Mailbox
from mcpfleet import errors
from mcpfleet.convert import assignments_to_pb, hello_from_pb, worker_from_pb
from mcpfleet.rpc import CallContext, ServiceBinding, Stream
from mcpfleet.v1 import agent_pb2, agent_pb2_grpc

log = logging.getLogger(__name__)


class AgentEndpoint:
    """Trio servicer for mcpfleet.v1.AgentService."""

    def __init__(self, coordinator: Coordinator, heartbeat_ttl_seconds: float) -> None:
        self.coordinator = coordinator
        self.heartbeat_ttl_seconds = heartbeat_ttl_seconds

    def binding(self) -> ServiceBinding:
        return ServiceBinding(
            agent_pb2_grpc.add_AgentServiceServicer_to_server, "mcpfleet.v1.AgentService", self
        )

    async def Connect(self, stream: Stream, ctx: CallContext) -> None:  # noqa: N802 (gRPC name)
        with trio.move_on_after(self.heartbeat_ttl_seconds) as scope:
            first = await stream.receive()
        if scope.cancelled_caught:
            raise errors.DeadlineExceeded("no hello from agent")
        if first.WhichOneof("body") != "hello":
            raise errors.InvalidArgument("the first message on AgentService.Connect must be hello")
        hello = hello_from_pb(first.hello)
        if not hello.host_id:
            raise errors.InvalidArgument("hello.host_id is required")
        mailbox = self.coordinator.attach_agent(hello)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._send_assignments, stream, mailbox)
                await self._receive(stream, hello.host_id)
                nursery.cancel_scope.cancel()
        finally:
            self.coordinator.detach_agent(hello.host_id, mailbox)

    async def _receive(self, stream: Stream, host_id: str) -> None:
        while True:
            with trio.move_on_after(self.heartbeat_ttl_seconds) as scope:
                try:
                    msg = await stream.receive()
                except trio.EndOfChannel:
                    return
            if scope.cancelled_caught:
                log.warning("agent %s missed its heartbeats; closing its stream", host_id)
                return
            kind = msg.WhichOneof("body")
            if kind == "status":
                self.coordinator.worker_reported(host_id, worker_from_pb(msg.status.worker))
            elif kind == "ack":
                log.debug("agent %s applied generation %d", host_id, msg.ack.generation)

    async def _send_assignments(self, stream: Stream, mailbox: Mailbox) -> None:
        seq = 0
        while True:
            assignment_set = await mailbox.get()
            seq += 1
            await stream.send(
                agent_pb2.ControlMessage(seq=seq, assignments=assignments_to_pb(assignment_set))
            )
