"""Server side of `mcpfleet.rpc` (import from there): trio servicers behind a grpc.aio server.

A trio servicer is a plain object with, per RPC of its service:
- unary-unary: `async def Method(self, request, ctx: CallContext) -> response`;
- bidi-streaming: `async def Method(self, stream: Stream, ctx: CallContext) -> None`; the server
  ends the call with OK when it returns;
- server-streaming (unary-stream): `async def Method(self, request, stream: Stream, ctx: CallContext)
  -> None`; it writes with `await stream.send(msg)` (backpressure as for bidi) and the call ends
  with OK when it returns; `stream.receive()` ends at once (EndOfChannel).
Methods the object lacks answer UNIMPLEMENTED. Handlers run in trio, in the bridge's nursery.

A handler (unary or bidi) is cancelled (trio.Cancelled) when its client cancels, disconnects or
passes its deadline, and when its server stops; after that its stream's `send()`/`receive()` raise
`errors.Unavailable` (for cleanup under a shield). Note: gRPC reports a client that goes away to
the server's reader as a half-close first, so a bidi handler's `receive()` may raise
`trio.EndOfChannel` just before the cancellation arrives.
A handler raising an `errors.FleetError` (alone, or as the only exception in an exception group)
ends the call with the mapped status and `str(err)` as details; any other exception is logged with
its traceback and becomes INTERNAL.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import grpc
import trio
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from mcpfleet import errors
from mcpfleet.rpc_streams import BROKEN, Finished, Stream

if TYPE_CHECKING:
    from mcpfleet.rpc import Bridge

log = logging.getLogger(__name__)

SERVER_OPTIONS = (
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_pings_without_data", 0),
)


@dataclass(frozen=True)
class ServiceBinding:
    """One service to serve: the generated `add_..._to_server`, its full name, and a trio servicer."""

    add_to_server: Callable[[Any, Any], None]
    service_name: str
    handler: object


@dataclass(frozen=True)
class CallContext:
    """What a trio handler learns about its call. `deadline_seconds`: time left, None if no deadline.

    `metadata` holds the text metadata the client sent, minus `authorization`.
    """

    peer: str
    metadata: Mapping[str, str]
    deadline_seconds: float | None


class _Cancelled:
    """Outcome of a handler that was cancelled (its server or the bridge is stopping)."""


_CANCELLED = _Cancelled()


class _Job:
    """One trio handler run started from the loop. `cancel()` runs on the trio thread."""

    def __init__(self, name: str, fn: Callable[[], Awaitable[object]], deliver: Callable[[object], object],
                 *, stream: bool) -> None:
        self.name = name
        self.fn = fn
        self.deliver = deliver  # called on the trio thread with the outcome; hops to the loop
        self.stream = stream
        self.scope: trio.CancelScope | None = None
        self.cancel_requested = False

    def cancel(self) -> None:
        self.cancel_requested = True
        if self.scope is not None:
            self.scope.cancel()


def _call_context(context: Any) -> CallContext:
    metadata = {k: v for k, v in (context.invocation_metadata() or ())
                if isinstance(v, str) and k != "authorization"}
    remaining = context.time_remaining()
    return CallContext(peer=context.peer(), metadata=metadata,
                       deadline_seconds=None if remaining is None or remaining > 1e9 else max(0.0, remaining))


class _AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Requires `authorization: Bearer <token>` on every call to the services in `tokens`."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._expected = {service: f"Bearer {token}".encode() for service, token in tokens.items()}

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = await continuation(details)
        service = details.method.strip("/").split("/")[0]
        expected = self._expected.get(service)
        if handler is None or expected is None:
            return handler
        got = dict(details.invocation_metadata or ()).get("authorization", "")
        if isinstance(got, str) and hmac.compare_digest(got.encode(), expected):
            return handler

        async def deny(_request: Any, context: Any) -> None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                f"a valid bearer token is required for {service}")

        make = {(False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler}
        return make[(handler.request_streaming, handler.response_streaming)](
            deny, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)


class GrpcServer:
    """A running grpc.aio server serving trio servicers. `port` is the bound port."""

    def __init__(self, bridge: Bridge, bind: str, services: Sequence[ServiceBinding],
                 tokens: Mapping[str, str] | None, grace: float) -> None:
        self.port = 0
        self._bridge = bridge
        self._bind = bind
        self._services = list(services)
        self._tokens = dict(tokens or {})
        self._grace = grace
        self._jobs: set[_Job] = set()
        self._jobs_changed = trio.Event()
        self._closing = False
        self._stopped = trio.Event()
        self._server: Any = None  # grpc.aio.Server, loop only
        self._health: Any = None
        self._servicers = [self._adapt(binding) for binding in self._services]

    # ---- building (trio thread) --------------------------------------------------------------

    def _adapt(self, binding: ServiceBinding) -> SimpleNamespace:
        """A grpc.aio servicer whose methods run `binding.handler`'s methods in trio."""
        try:
            service = descriptor_pool.Default().FindServiceByName(binding.service_name)
        except KeyError:
            raise ValueError(f"unknown gRPC service {binding.service_name!r} (_pb2 not imported?)") from None
        servicer = SimpleNamespace()
        for method in service.methods:
            fn = getattr(binding.handler, method.name, None)
            name = f"{binding.service_name}/{method.name}"
            if fn is None:
                setattr(servicer, method.name, _unimplemented)
            elif not method.client_streaming and not method.server_streaming:
                setattr(servicer, method.name, self._unary(name, fn))
            elif method.client_streaming and method.server_streaming:
                setattr(servicer, method.name, self._bidi(name, fn))
            elif method.server_streaming:
                setattr(servicer, method.name, self._server_stream(name, fn))
            else:
                raise ValueError(f"{name}: client-streaming methods are not supported")
        return servicer

    def _unary(self, name: str, fn: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        bridge = self._bridge

        async def handle(request: Any, context: Any) -> object:
            ctx = _call_context(context)
            done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            job = _Job(name, lambda: fn(request, ctx), partial(bridge.to_loop, _resolve, done), stream=False)
            bridge.to_trio(self._start_job, job)
            try:
                outcome = await done
            except asyncio.CancelledError:
                bridge.to_trio(job.cancel)
                raise
            return await self._finish(context, outcome)

        return handle

    def _bidi(self, name: str, fn: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        return self._streaming(name, lambda _requests, stream, ctx: fn(stream, ctx), reader=True)

    def _server_stream(self, name: str, fn: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        return self._streaming(name, fn, reader=False)

    def _streaming(self, name: str, fn: Callable[..., Awaitable[object]],
                   *, reader: bool) -> Callable[..., Awaitable[object]]:
        """grpc.aio handler for a call whose replies stream: `fn(request_or_iterator, stream, ctx)`."""
        bridge = self._bridge

        async def handle(request: Any, context: Any) -> object:
            ctx = _call_context(context)
            stream = Stream(bridge, client=False)
            # A bidi call's request iterator is a grpc.aio object: keep it out of the trio side
            # (a handler's traceback kept by its caller would keep grpc's poller thread alive).
            message = None if reader else request
            job = _Job(name, lambda: fn(message, stream, ctx), lambda o: stream._push_out(Finished(o)),
                       stream=True)
            stream._start(context, writer=False, reader=reader)
            bridge.to_trio(self._start_job, job)
            try:
                outcome = await stream._write_pump(context)
            except asyncio.CancelledError:  # the client went away (cancel, disconnect, deadline)
                bridge.to_trio(stream._end, errors.Unavailable("the client went away"), True)
                bridge.to_trio(job.cancel)
                raise
            finally:
                await stream._stop()
            if outcome is BROKEN:
                return None
            return await self._finish(context, outcome)

        return handle

    async def _finish(self, context: Any, outcome: object) -> object:
        if isinstance(outcome, _Cancelled):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down")
        if isinstance(outcome, BaseException):
            code, details = self._bridge.grpc_status(outcome)
            await context.abort(code, details)
        return outcome

    # ---- trio side ---------------------------------------------------------------------------

    def _start_job(self, job: _Job) -> None:
        if self._closing:
            job.deliver(_CANCELLED)
            return
        try:
            self._bridge._nursery.start_soon(self._run_job, job, name=job.name)
        except RuntimeError:  # the bridge's nursery is closed
            job.deliver(_CANCELLED)

    async def _run_job(self, job: _Job) -> None:
        self._jobs.add(job)
        outcome: object = _CANCELLED
        try:
            with trio.CancelScope() as job.scope:
                if job.cancel_requested:
                    job.scope.cancel()
                try:
                    outcome = await job.fn()
                except Exception as exc:
                    outcome = _fleet_error(exc)
                    if outcome is None:
                        log.exception("gRPC handler %s failed", job.name)
                        outcome = errors.Internal(f"{job.name} failed: {type(exc).__name__}")
                else:
                    if job.stream:
                        outcome = None
        finally:
            self._jobs.discard(job)
            self._jobs_changed.set()
            job.deliver(outcome)

    async def _wait_jobs(self, timeout: float) -> None:
        with trio.move_on_after(timeout):
            while self._jobs:
                self._jobs_changed = trio.Event()
                await self._jobs_changed.wait()

    async def stop(self) -> None:
        """Stop serving: health turns NOT_SERVING, new calls get UNAVAILABLE, bidi handlers are
        cancelled at once, unary handlers get up to `grace` seconds to finish and are then
        cancelled, then the grpc.aio server stops. Idempotent; shielded from cancellation."""
        if self._closing:
            await self._stopped.wait()
            return
        self._closing = True
        with trio.CancelScope(shield=True):
            try:
                if self._health is not None:
                    with trio.move_on_after(1):
                        await self._bridge.run(self._health.enter_graceful_shutdown)
                for job in list(self._jobs):
                    if job.stream:
                        job.cancel()
                await self._wait_jobs(self._grace)
                for job in list(self._jobs):
                    job.cancel()
                await self._wait_jobs(1.0)
                with trio.move_on_after(self._grace + 2):
                    await self._bridge.run(self._stop_on_loop)
            finally:
                self._stopped.set()
                self._bridge._servers.discard(self)

    # ---- loop side ---------------------------------------------------------------------------

    async def _start_on_loop(self) -> None:
        interceptors = [_AuthInterceptor(self._tokens)] if self._tokens else []
        server = grpc.aio.server(interceptors=interceptors, options=SERVER_OPTIONS)
        for binding, servicer in zip(self._services, self._servicers, strict=True):
            binding.add_to_server(servicer, server)
        health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        names = [b.service_name for b in self._services]
        for service_name in names:
            await health.set(service_name, health_pb2.HealthCheckResponse.SERVING)
        health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        reflection.enable_server_reflection([*names, health_name, reflection.SERVICE_NAME], server)
        try:
            port = server.add_insecure_port(self._bind)
        except RuntimeError as exc:
            raise errors.ResourceExhausted(f"cannot bind the gRPC server to {self._bind}: {exc}") from None
        if not port:
            raise errors.ResourceExhausted(f"cannot bind the gRPC server to {self._bind}")
        try:
            await server.start()
        except BaseException:
            await server.stop(None)
            raise
        self.port, self._server, self._health = port, server, health

    async def _stop_on_loop(self) -> None:
        server, self._server, self._health = self._server, None, None
        if server is not None:
            await server.stop(self._grace)


def _fleet_error(exc: BaseException) -> errors.FleetError | None:
    """`exc` if it is a FleetError, or the only exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, errors.FleetError) else None


def _resolve(fut: asyncio.Future[object], outcome: object) -> None:
    if not fut.done():
        fut.set_result(outcome)


async def _unimplemented(_request: Any, context: Any) -> None:
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, "method not implemented by this server")
