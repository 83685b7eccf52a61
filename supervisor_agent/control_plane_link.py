"""The agent's stream to the control plane (AgentService.Connect), kept up forever.

On every (re)connect: send hello with a full snapshot of the workers; then apply each
AssignmentSet received (acknowledging its generation), send worker changes as they happen
(latest value per workspace) and resend those the control plane has not acknowledged
(`status_ack` by seq) within `resend_after` seconds, send a heartbeat every interval the control
plane gives, and answer `logs` requests with `log_chunk`s read from the worker's log file. A
broken stream is retried with jittered backoff; the workers keep running meanwhile (static
stability). Sends from several tasks go through one lock; `seq` grows by one per message.
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
from mcpfleet.workspace import NAME_RE
from supervisor_agent.log_reader import read_log
from supervisor_agent.process_checks import check_host
from supervisor_agent.worker_pool import WorkerPool

log = logging.getLogger(__name__)


class ControlPlaneLink:
    """Owns the connection loop; `run` never returns until cancelled."""

    def __init__(self, bridge: Bridge, target: str, pool: WorkerPool, host_id: str, address: str,
                 port_min: int, port_max: int, token: str | None = None,
                 reconnect_max: float = 10.0, resend_after: float = 10.0) -> None:
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
        self._send_lock = trio.Lock()
        self._unacked: dict[str, tuple[int, float]] = {}  # workspace -> (seq, sent at) until acked
        self._log_scopes: dict[str, trio.CancelScope] = {}
        self.resend_after = resend_after
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

    async def _send(self, stream: Stream, **body: object) -> int:
        """Send one message with the next `seq` (one sender at a time); returns the seq."""
        async with self._send_lock:
            self._seq += 1
            await stream.send(agent_pb2.AgentMessage(seq=self._seq, **body))  # type: ignore[arg-type]
            return self._seq

    async def _session(self) -> None:
        channel = await self.bridge.channel(self.target, token=self.token)
        self._send_lock = trio.Lock()
        self._unacked.clear()
        try:
            async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
                hello = AgentHello(self.host_id, self.address, *self.port_range, __version__,
                                   self.pool.snapshot())
                await self._send(stream, hello=hello_to_pb(hello))
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._send_changes, stream)
                    nursery.start_soon(self._heartbeats, stream)
                    nursery.start_soon(self._resend_unacked)
                    await self._receive(stream, nursery)
                    nursery.cancel_scope.cancel()
        finally:
            for scope in self._log_scopes.values():
                scope.cancel()
            await channel.close()

    async def _receive(self, stream: Stream, nursery: trio.Nursery) -> None:
        while True:
            silent_limit = max(3 * self._heartbeat_interval, 3.0)
            with trio.move_on_after(silent_limit) as scope:
                try:
                    msg = await stream.receive()
                except trio.EndOfChannel:
                    break
            if scope.cancelled_caught:
                raise errors.Unavailable(f"no message from the control plane for {silent_limit:g} s "
                                         "(heartbeats unanswered)")
            kind = msg.WhichOneof("body")
            if kind == "status_ack":
                self._unacked = {ws: (seq, t) for ws, (seq, t) in self._unacked.items()
                                 if seq > msg.status_ack.seq}
            elif kind == "logs":
                self._on_logs_request(stream, nursery, msg.logs)
            elif kind == "check":
                nursery.start_soon(self._serve_check, stream, msg.check)
            elif kind == "assignments":
                await self._on_assignments(stream, msg.assignments)
        raise errors.Unavailable("control plane closed the stream")

    async def _on_assignments(self, stream: Stream, pb: agent_pb2.Assignments) -> None:
        desired = assignments_from_pb(pb)
        self._heartbeat_interval = desired.heartbeat_interval_seconds or self._heartbeat_interval
        if not self._got_assignments:
            log.info("connected to control plane %s (boot %s)", self.target, desired.boot_id)
            self.connected.set()
        self._got_assignments = True
        await self.pool.apply(desired)
        ack = agent_pb2.AssignmentsAck(boot_id=desired.boot_id, generation=desired.generation)
        await self._send(stream, ack=ack)

    async def _send_changes(self, stream: Stream) -> None:
        """Send each changed worker's latest state; remember it until the control plane acks."""
        while True:
            await self.pool.changed.wait()
            for state in self.pool.take_changes():
                update = agent_pb2.WorkerStatusUpdate(worker=worker_to_pb(state))
                seq = await self._send(stream, status=update)
                self._unacked[state.workspace] = (seq, trio.current_time())

    async def _resend_unacked(self) -> None:
        """Mark changes unacknowledged for `resend_after` seconds changed again (latest state
        is what gets resent: coalesced)."""
        while True:
            await trio.sleep(self.resend_after / 2)
            cutoff = trio.current_time() - self.resend_after
            stale = [ws for ws, (_, sent) in self._unacked.items() if sent < cutoff]
            if stale:
                log.info("resending unacknowledged status of %s", ", ".join(sorted(stale)))
                self.pool.mark_changed(stale)

    async def _heartbeats(self, stream: Stream) -> None:
        while True:
            await trio.sleep(self._heartbeat_interval)
            await self._send(stream, heartbeat=agent_pb2.Heartbeat())

    async def _serve_check(self, stream: Stream, req: agent_pb2.CheckRequest) -> None:
        """Answer a `state validate` check: which pids are alive, which ports are held and by whom."""
        worker_pids = [w.pid for w in self.pool.states.values() if w.pid]
        result = agent_pb2.CheckResult(request_id=req.request_id)
        try:
            alive, held = await trio.to_thread.run_sync(
                check_host, list(req.pids), list(req.ports), worker_pids, self.pool.bind_host)
        except Exception as err:  # never let a check end the link
            log.exception("host check %s failed", req.request_id)
            result.error = f"{type(err).__name__}: {err}"
        else:
            result.alive_pids.extend(alive)
            result.listening.extend(agent_pb2.PortHolder(port=p, ours=o) for p, o in held)
        await self._send(stream, check_result=result)

    def _on_logs_request(self, stream: Stream, nursery: trio.Nursery, req: agent_pb2.LogsRequest) -> None:
        if req.cancel:
            scope = self._log_scopes.pop(req.request_id, None)
            if scope is not None:
                scope.cancel()
            return
        scope = trio.CancelScope()
        self._log_scopes[req.request_id] = scope
        nursery.start_soon(self._serve_logs, stream, req, scope)

    async def _serve_logs(self, stream: Stream, req: agent_pb2.LogsRequest, scope: trio.CancelScope) -> None:
        """Stream one workspace's log file for a control-plane request, then an eof chunk."""
        path = self.pool.log_path(req.workspace)
        error = ""
        try:
            if not NAME_RE.match(req.workspace):
                raise FileNotFoundError(req.workspace)
            with scope:
                async for data in read_log(path, req.tail_lines, req.follow):
                    await self._send(stream, log_chunk=agent_pb2.LogChunk(
                        request_id=req.request_id, data=data))
        except FileNotFoundError:
            error = f"no log for workspace {req.workspace!r} on host {self.host_id}"
        except OSError as err:
            error = f"reading {path}: {err}"
        finally:
            self._log_scopes.pop(req.request_id, None)
        if not scope.cancelled_caught:
            await self._send(stream, log_chunk=agent_pb2.LogChunk(
                request_id=req.request_id, eof=True, error=error))
