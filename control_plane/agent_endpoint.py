"""gRPC AgentService: one bidi stream per agent; status up, assignments down.

Protocol: the agent's first message is `hello` (host id, address, port range, version and a full
snapshot of its workers); then `status` changes, `heartbeat`s, `ack`s of assignment generations
and `log_chunk`s, each with a growing `seq`. We answer the hello with the host's full desired
set and send a new full set whenever it changes; we acknowledge every `status` by its seq
(`status_ack`: the agent resends unacknowledged ones) and forward `logs` requests of
`mcpfleet logs` (LogBroker). A stream silent for `heartbeat_ttl_seconds` is closed. Messages
from one side are sent by several tasks, so sends go through one lock per stream.
"""

from __future__ import annotations

import logging

import trio

from control_plane.check_broker import CheckBroker, CheckRequest, CheckResult
from control_plane.coordinator import Coordinator, Mailbox
from control_plane.log_broker import LogBroker, LogChunk, LogRequest
from mcpfleet import errors
from mcpfleet.convert import assignments_to_pb, hello_from_pb, worker_from_pb
from mcpfleet.rpc import CallContext, ServiceBinding, Stream
from mcpfleet.v1 import agent_pb2, agent_pb2_grpc

log = logging.getLogger(__name__)


class _Sender:
    """Serializes sends on one stream and numbers them (`seq` grows by one per message)."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.seq = 0
        self.lock = trio.Lock()

    async def send(self, **body: object) -> None:
        async with self.lock:
            self.seq += 1
            await self.stream.send(agent_pb2.ControlMessage(seq=self.seq, **body))  # type: ignore[arg-type]


class AgentEndpoint:
    """Trio servicer for mcpfleet.v1.AgentService."""

    def __init__(self, coordinator: Coordinator, heartbeat_ttl_seconds: float,
                 logs: LogBroker | None = None, checks: CheckBroker | None = None) -> None:
        self.coordinator = coordinator
        self.heartbeat_ttl_seconds = heartbeat_ttl_seconds
        self.logs = logs or LogBroker()
        self.checks = checks or CheckBroker()

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
        sender = _Sender(stream)
        mailbox = self.coordinator.attach_agent(hello)
        requests = self.logs.attach(hello.host_id)
        check_requests = self.checks.attach(hello.host_id)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._send_assignments, sender, mailbox)
                nursery.start_soon(self._send_log_requests, sender, requests)
                nursery.start_soon(self._send_check_requests, sender, check_requests)
                await self._receive(stream, sender, hello.host_id)
                nursery.cancel_scope.cancel()
        finally:
            self.checks.detach(hello.host_id, check_requests)
            self.logs.detach(hello.host_id, requests)
            self.coordinator.detach_agent(hello.host_id, mailbox)

    async def _receive(self, stream: Stream, sender: _Sender, host_id: str) -> None:
        while True:
            with trio.move_on_after(self.heartbeat_ttl_seconds) as scope:
                try:
                    msg = await stream.receive()
                except trio.EndOfChannel:
                    return
            if scope.cancelled_caught:
                log.warning("agent %s missed its heartbeats; closing its stream", host_id)
                return
            self.coordinator.state.agent_seen(host_id, self.coordinator.clock())
            kind = msg.WhichOneof("body")
            if kind == "status":
                self.coordinator.worker_reported(host_id, worker_from_pb(msg.status.worker))
                await sender.send(status_ack=agent_pb2.StatusAck(seq=msg.seq))
            elif kind == "check_result":
                r = msg.check_result
                self.checks.deliver(CheckResult(r.request_id, tuple(r.alive_pids),
                                                tuple((p.port, p.ours) for p in r.listening), r.error))
            elif kind == "heartbeat":
                await sender.send(heartbeat=agent_pb2.Heartbeat())
            elif kind == "log_chunk":
                c = msg.log_chunk
                self.logs.deliver(LogChunk(c.request_id, c.data, c.eof, c.error))
            elif kind == "ack":
                log.debug("agent %s applied generation %d", host_id, msg.ack.generation)

    async def _send_assignments(self, sender: _Sender, mailbox: Mailbox) -> None:
        while True:
            assignment_set = await mailbox.get()
            await sender.send(assignments=assignments_to_pb(assignment_set))

    async def _send_log_requests(self, sender: _Sender,
                                 requests: trio.MemoryReceiveChannel[LogRequest]) -> None:
        async for r in requests:
            await sender.send(logs=agent_pb2.LogsRequest(
                request_id=r.request_id, workspace=r.workspace, tail_lines=r.tail_lines,
                follow=r.follow, cancel=r.cancel))

    async def _send_check_requests(self, sender: _Sender,
                                   requests: trio.MemoryReceiveChannel[CheckRequest]) -> None:
        async for r in requests:
            await sender.send(check=agent_pb2.CheckRequest(request_id=r.request_id, pids=r.pids, ports=r.ports))
