"""Bidi streams between trio and grpc.aio: the message pipes of `mcpfleet.rpc` (import from there).

One `Stream` joins a grpc.aio call (client side: the call object; server side: the servicer
context, both offer `read()`/`write()`) living on the bridge's asyncio loop with a trio task.

- Inbound: one long-lived asyncio read-pump task per stream reads from gRPC and hands each message
  to trio with one `TrioToken.run_sync_soon` hop into a trio buffer of at most `WINDOW` (256)
  messages. When that buffer is full the pump stops reading until trio has drained it to half;
  gRPC's HTTP/2 flow control then pushes back on the peer. Nothing is dropped.
- Outbound: `send()` hands the message to the loop with one `call_soon_threadsafe` hop into a
  queue drained by one long-lived writer coroutine. At most `WINDOW` messages may be queued and not
  yet written; past that `send()` waits (backpressure), it never buffers without bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import trio
from google.protobuf.message import Message
from grpc.aio import EOF

from mcpfleet import errors

WINDOW = 256


class Hub(Protocol):
    """What a stream needs from the bridge (implemented by `mcpfleet.rpc.Bridge`)."""

    def to_trio(self, fn: Callable[..., object], *args: Any) -> None: ...

    def to_loop(self, fn: Callable[..., object], *args: Any) -> bool: ...

    def fleet_error(self, exc: BaseException) -> errors.FleetError | None: ...


class _Window:
    """Messages in flight from a producer thread to a consumer thread, at most `size` of them.

    The producer calls `try_take(waker)`; when no slot is free, `waker` is parked and called once,
    from the consumer's thread, when the consumer has drained to half.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waker: Callable[[], None] | None = None

    def try_take(self, waker: Callable[[], None]) -> bool:
        with self._lock:
            if self._in_flight < self._size:
                self._in_flight += 1
                return True
            self._waker = waker
            return False

    def give_back(self) -> None:
        with self._lock:
            self._in_flight -= 1
            waker = self._waker
            if waker is None or self._in_flight > self._size // 2:
                return
            self._waker = None
        waker()


class Finished:
    """Server side: the trio handler ended with `outcome` (queued behind its last message)."""

    __slots__ = ("outcome",)

    def __init__(self, outcome: object) -> None:
        self.outcome = outcome


_DONE_WRITING = object()  # client side: half-close, queued behind the last message
BROKEN = object()  # `_write_pump` result when a write failed


