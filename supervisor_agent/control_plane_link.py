"""The agent's stream to the control plane (AgentService.Connect), kept up forever.

On every (re)connect: send hello with a full snapshot of the workers; then apply each
AssignmentSet received (acknowledging its generation), send worker changes as they happen
(latest value per workspace), and a heartbeat every interval the control plane gives. A broken
stream is retried with jittered backoff; the workers keep running meanwhile (static stability).
"""

from __future__ import annotations

import logging
import random

import trio

from mcpfleet import __version__, errors
from mcpfleet.backoff import Backoff
from mcpfleet.convert import assignments_from_pb, hello_to_pb, worker_to_pb
from mcpfleet.model import AgentHello
from mcpfleet.rpc import Bridge, Stream
from mcpfleet.v1 import agent_pb2, agent_pb2_grpc
from supervisor_agent.worker_pool import WorkerPool

log = logging.getLogger(__name__)


class ControlPlaneLink:
    """Owns the connection loop; `run` never returns until cancelled."""

    def __init__(self, bridge: Bridge, target: str, pool: WorkerPool, host_id: str, address: str,
                 port_min: int, port_max: int, token: str | None = None,
                 reconnect_max: float = 10.0) -> None:
        self.bridge = bridge
        self.target = target
        self.pool = pool
        self.host_id = host_id
        self.address = address
        self.port_range = (port_min, port_max)
        self.token = token
        self.connected = trio.Event()
        self._seq = 0
        self._heartbeat_interval = 5.0
        self._got_assignments = False
        self.reconnect = Backoff(initial=0.5, maximum=reconnect_max, jitter=0.2, immediate_first=False)

    async def run(self) -> None:
        """Connect, serve the stream, reconnect with jittered backoff; forever. No error of the
        link ever ends the agent: its workers keep running meanwhile (static stability)."""
        attempt = 0
        while True:
            self._got_assignments = False
            try:
                await self._session()
            except (errors.FleetError, trio.EndOfChannel, trio.BrokenResourceError) as err:
                log.warning("control plane link to %s: %s", self.target, err or type(err).__name__)
            except Exception as err:  # groups from the session nursery; never trio.Cancelled
                expected = (errors.FleetError, trio.EndOfChannel, trio.BrokenResourceError)
                if isinstance(err, ExceptionGroup) and err.split(expected)[1] is None:
                    log.warning("control plane link to %s: %s", self.target,
                                "; ".join(str(e) for e in err.exceptions))
                else:
                    log.exception("control plane link to %s failed", self.target)
            if self._got_assignments:
                attempt = 0
            delay = self.reconnect.delay(attempt, random.Random())
            attempt += 1
            await trio.sleep(delay)

    def _next(self, **body: object) -> agent_pb2.AgentMessage:
        self._seq += 1
        return agent_pb2.AgentMessage(seq=self._seq, **body)  # type: ignore[arg-type]

    async def _session(self) -> None:
        channel = await self.bridge.channel(self.target, token=self.token)
        try:
            async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
                hello = AgentHello(self.host_id, self.address, *self.port_range, __version__,
                                   self.pool.snapshot())
                await stream.send(self._next(hello=hello_to_pb(hello)))
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._send_changes, stream)
                    nursery.start_soon(self._heartbeats, stream)
                    await self._receive(stream)
                    nursery.cancel_scope.cancel()
        finally:
            await channel.close()

    async def _receive(self, stream: Stream) -> None:
        async for msg in stream:
            if msg.WhichOneof("body") != "assignments":
                continue
            desired = assignments_from_pb(msg.assignments)
            self._heartbeat_interval = desired.heartbeat_interval_seconds or self._heartbeat_interval
            if not self._got_assignments:
                log.info("connected to control plane %s (boot %s)", self.target, desired.boot_id)
                self.connected.set()
            self._got_assignments = True
            await self.pool.apply(desired)
            ack = agent_pb2.AssignmentsAck(boot_id=desired.boot_id, generation=desired.generation)
            await stream.send(self._next(ack=ack))
        raise errors.Unavailable("control plane closed the stream")

    async def _send_changes(self, stream: Stream) -> None:
        while True:
            await self.pool.changed.wait()
            for state in self.pool.take_changes():
                update = agent_pb2.WorkerStatusUpdate(worker=worker_to_pb(state))
                await stream.send(self._next(status=update))

    async def _heartbeats(self, stream: Stream) -> None:
        while True:
            await trio.sleep(self._heartbeat_interval)
            await stream.send(self._next(heartbeat=agent_pb2.Heartbeat()))
