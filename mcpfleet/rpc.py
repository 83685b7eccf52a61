"""The trio <-> grpcio bridge (ARCHITECTURE section 5): the only door to gRPC for trio code.

grpc.aio runs on ONE asyncio event loop in a daemon thread per process (per `open_bridge`). Every
grpc.aio object (server, channels, calls) is created and used only on that loop; trio objects
only on the trio thread. What crosses the boundary:
- `Bridge.run`: await a coroutine on the loop from trio (cancelling the trio scope cancels it);
- server handlers: started in trio from the loop (`rpc_server`);
- `Stream`: one message pipe each way per bidi call, one cross-thread hop per message
  (`rpc_streams`).
Errors cross as `mcpfleet.errors` classes, mapped to and from gRPC status codes by `_CODES`.

    async with open_bridge() as bridge:
        server = await bridge.serve("127.0.0.1:0", [ServiceBinding(add_fn, "mcpfleet.v1.X", handler)])
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        reply = await channel.unary(XStub, "Method", request, timeout=5)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import grpc
import trio

from mcpfleet import errors
from mcpfleet.rpc_client import Channel
from mcpfleet.rpc_server import CallContext, GrpcServer, ServiceBinding
from mcpfleet.rpc_streams import WINDOW, Stream

__all__ = ["Bridge", "CallContext", "Channel", "GrpcServer", "ServiceBinding", "Stream", "WINDOW",
           "from_grpc_error", "open_bridge", "to_grpc_status"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# The one table: error class <-> gRPC status code, used in both directions.
_CODES: tuple[tuple[type[errors.FleetError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.Internal, grpc.StatusCode.INTERNAL),
)
_TO_CODE = dict(_CODES)
_FROM_CODE = {code: cls for cls, code in _CODES} | {grpc.StatusCode.CANCELLED: errors.Unavailable}


def to_grpc_status(err: BaseException) -> tuple[grpc.StatusCode, str]:
    """Status code and details for an error a handler raised (not a FleetError: INTERNAL)."""
    for cls in type(err).__mro__:
        if cls in _TO_CODE:
            return _TO_CODE[cls], str(err)
    return grpc.StatusCode.INTERNAL, str(err) or type(err).__name__


def from_grpc_error(exc: BaseException) -> errors.FleetError | None:
    """The FleetError for a grpc.RpcError (codes outside the table: Internal); None if not one."""
    if not isinstance(exc, grpc.RpcError) or not hasattr(exc, "code"):
        return None
    code = exc.code()
    details = exc.details() or code.name
    cls = _FROM_CODE.get(code, errors.Internal)
    if cls is errors.Internal and code is not grpc.StatusCode.INTERNAL:
        details = f"{code.name}: {details}"
    return cls(details)


class _Pending:
    """A coroutine started on the loop by `Bridge.run`."""

    __slots__ = ("done", "task", "error")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.task: asyncio.Future[Any] | None = None
        self.error: BaseException | None = None


class Bridge:
    """The asyncio loop thread and everything opened through it. Create with `open_bridge()`."""

    def __init__(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._thread_main, name="mcpfleet-grpc-loop", daemon=True)
        self._thread_done = trio.Event()
        self._nursery: trio.Nursery  # set by open_bridge; trio handlers run here
        self._servers: set[GrpcServer] = set()
        self._channels: set[Channel] = set()
        self._closing = False

    # ---- crossing the boundary ---------------------------------------------------------------

    def to_trio(self, fn: Callable[..., object], *args: Any) -> None:
        """From any thread: run `fn(*args)` soon on the trio thread (errors are logged, not raised)."""
        try:
            self._token.run_sync_soon(_guarded, fn, args)
        except trio.RunFinishedError:
            pass

    def to_loop(self, fn: Callable[..., object], *args: Any) -> bool:
        """From any thread: run `fn(*args)` soon on the loop. False if the loop is closed."""
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            return False
        return True

    def fleet_error(self, exc: BaseException) -> errors.FleetError | None:
        return from_grpc_error(exc)

    def grpc_status(self, err: BaseException) -> tuple[grpc.StatusCode, str]:
        return to_grpc_status(err)

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run coroutine `fn()` on the asyncio loop and return its result in trio.

        Cancelling the trio scope cancels the asyncio task (and so an RPC it awaits), then waits
        up to 5 s for it to end. A grpc.RpcError from `fn` is raised as its mapped FleetError;
        other exceptions as they are. Raises errors.Unavailable if the bridge is closed.
        """
        pending = _Pending()
        if not self.to_loop(self._launch, fn, pending):
            raise errors.Unavailable("the gRPC bridge is closed")
        try:
            await pending.done.wait()
        except BaseException:
            if self.to_loop(_cancel_task, pending):
                with trio.CancelScope(shield=True), trio.move_on_after(5):
                    await pending.done.wait()
            raise
        if pending.task is None:
            assert pending.error is not None
            raise pending.error
        try:
            return pending.task.result()  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            raise errors.Unavailable("the gRPC bridge is shutting down") from None
        except grpc.RpcError as exc:
            mapped = from_grpc_error(exc)
            if mapped is None:
                raise
            raise mapped from None

    def _launch(self, fn: Callable[[], Awaitable[Any]], pending: _Pending) -> None:
        try:
            pending.task = asyncio.ensure_future(fn())
        except BaseException as exc:
            pending.error = exc
            self.to_trio(pending.done.set)
            return
        pending.task.add_done_callback(lambda _task: self.to_trio(pending.done.set))

    # ---- servers and channels ----------------------------------------------------------------

    async def serve(self, bind: str, services: Sequence[ServiceBinding], *,
                    tokens: Mapping[str, str] | None = None, grace: float = 1.0) -> GrpcServer:
        """Start a grpc.aio server on `bind` (e.g. "127.0.0.1:0") serving trio servicers.

        Also serves grpc.health.v1 (every listed service SERVING) and server reflection. Keepalive:
        pings every 10 s, 5 s timeout, client pings permitted every >= 5 s, even without calls.
        `tokens` maps a full service name to the bearer token every call to it must carry as
        `authorization: Bearer <token>` (else UNAUTHENTICATED); unlisted services are open.
        Stopped with `grace` seconds by `await server.stop()` or when the bridge closes.
        Raises ValueError for an unknown service or an unsupported method kind,
        errors.ResourceExhausted if `bind` cannot be bound, errors.Unavailable if the bridge is closed.
        """
        if self._closing:
            raise errors.Unavailable("the gRPC bridge is closed")
        server = GrpcServer(self, bind, services, tokens, grace)
        await self.run(server._start_on_loop)
        self._servers.add(server)
        if self._closing:  # the bridge began closing meanwhile
            await server.stop()
            raise errors.Unavailable("the gRPC bridge is closed")
        return server

    async def channel(self, target: str, *, token: str | None = None) -> Channel:
        """Open an insecure client channel to `target` (keepalive 10 s, timeout 5 s, also without calls).

        With `token`, every call carries `authorization: Bearer <token>`. Closed by
        `await channel.close()` or when the bridge closes. Raises errors.Unavailable if the bridge is closed.
        """
        if self._closing:
            raise errors.Unavailable("the gRPC bridge is closed")
        channel = Channel(self, target, token)
        await self.run(channel._open_on_loop)
        self._channels.add(channel)
        if self._closing:  # the bridge began closing meanwhile
            await channel.close()
            raise errors.Unavailable("the gRPC bridge is closed")
        return channel

    # ---- lifecycle ---------------------------------------------------------------------------

    def _thread_main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            try:
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            finally:
                self._loop.close()
                # grpc.aio's poller thread lives until the last grpc.aio object is freed; cycles
                # through cancelled tasks and tracebacks can hold one: free them now.
                gc.collect()
                self.to_trio(self._thread_done.set)

    async def _close(self) -> None:
        """Stop servers (trio sides of their streams first) and channels, concurrently. Shielded."""
        self._closing = True
        with trio.CancelScope(shield=True):
            async with trio.open_nursery() as nursery:
                for server in list(self._servers):
                    nursery.start_soon(server.stop)
                for channel in list(self._channels):
                    nursery.start_soon(channel.close)

    async def _stop_loop(self) -> None:
        """Cancel what is left on the loop, stop it and join its thread. Shielded."""
        with trio.CancelScope(shield=True):
            try:
                with trio.move_on_after(2):
                    await self.run(_cancel_other_tasks)
            except errors.FleetError:
                pass
            if self.to_loop(self._loop.stop):
                with trio.move_on_after(5):
                    await self._thread_done.wait()
            self._thread.join(timeout=1)


@asynccontextmanager
async def open_bridge() -> AsyncIterator[Bridge]:
    """Start the asyncio loop thread and yield the Bridge.

    On exit: stop every server and channel opened through it (the trio sides of streams first,
    then `server.stop(grace)` on the loop), cancel leftover handlers, stop the loop and join its
    thread (no thread is left behind).
    """
    bridge = Bridge()
    bridge._thread.start()
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            bridge._nursery = nursery
            try:
                yield bridge
            except BaseException as exc:
                body_error = exc
                raise
            finally:
                await bridge._close()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # Handler jobs never raise into the nursery: give the caller its own exception back, unwrapped.
        if body_error is not None and len(group.exceptions) == 1:
            raise body_error from None
        raise
    finally:
        await bridge._stop_loop()


def _guarded(fn: Callable[..., object], args: tuple[Any, ...]) -> None:
    try:
        fn(*args)
    except Exception:  # an exception here would crash trio.run
        log.exception("bridge callback %r failed", fn)


def _cancel_task(pending: _Pending) -> None:
    if pending.task is not None:
        pending.task.cancel()


async def _cancel_other_tasks() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
