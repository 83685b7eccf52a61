"""One client session proxied to a worker over ONE held-open upstream legacy-SSE session.

Both client transports (legacy HTTP+SSE and Streamable HTTP) end here, so the behaviour lives in
one place:
- client request ids are mapped to edge ids per upstream session (`pending.PendingTable`), and
  answers go only to the session (and the POST) that asked;
- each request has a timeout (the workspace's `fleet.requestTimeoutSeconds`): on expiry the client
  gets a JSON-RPC error and the worker `notifications/cancelled`;
- when the upstream stream ends (the worker died or restarts), requests in flight get a JSON-RPC
  error at once, the client gets `workspace/statusChanged` plus a `notifications/message`, and the
  session re-opens the upstream (replaying the client's `initialize`) when the workspace runs
  again; the client never reconnects;
- messages for the client's stream wait in a bounded queue; a client that does not read is
  disconnected with a reason instead of growing memory.

`run()` is the session's supervisor task (started in the edge's nursery with `nursery.start`).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import trio

from mcpfleet.errors import NotFound, Unavailable
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import Route
from sse_edge.pending import (
    JSONRPC_TIMEOUT,
    JSONRPC_UNAVAILABLE,
    Pending,
    PendingTable,
    cancelled_notification,
    error_response,
)
from sse_edge.upstream import UpstreamError, UpstreamSession, open_upstream, post_message

log = logging.getLogger(__name__)

_RESPONSE_HEAD = re.compile(r'\{"jsonrpc":"2\.0","id":"(e[0-9]+)","(?:result|error)":')
"""How the MCP SDK serialises an answer to one of the edge's ids (pydantic field order)."""
RECONNECT_MIN_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 2.0


def status_messages(route: Route, now_utc: datetime) -> list[dict[str, Any]]:
    """`workspace/statusChanged` and the equivalent `notifications/message` for `route`
    (ARCHITECTURE section 4); `now_utc` is the timestamp (UTC, RFC 3339 in the message)."""
    stamp = now_utc.astimezone(UTC).isoformat().replace("+00:00", "Z")
    params = {"workspace": route.workspace, "status": route.status, "health": route.health,
              "breaker": route.breaker, "timestamp": stamp}
    level = "info" if route.status == "running" else (
        "warning" if route.status in ("starting", "stopping") else "error")
    return [
        {"jsonrpc": "2.0", "method": "workspace/statusChanged", "params": params},
        {"jsonrpc": "2.0", "method": "notifications/message",
         "params": {"level": level, "logger": "mcp-fleet",
                    "data": {"event": "workspace/statusChanged", **params,
                             "message": f"workspace {route.workspace} is {route.status}"}}},
    ]


@dataclass
class _Waiter:
    """A POST (Streamable HTTP) waiting for the answer to one of its requests."""

    done: trio.Event = field(default_factory=trio.Event)
    answer: str | None = None  # JSON text


RouteSource = Callable[[str, bool], Awaitable[Route]]
"""`await route_source(workspace, fresh)`: the workspace's route; `fresh` bypasses caches."""


