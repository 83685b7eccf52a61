"""Client side of `mcpfleet.rpc` (import from there): channels and their calls, run on the bridge's loop.

`Channel.unary` (one request, one reply), `Channel.bidi` (a `Stream` both ways) and
`Channel.server_stream` (one request, a receive-only `Stream` of replies). Cancelling the trio scope
of a call cancels the RPC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import grpc
import trio
from google.protobuf.message import Message

from mcpfleet import errors
from mcpfleet.rpc_streams import Stream

if TYPE_CHECKING:
    from mcpfleet.rpc import Bridge

CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
)


class Channel:
    """A client channel on the bridge's loop. Calls accept any generated stub class."""

    def __init__(self, bridge: Bridge, target: str, token: str | None) -> None:
        self.target = target
        self._bridge = bridge
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None
        self._grpc: Any = None  # grpc.aio.Channel, loop only
        self._stubs: dict[type, Any] = {}  # loop only
        self._streams: set[Stream] = set()
        self._closed = False

    async def _open_on_loop(self) -> None:
        self._grpc = grpc.aio.insecure_channel(self.target, options=CHANNEL_OPTIONS)

    def _stub(self, stub_cls: type) -> Any:
        if self._grpc is None:
            raise errors.Unavailable(f"the channel to {self.target} is closed")
        stub = self._stubs.get(stub_cls)
        if stub is None:
            stub = self._stubs[stub_cls] = stub_cls(self._grpc)
        return stub

    async def unary(self, stub_cls: type, method: str, request: Message, *, timeout: float) -> Message:
        """`stub_cls(channel).<method>(request, timeout=timeout)`, with a gRPC deadline of `timeout` seconds.

        Raises the mapped errors.FleetError (DeadlineExceeded, Unavailable, NotFound, ...).
        Cancelling the trio scope cancels the RPC.
        """

        async def call() -> Message:
            return await getattr(self._stub(stub_cls), method)(  # type: ignore[no-any-return]
                request, timeout=timeout, metadata=self._metadata)

        return await self._bridge.run(call)

    @asynccontextmanager
    async def bidi(self, stub_cls: type, method: str, *,
                   wait_for_ready: bool = False) -> AsyncIterator[Stream]:
        """Open a bidi-streaming call `stub_cls(channel).<method>()` and yield its Stream.

        Exiting the context cancels the call if it is still open. With `wait_for_ready`, the call
        waits for the channel to connect instead of failing fast with UNAVAILABLE.
        """
        stream = Stream(self._bridge, client=True)

        async def open_call() -> None:
            new_call = getattr(self._stub(stub_cls), method)
            call = new_call(metadata=self._metadata, wait_for_ready=wait_for_ready)
            stream._start(call, writer=True)

        async with self._open_stream(stream, open_call):
            yield stream

    @asynccontextmanager
    async def server_stream(self, stub_cls: type, method: str, request: Message, *,
                            timeout: float | None = None,
                            wait_for_ready: bool = False) -> AsyncIterator[Stream]:
        """Start a server-streaming call `stub_cls(channel).<method>(request)`; yield a receive-only Stream.

        Iterate it (or `receive()`): it ends (StopAsyncIteration / trio.EndOfChannel) when the
        server ends the call OK, and raises the mapped errors.FleetError when the call breaks
        (server gone: errors.Unavailable; past `timeout` seconds: errors.DeadlineExceeded).
        Exiting the context cancels the call if it is still open. `send()` on it raises.
        """
        stream = Stream(self._bridge, client=True)
        stream._end_sending(errors.FailedPrecondition("a server-streaming call has no client messages"))

        async def open_call() -> None:
            new_call = getattr(self._stub(stub_cls), method)
            call = new_call(request, timeout=timeout, metadata=self._metadata, wait_for_ready=wait_for_ready)
            stream._start(call, writer=False)

        async with self._open_stream(stream, open_call):
            yield stream

    @asynccontextmanager
    async def _open_stream(self, stream: Stream, open_call: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
        """Start the call on the loop; on exit cancel it if still open (bounded, shielded)."""
        await self._bridge.run(open_call)
        self._streams.add(stream)
        try:
            yield
        finally:
            self._streams.discard(stream)
            stream._close_trio_side()
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                try:
                    await self._bridge.run(stream._stop)
                except errors.FleetError:
                    pass

    async def wait_ready(self, timeout: float, *, fail_fast: bool = False) -> None:
        """Wait up to `timeout` seconds for the channel to be READY (connecting if idle).

        With `fail_fast`, a `host:port` target that refuses a TCP connection raises at once
        instead of waiting out the timeout (the CLI's "unreachable within 2 s"); a target that
        accepts gets the whole timeout to become READY.
        Raises errors.Unavailable on timeout or refusal.
        """
        if fail_fast:
            await self._probe(timeout)

        async def ready() -> None:
            if self._grpc is None:
                raise errors.Unavailable(f"the channel to {self.target} is closed")
            await self._grpc.channel_ready()

        with trio.move_on_after(timeout):
            await self._bridge.run(ready)
            return
        raise errors.Unavailable(f"{self.target} was not ready within {timeout} s")

    async def _probe(self, timeout: float) -> None:
        """Raise errors.Unavailable if `host:port` refuses a TCP connection (other targets: no-op)."""
        host, sep, port = self.target.rpartition(":")
        if not sep or not port.isdigit() or "/" in host:
            return
        with trio.move_on_after(timeout):
            try:
                stream = await trio.open_tcp_stream(host.strip("[]"), int(port))
            except OSError:
                raise errors.Unavailable(f"nothing accepts connections at {self.target}") from None
            await stream.aclose()

    async def close(self) -> None:
        """Close the channel: its streams end (errors.Unavailable), its calls are cancelled. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._bridge._channels.discard(self)
        streams = list(self._streams)
        for stream in streams:
            stream._end(errors.Unavailable(f"the channel to {self.target} is closed"), True)
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            try:
                await self._bridge.run(partial(self._close_on_loop, streams))
            except errors.FleetError:
                pass

    async def _close_on_loop(self, streams: list[Stream]) -> None:
        channel, self._grpc = self._grpc, None
        self._stubs.clear()
        if channel is not None:
            await channel.close()
        for stream in streams:
            await stream._stop()
