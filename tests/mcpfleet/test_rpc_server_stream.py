"""mcpfleet.rpc server-streaming (unary-stream) calls, against a real server on 127.0.0.1:0."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

import pytest
import trio

from mcpfleet import errors
from mcpfleet.rpc import CallContext, ServiceBinding, Stream, open_bridge
from mcpfleet.v1 import admin_pb2, admin_pb2_grpc

ADMIN = "mcpfleet.v1.AdminService"


class Watcher:
    """WatchEvents sends `request.recent` events (seq 1..n), then: returns if workspace == "end",
    raises NotFound if "fail", else parks until cancelled."""

    def __init__(self) -> None:
        self.started = trio.Event()
        self.done = trio.Event()
        self.ended: BaseException | None = None

    async def WatchEvents(self, request: admin_pb2.WatchEventsRequest, stream: Stream, ctx: CallContext) -> None:
        self.started.set()
        try:
            for seq in range(1, request.recent + 1):
                await stream.send(admin_pb2.WatchEventsResponse(event=admin_pb2.FleetEvent(seq=seq)))
            if request.workspace == "end":
                return
            if request.workspace == "fail":
                raise errors.NotFound("no such thing")
            await trio.sleep_forever()
        except BaseException as exc:
            self.ended = exc
            raise
        finally:
            self.done.set()


@asynccontextmanager
async def serving():
    watcher = Watcher()
    async with open_bridge() as bridge:
        server = await bridge.serve("127.0.0.1:0", [
            ServiceBinding(admin_pb2_grpc.add_AdminServiceServicer_to_server, ADMIN, watcher)])
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        yield channel, server, watcher


def watch(channel, workspace: str, recent: int, timeout: float | None = None):
    return channel.server_stream(admin_pb2_grpc.AdminServiceStub, "WatchEvents",
                                 admin_pb2.WatchEventsRequest(workspace=workspace, recent=recent),
                                 timeout=timeout)


async def test_many_messages_in_order_then_clean_end():
    async with serving() as (channel, _, watcher):
        async with watch(channel, "end", 2000) as stream:
            await trio.sleep(0.2)  # the server runs ahead into its window while we do not read
            got = [msg.event.seq async for msg in stream]
            with pytest.raises(trio.EndOfChannel):
                await stream.receive()
            with pytest.raises(errors.FailedPrecondition):
                await stream.send(admin_pb2.WatchEventsResponse())
        assert got == list(range(1, 2001))
        assert watcher.ended is None


async def test_handler_error_arrives_after_the_messages_sent_before_it():
    async with serving() as (channel, _, _watcher):
        async with watch(channel, "fail", 3) as stream:
            assert [(await stream.receive()).event.seq for _ in range(3)] == [1, 2, 3]
            with pytest.raises(errors.NotFound, match="no such thing"):
                await stream.receive()


async def test_client_leaving_the_block_cancels_the_handler():
    async with serving() as (channel, _, watcher):
        async with watch(channel, "", 1) as stream:
            assert (await stream.receive()).event.seq == 1
        left = time.monotonic()
        with trio.fail_after(1):
            await watcher.done.wait()
        assert isinstance(watcher.ended, trio.Cancelled)
        assert time.monotonic() - left < 1


async def test_client_scope_cancelled_while_waiting_cancels_the_handler():
    async with serving() as (channel, _, watcher):
        with trio.move_on_after(0.3):
            async with watch(channel, "", 0) as stream:
                await stream.receive()
        with trio.fail_after(1):
            await watcher.done.wait()
        assert isinstance(watcher.ended, trio.Cancelled)


async def test_deadline_ends_the_call_and_the_handler():
    async with serving() as (channel, _, watcher):
        async with watch(channel, "", 1, timeout=0.5) as stream:
            assert (await stream.receive()).event.seq == 1
            with trio.fail_after(2), pytest.raises(errors.DeadlineExceeded):
                await stream.receive()
        with trio.fail_after(1):
            await watcher.done.wait()


async def test_server_going_away_fails_the_clients_receive_and_cancels_the_handler():
    async with serving() as (channel, server, watcher):
        async with watch(channel, "", 1) as stream:
            assert (await stream.receive()).event.seq == 1
            start = time.monotonic()
            with trio.fail_after(2):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(server.stop)
                    with pytest.raises(errors.Unavailable):
                        await stream.receive()
            assert time.monotonic() - start < 1
        assert isinstance(watcher.ended, trio.Cancelled)


async def test_unreachable_server_is_unavailable():
    async with open_bridge() as bridge:
        with trio.socket.socket() as sock:
            await sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        channel = await bridge.channel(f"127.0.0.1:{port}")
        with trio.fail_after(3), pytest.raises(errors.Unavailable):
            async with watch(channel, "", 1) as stream:
                await stream.receive()