class ProxySession:
    """A client session and its upstream. Create, then `await nursery.start(session.run)`
    (raises UpstreamError when the first upstream cannot be opened)."""

    def __init__(
        self, session_id: str, workspace: str, route: Route, *, route_source: RouteSource,
        queue_size: int = 256, streaming_client: bool = True,
    ) -> None:
        self.session_id = session_id
        self.workspace = workspace
        self.route = route
        self.route_source = route_source
        self.streaming_client = streaming_client  # legacy SSE: the client always has a stream
        self.pending = PendingTable()
        self.waiters: dict[str, _Waiter] = {}
        self.init_message: dict[str, Any] | None = None
        self.upstream: UpstreamSession | None = None
        self.upstream_ready = trio.Event()
        self.closed = trio.Event()
        self.close_reason = ""
        self.stream_attached = False
        self.tools_version = route.config_version  # config version the client's tool list is from
        self.transport = "sse" if streaming_client else "streamable-http"
        self.active_requests = 0
        self.connected_at = datetime.now(UTC)
        self.last_activity = self.connected_at
        self.client_info: dict[str, Any] = {}
        self.on_client_info: Callable[[], None] | None = None  # called when initialize names the client
        self._out_send, self.outbox = trio.open_memory_channel[str](queue_size)
        self._scope = trio.CancelScope()
        self._expiry = trio.CancelScope()  # the expiry loop's sleep; its deadline is the next expiry
        self._internal_answered = trio.Event()  # the answer to the edge's replayed initialize came
        self._announced: tuple[str, str, str] = (route.status, route.health, route.breaker)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self, reason: str) -> None:
        """End the session now (sync, idempotent): the supervisor task stops, the client's
        stream ends after the queued messages, waiting POSTs get an error."""
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._scope.cancel()
        self._out_send.close()
        for edge_id, waiter in list(self.waiters.items()):
            waiter.answer = _text(error_response(None, JSONRPC_UNAVAILABLE, f"session closed: {reason}"))
            waiter.done.set()
            self.waiters.pop(edge_id, None)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Supervise the session until `close()`: open the upstream, pump its messages, on its
        end fail what is in flight and reconnect. The first open's failure raises UpstreamError
        to the starter."""
        started = False
        with self._scope:
            try:
                async with trio.open_nursery() as nursery:
                    upstream = await open_upstream(nursery, self.route.base_url + "/sse", self._from_upstream)
                    self._set_upstream(upstream)
                    nursery.start_soon(self._expire_loop)
                    task_status.started()
                    started = True
                    while True:
                        await upstream.ended.wait()
                        self._upstream_lost(upstream.end_reason or "upstream stream ended")
                        upstream = await self._reconnect(nursery)
            except BaseExceptionGroup as group:
                first = group.exceptions[0] if len(group.exceptions) == 1 else None
                if not started and isinstance(first, UpstreamError):
                    raise first from None
                raise
            finally:
                if not self.closed.is_set():
                    self.close("edge stopped the session")

    def _set_upstream(self, upstream: UpstreamSession) -> None:
        self.upstream = upstream
        self.upstream_ready.set()

    def _from_upstream(self, data: str) -> None:
        head = _RESPONSE_HEAD.match(data)
        if head is not None:  # the worker's own shape for an answer: swap the id without parsing it all
            quoted = slice(head.start(1) - 1, head.end(1) + 1)
            self._answered(head.group(1), lambda cid: data[:quoted.start] + _text(cid) + data[quoted.stop:])
            return
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("workspace %s: worker sent invalid JSON; dropped", self.workspace)
            return
        if isinstance(message, dict) and "method" not in message and "id" in message:
            self._answered(message["id"], lambda cid: _text(dict(message, id=cid)))
            return
        self.to_client(data)

    def _answered(self, edge_id: Any, with_client_id: Callable[[Any], str]) -> None:
        """Route the worker's answer to request `edge_id` (JSON text from `with_client_id(client id)`)
        to the POST waiting for it or to the client's stream; an unknown id is dropped."""
        pending = self.pending.pop(edge_id)
        if pending is None:
            return  # expired or never ours: the client already had its answer
        self.active_requests = max(0, self.active_requests - 1)
        if pending.internal:
            self._internal_answered.set()
            return
        answer = with_client_id(pending.client_id)
        waiter = self.waiters.pop(pending.edge_id, None)
        if waiter is not None:
            waiter.answer = answer
            waiter.done.set()
            return
        self.to_client(answer)

    def to_client(self, message: dict[str, Any] | str) -> None:
        """Queue one message (a dict, or JSON text) for the client's stream. A full queue: a
        legacy-SSE client is disconnected (it does not read); a Streamable HTTP client without an
        open GET stream loses the notification (it chose not to listen)."""
        if self.closed.is_set():
            return
        data = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        try:
            self._out_send.send_nowait(data)
        except trio.WouldBlock:
            if self.streaming_client or self.stream_attached:
                log.warning("workspace %s session %s: client does not read; disconnecting",
                            self.workspace, self.session_id[:12])
                self.close("client too slow: event queue full")
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def announce(self, route: Route) -> None:
        """Tell the client the workspace's state (`workspace/statusChanged` and a
        `notifications/message`), unless it was the last thing announced."""
        key = (route.status, route.health, route.breaker)
        if key == self._announced:
            return
        self._announced = key
        for m in status_messages(route, datetime.now(UTC)):
            self.to_client(m)

    def tools_changed(self, version: str) -> None:
        """Tell the client its tool list may have changed (the workspace's config did)."""
        self.tools_version = version
        self.to_client({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})

    def _upstream_lost(self, reason: str) -> None:
        self.upstream = None
        self.upstream_ready = trio.Event()
        for pending in self.pending.drain():
            self._answer_error(pending, JSONRPC_UNAVAILABLE,
                               f"workspace {self.workspace} worker went away ({reason})")
        log.warning("workspace %s session %s: upstream lost (%s)", self.workspace, self.session_id[:12], reason)

    async def _reconnect(self, nursery: trio.Nursery) -> UpstreamSession:
        delay = RECONNECT_MIN_SECONDS
        first = True
        while True:
            route: Route | None = None
            try:
                with trio.fail_after(2.0):
                    route = await self.route_source(self.workspace, True)
            except NotFound:
                self.close(f"workspace {self.workspace} no longer exists")
                await trio.sleep_forever()
            except (Unavailable, trio.TooSlowError):
                route = None
            if route is None or (first and route.status == "running"):
                # The worker just died; the control plane does not know yet (or is away).
                # Its agent restarts it: say `starting` until the route says otherwise.
                base = route or self.route
                self.announce(replace(base, status=Status.STARTING, health=Health.UNHEALTHY))
            else:
                self.announce(route)
            first = False
            target = route or self.route
            if target.status in ("running", "starting") and target.port > 0:
                try:
                    upstream = await open_upstream(nursery, target.base_url + "/sse", self._from_upstream,
                                                   timeout=2.0)
                    await self._replay_initialize(upstream)
                except (UpstreamError, trio.TooSlowError) as err:
                    log.debug("reconnect %s: %s", self.workspace, err)
                else:
                    moved = (target.address, target.port) != (self.route.address, self.route.port)
                    self.route = target
                    healthy = target.health if target.status == Status.RUNNING else Health.HEALTHY
                    self.announce(replace(target, status=Status.RUNNING, health=healthy))
                    if moved or target.config_version != self.tools_version:
                        self.tools_changed(target.config_version)
                    self._set_upstream(upstream)
                    log.info("workspace %s session %s: upstream re-opened", self.workspace, self.session_id[:12])
                    return upstream
            await trio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _replay_initialize(self, upstream: UpstreamSession) -> None:
        """Re-run the client's handshake on a fresh upstream session, swallowing the answers."""
        if self.init_message is None:
            return
        pending = self.pending.add(None, "initialize", trio.current_time(), 5.0, internal=True)
        self._internal_answered = trio.Event()
        message = dict(self.init_message, id=pending.edge_id)
        with trio.fail_after(5.0):
            answer = await post_message(upstream, _dump(message))
            if answer.status_code >= 300:
                raise UpstreamError(f"replayed initialize refused: HTTP {answer.status_code}")
            async with trio.open_nursery() as nursery:  # the answer, or the upstream ending first
                async def stop_when(event: trio.Event) -> None:
                    await event.wait()
                    nursery.cancel_scope.cancel()
                nursery.start_soon(stop_when, self._internal_answered)
                nursery.start_soon(stop_when, upstream.ended)
            if not self._internal_answered.is_set():
                raise UpstreamError("upstream ended during the replayed initialize")
            await post_message(upstream, _dump({"jsonrpc": "2.0", "method": "notifications/initialized"}))

    # -- timeouts ----------------------------------------------------------------------------

    async def _expire_loop(self) -> None:
        # Sleeps in `_expiry` until the earliest deadline; `forward` moves that scope's deadline
        # earlier when it adds an earlier one (no task switch per request).
        while True:
            deadline = self.pending.next_deadline()
            with trio.CancelScope(deadline=math.inf if deadline is None else deadline) as self._expiry:
                await trio.sleep_forever()
            for pending in self.pending.expire(trio.current_time()):
                seconds = pending.deadline - pending.started_at
                if pending.internal:
                    continue
                self._answer_error(pending, JSONRPC_TIMEOUT,
                                   f"request {pending.method} timed out after {seconds:g} s")
                upstream = self.upstream
                if upstream is not None:
                    body = _dump(cancelled_notification(pending.edge_id, f"timed out after {seconds:g} s"))
                    with trio.move_on_after(2.0):
                        try:
                            await post_message(upstream, body)
                        except UpstreamError:
                            pass

    def _answer_error(self, pending: Pending, code: int, message: str) -> None:
        self.active_requests = max(0, self.active_requests - 1)
        if pending.internal:
            return
        answer = _text(error_response(pending.client_id, code, message))
        waiter = self.waiters.pop(pending.edge_id, None)
        if waiter is not None:
            waiter.answer = answer
            waiter.done.set()
        else:
            self.to_client(answer)

    # -- from the client ------------------------------------------------------------------------

    async def forward(self, message: dict[str, Any], kind: str, *, wait: bool) -> str | None:
        """Send one client message upstream. `kind` is from `pending.classify`. A request is
        tracked under a fresh edge id; with `wait` (Streamable HTTP) its answer (or the edge's
        JSON-RPC error) is returned as JSON text, else the answer goes to the client's stream. While the
        upstream is re-opening, the message waits (bounded by the request's timeout). Raises
        UpstreamError when the worker refuses or cannot be reached."""
        self.last_activity = datetime.now(UTC)
        waiter: _Waiter | None = None
        pending: Pending | None = None
        if kind == "request":
            method = str(message["method"])
            if method == "initialize":
                self.init_message = message
                params = message.get("params")
                if isinstance(params, dict) and isinstance(params.get("clientInfo"), dict):
                    self.client_info = params["clientInfo"]
                    if self.on_client_info is not None:
                        self.on_client_info()
            pending = self.pending.add(message["id"], method, trio.current_time(),
                                       self.route.request_timeout_seconds)
            self.active_requests += 1
            if pending.deadline < self._expiry.deadline:
                self._expiry.deadline = pending.deadline
            message = dict(message, id=pending.edge_id)
            if wait:
                waiter = _Waiter()
                self.waiters[pending.edge_id] = waiter
        elif kind == "notification" and message.get("method") == "notifications/cancelled":
            params = message.get("params")
            target = self.pending.find_client_id(params.get("requestId")) if isinstance(params, dict) else None
            if target is None:
                return None
            message = dict(message, params=dict(params or {}, requestId=target.edge_id))
        upstream = self.upstream
        if upstream is None:
            deadline = pending.deadline if pending else trio.current_time() + self.route.request_timeout_seconds
            with trio.move_on_at(deadline):
                await self.upstream_ready.wait()
            upstream = self.upstream
            if upstream is None or (pending is not None and pending.edge_id not in self.pending):
                if waiter is not None:
                    await waiter.done.wait()
                    return waiter.answer
                return None
        try:
            answer = await post_message(upstream, _dump(message))
        except UpstreamError:
            if pending is not None and self.pending.pop(pending.edge_id) is not None:
                self._answer_error(pending, JSONRPC_UNAVAILABLE, f"workspace {self.workspace} worker unreachable")
            raise
        if answer.status_code >= 300 and pending is not None and self.pending.pop(pending.edge_id) is not None:
            self._answer_error(pending, -32603, f"worker refused the message: HTTP {answer.status_code}")
        if waiter is None:
            return None
        await waiter.done.wait()
        return waiter.answer


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _dump(message: dict[str, Any]) -> bytes:
    return _text(message).encode()