class Stream:
    """Both sides of one bidi-streaming call, as seen from trio (one task per direction at a time).

    `receive()` raises `trio.EndOfChannel` after the peer half-closed cleanly (client side: the
    server ended the call with OK), or the mapped `errors.FleetError` once the call broke (a peer
    going away and CANCELLED are `errors.Unavailable`); messages already received come first.
    `send()` raises the same error once the call is gone. A server-side handler is, in addition,
    cancelled when its client goes away (see `mcpfleet.rpc_server`).
    grpc.aio limitation: when a server ends a call OK while its client is still sending, a client
    write racing the end rewrites the call's status to INTERNAL ("Internal error from Core"), so
    the client may see errors.Internal instead of EndOfChannel. Half-close first, or end with an error.
    """

    def __init__(self, hub: Hub, *, client: bool) -> None:
        self._hub = hub
        self._client = client
        self._inbox_send, self._inbox = trio.open_memory_channel[Message](WINDOW)
        self._in = _Window(WINDOW)
        self._out = _Window(WINDOW)
        self._recv_error: errors.FleetError | None = None
        self._inbound_ended = False
        self._send_error: errors.FleetError | None = None
        self._done_writing = False
        self._send_wakeup: trio.Event | None = None
        # Hand-over queues: appended on one thread, drained on the other by one scheduled callback
        # (at most one hop per message; fewer under load). The flags say a drain is scheduled.
        self._out_pending: deque[object] = deque()
        self._out_scheduled = False
        self._in_pending: deque[Message] = deque()
        self._in_scheduled = False
        # Loop side (touched only on the asyncio loop).
        self._rw: Any = None
        self._outbox: asyncio.Queue[object] = asyncio.Queue()
        self._reader_resume: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    # ---- trio side -------------------------------------------------------------------------

    async def send(self, msg: Message) -> None:
        """Queue `msg` for sending; waits while `WINDOW` messages are queued and unwritten.

        Raises the mapped `errors.FleetError` (usually `errors.Unavailable`) once the call is gone,
        `trio.ClosedResourceError` after `done_writing()`.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        self._check_can_send()
        while not self._out.try_take(self._credit_waker):
            self._send_wakeup = wakeup = trio.Event()
            await wakeup.wait()
            self._check_can_send()
        if not self._push_out(msg):
            self._check_can_send()
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def receive(self) -> Message:
        """Next message. Raises `trio.EndOfChannel` on a clean end, the mapped FleetError if it broke."""
        try:
            msg = await self._inbox.receive()
        except trio.EndOfChannel:
            if self._recv_error is not None:
                raise type(self._recv_error)(str(self._recv_error)) from None
            raise
        self._in.give_back()
        return msg

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    async def done_writing(self) -> None:
        """Client side only: half-close after the messages already sent (RuntimeError on a server stream)."""
        if not self._client:
            raise RuntimeError("done_writing() is for client streams; a server stream ends with its handler")
        await trio.lowlevel.checkpoint()
        if not self._done_writing:
            self._check_can_send()
            self._done_writing = True
            self._push_out(_DONE_WRITING)

    def _check_can_send(self) -> None:
        if self._send_error is not None:
            raise type(self._send_error)(str(self._send_error))
        if self._done_writing:
            raise trio.ClosedResourceError("done_writing() was called on this stream")

    def _push_out(self, item: object) -> bool:
        """Queue `item` for the loop's writer, in order. False (and the stream ends) if the loop is closed."""
        self._out_pending.append(item)
        if self._out_scheduled:
            return True
        self._out_scheduled = True
        if self._hub.to_loop(self._drain_out):
            return True
        self._end(errors.Unavailable("the gRPC bridge is closed"), True)
        return False

    def _drain_in(self) -> None:
        self._in_scheduled = False  # before draining: a message appended later schedules a new drain
        while self._in_pending:
            self._deliver(self._in_pending.popleft())

    def _credit_waker(self) -> None:  # called on the loop
        self._hub.to_trio(self._wake_sender)

    def _wake_sender(self) -> None:
        if self._send_wakeup is not None:
            self._send_wakeup.set()

    def _deliver(self, msg: Message) -> None:
        try:
            self._inbox_send.send_nowait(msg)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # the trio side closed the stream: drop

    def _end(self, err: errors.FleetError | None, sending_too: bool) -> None:
        """No more inbound messages: EndOfChannel if `err` is None, else `err` after the buffered ones."""
        self._drain_in()
        if not self._inbound_ended:
            self._inbound_ended = True
            self._recv_error = err
        if sending_too and self._send_error is None:
            self._send_error = err or errors.Unavailable("the stream has ended")
        self._inbox_send.close()
        self._wake_sender()

    def _end_sending(self, err: errors.FleetError) -> None:
        """Receive-only stream (server-streaming client): every `send()` raises `err`."""
        self._send_error = err

    def _fail_send(self, err: errors.FleetError) -> None:
        """A write failed: sending is over; receiving ends when the read pump sees the call end."""
        if self._send_error is None:
            self._send_error = err
        self._wake_sender()

    def _close_trio_side(self) -> None:
        self._end(errors.Unavailable("the stream is closed"), True)
        self._inbox.close()

    # ---- loop side -------------------------------------------------------------------------

    def _start(self, rw: Any, *, writer: bool, reader: bool = True) -> None:
        """On the loop: attach the call/context and start the pump tasks (`reader=False`: a
        server-streaming handler's stream, which has nothing to read: receive() ends at once)."""
        self._rw = rw
        loop = asyncio.get_running_loop()
        if reader:
            self._tasks.append(loop.create_task(self._read_pump(rw)))
        else:
            self._hub.to_trio(self._end, None, False)
        if writer:
            self._tasks.append(loop.create_task(self._write_pump(rw)))

    async def _stop(self) -> None:
        """On the loop: cancel the pumps (and a client call still open) and wait for them."""
        rw, self._rw = self._rw, None  # first: grpc.aio objects must not outlive the bridge
        tasks, self._tasks = self._tasks, []
        if self._client and rw is not None:
            rw.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _loop_error(self, exc: BaseException) -> errors.FleetError:
        if isinstance(exc, asyncio.CancelledError):
            return errors.Unavailable("the stream was cancelled")
        if isinstance(exc, asyncio.InvalidStateError):
            return errors.Unavailable("the stream has ended")
        mapped = self._hub.fleet_error(exc)
        return mapped if mapped is not None else errors.Unavailable(f"the stream broke: {exc!r}")

    def _drain_out(self) -> None:
        self._out_scheduled = False  # before draining: an item appended later schedules a new drain
        while self._out_pending:
            self._outbox.put_nowait(self._out_pending.popleft())

    def _resume_reader(self) -> None:
        if self._reader_resume is not None and not self._reader_resume.done():
            self._reader_resume.set_result(None)

    def _reader_waker(self) -> None:  # called on the trio thread
        self._hub.to_loop(self._resume_reader)

    async def _read_pump(self, rw: Any) -> None:
        err: errors.FleetError | None = None
        try:
            while True:
                while not self._in.try_take(self._reader_waker):
                    self._reader_resume = asyncio.get_running_loop().create_future()
                    await self._reader_resume
                msg = await rw.read()
                if msg is EOF:
                    break
                self._in_pending.append(msg)
                if not self._in_scheduled:
                    self._in_scheduled = True
                    self._hub.to_trio(self._drain_in)
        except BaseException as exc:
            err = self._loop_error(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            # Client: a clean EOF means the server ended the call OK, so sending is over too.
            self._hub.to_trio(self._end, err, self._client or err is not None)

    async def _write_pump(self, rw: Any) -> object:
        """Write queued messages until a sentinel; return a `Finished` outcome (server) or None."""
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, Finished):
                    return item.outcome
                if item is _DONE_WRITING:
                    await rw.done_writing()
                    return None
                if self._client and rw.done():
                    # Writing into a finished call makes grpc.aio rewrite its status to INTERNAL.
                    raise asyncio.InvalidStateError("the call has ended")
                await rw.write(item)
                self._out.give_back()
        except Exception as exc:
            self._hub.to_trio(self._fail_send, self._loop_error(exc))
            return BROKEN

