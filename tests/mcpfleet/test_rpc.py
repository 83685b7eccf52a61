"""mcpfleet.rpc: the trio <-> grpc.aio bridge, against real servers on 127.0.0.1:0."""

from __future__ import annotations

import threading
import time
from contextlib import asynccontextmanager
from functools import partial

import grpc
import pytest
import trio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mcpfleet import errors
from mcpfleet.rpc import Bridge, CallContext, ServiceBinding, Stream, from_grpc_error, open_bridge
from mcpfleet.v1 import admin_pb2, admin_pb2_grpc, agent_pb2, agent_pb2_grpc, routing_pb2, routing_pb2_grpc

ADMIN = "mcpfleet.v1.AdminService"
AGENT = "mcpfleet.v1.AgentService"
ROUTING = "mcpfleet.v1.RoutingService"


class Admin:
    """ListWorkspaces answers one workspace, after `delay` seconds, or raises `error`."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.error: BaseException | None = None
        self.started = trio.Event()
        self.cancelled = trio.Event()
        self.contexts: list[CallContext] = []

    async def ListWorkspaces(self, request: admin_pb2.ListWorkspacesRequest, ctx: CallContext):
        self.contexts.append(ctx)
        self.started.set()
        if self.error is not None:
            raise self.error
        try:
            await trio.sleep(self.delay)
        except trio.Cancelled:
            self.cancelled.set()
            raise
        return admin_pb2.ListWorkspacesResponse(workspaces=[admin_pb2.WorkspaceSummary(name="demo", port=7)])


class Agent:
    """Connect echoes each message's seq; a hello pushes `hello.port_max` messages seq 1..n, and
    then, if its version is "park", waits without reading."""

    def __init__(self) -> None:
        self.started = trio.Event()
        self.ended: BaseException | None = None
        self.done = trio.Event()
        self.contexts: list[CallContext] = []

    async def Connect(self, stream: Stream, ctx: CallContext) -> None:
        self.contexts.append(ctx)
        self.started.set()
        try:
            async for msg in stream:
                if msg.HasField("hello"):
                    for seq in range(1, msg.hello.port_max + 1):
                        await stream.send(agent_pb2.ControlMessage(seq=seq))
                    if msg.hello.version == "park":
                        await trio.sleep_forever()
                else:
                    await stream.send(agent_pb2.ControlMessage(seq=msg.seq))
        except BaseException as exc:
            self.ended = exc
            raise
        finally:
            self.done.set()


class Routing:
    async def Resolve(self, request: routing_pb2.ResolveRequest, ctx: CallContext):
        return routing_pb2.ResolveResponse(route=routing_pb2.Route(workspace=request.workspace, port=9))


@asynccontextmanager
async def fleet(*, tokens=None, grace=1.0):
    admin, agent = Admin(), Agent()
    async with open_bridge() as bridge:
        server = await bridge.serve("127.0.0.1:0", [
            ServiceBinding(admin_pb2_grpc.add_AdminServiceServicer_to_server, ADMIN, admin),
            ServiceBinding(agent_pb2_grpc.add_AgentServiceServicer_to_server, AGENT, agent),
            ServiceBinding(routing_pb2_grpc.add_RoutingServiceServicer_to_server, ROUTING, Routing()),
        ], tokens=tokens, grace=grace)
        yield bridge, server, admin, agent


async def list_workspaces(bridge: Bridge, port: int, *, token: str | None = None, timeout: float = 5.0):
    channel = await bridge.channel(f"127.0.0.1:{port}", token=token)
    try:
        return await channel.unary(admin_pb2_grpc.AdminServiceStub, "ListWorkspaces",
                                   admin_pb2.ListWorkspacesRequest(), timeout=timeout)
    finally:
        await channel.close()


async def test_unary_round_trip():
    async with fleet() as (bridge, server, admin, _):
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        await channel.wait_ready(5)
        reply = await channel.unary(admin_pb2_grpc.AdminServiceStub, "ListWorkspaces",
                                    admin_pb2.ListWorkspacesRequest(), timeout=5)
        assert [(w.name, w.port) for w in reply.workspaces] == [("demo", 7)]
        routed = await channel.unary(routing_pb2_grpc.RoutingServiceStub, "Resolve",
                                     routing_pb2.ResolveRequest(workspace="ws1"), timeout=5)
        assert (routed.route.workspace, routed.route.port) == ("ws1", 9)
        ctx = admin.contexts[0]
        assert ctx.peer.startswith("ipv4:127.0.0.1:")
        assert ctx.deadline_seconds is not None and 4 < ctx.deadline_seconds < 5.5


async def test_bidi_many_messages_both_directions_in_order():
    async with fleet() as (bridge, server, _, agent):
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
            # Server -> client: 1,000 messages pushed while the client is not reading (windows fill up).
            await stream.send(agent_pb2.AgentMessage(seq=0, hello=agent_pb2.AgentHello(port_max=1000)))
            await trio.sleep(0.2)
            assert [(await stream.receive()).seq for _ in range(1000)] == list(range(1, 1001))

            # Both ways at once: 2,000 echoes.
            got: list[int] = []

            async def reader() -> None:
                async for msg in stream:
                    got.append(msg.seq)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(reader)
                for seq in range(1, 2001):
                    await stream.send(agent_pb2.AgentMessage(seq=seq, heartbeat=agent_pb2.Heartbeat()))
                await stream.done_writing()
            assert got == list(range(1, 2001))  # then EndOfChannel: the handler returned OK
            with pytest.raises(trio.EndOfChannel):
                await stream.receive()
        assert agent.ended is None
        assert agent.contexts[0].deadline_seconds is None


async def test_deadline_exceeded_cancels_the_handler():
    async with fleet() as (bridge, server, admin, _):
        admin.delay = 10
        start = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded):
            await list_workspaces(bridge, server.port, timeout=0.3)
        assert time.monotonic() - start < 1.5
        with trio.fail_after(1):
            await admin.cancelled.wait()


async def test_client_cancellation_cancels_the_handler():
    async with fleet() as (bridge, server, admin, _):
        admin.delay = 10
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        with trio.move_on_after(5) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(partial(channel.unary, admin_pb2_grpc.AdminServiceStub, "ListWorkspaces",
                                           admin_pb2.ListWorkspacesRequest(), timeout=30))
                await admin.started.wait()
                nursery.cancel_scope.cancel()
            cancelled_at = time.monotonic()
            await admin.cancelled.wait()
            assert time.monotonic() - cancelled_at < 1
        assert not scope.cancelled_caught


async def test_client_going_away_mid_stream_cancels_the_handler():
    async with fleet() as (bridge, server, _, agent):
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
            await stream.send(agent_pb2.AgentMessage(hello=agent_pb2.AgentHello(port_max=1, version="park")))
            assert (await stream.receive()).seq == 1
        with trio.fail_after(1):
            await agent.done.wait()
        assert isinstance(agent.ended, trio.Cancelled)


async def test_server_stopping_mid_stream_fails_the_clients_receive():
    async with fleet() as (bridge, server, _, agent):
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
            await stream.send(agent_pb2.AgentMessage(seq=1))
            assert (await stream.receive()).seq == 1
            start = time.monotonic()
            with trio.fail_after(1):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(server.stop)
                    with pytest.raises(errors.Unavailable):
                        await stream.receive()
            assert time.monotonic() - start < 1
            with pytest.raises(errors.Unavailable):
                await stream.send(agent_pb2.AgentMessage(seq=2))
        assert isinstance(agent.ended, trio.Cancelled)


@pytest.mark.parametrize(("error_cls", "code"), [
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
])
async def test_error_mapping(error_cls, code):
    async with fleet() as (bridge, server, admin, _):
        admin.error = error_cls("no workspace named 'x'")
        with pytest.raises(error_cls) as caught:
            await list_workspaces(bridge, server.port)
        assert type(caught.value) is error_cls
        assert str(caught.value) == "no workspace named 'x'"

        async def raw_call():  # what a plain gRPC client sees on the wire
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
            try:
                await admin_pb2_grpc.AdminServiceStub(channel).ListWorkspaces(
                    admin_pb2.ListWorkspacesRequest(), timeout=5)
            except grpc.aio.AioRpcError as err:
                return err.code(), err.details()
            finally:
                await channel.close()

        assert await bridge.run(raw_call) == (code, "no workspace named 'x'")


@pytest.mark.parametrize(("code", "error_cls"), [
    (grpc.StatusCode.CANCELLED, errors.Unavailable),
    (grpc.StatusCode.UNKNOWN, errors.Internal),
    (grpc.StatusCode.UNIMPLEMENTED, errors.Internal),
    (grpc.StatusCode.NOT_FOUND, errors.NotFound),
])
def test_error_mapping_from_other_status_codes(code, error_cls):
    err = from_grpc_error(grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "why"))
    assert type(err) is error_cls
    assert "why" in str(err)
    assert from_grpc_error(ValueError("not grpc")) is None


async def test_unexpected_exception_is_internal_and_server_survives(caplog):
    async with fleet() as (bridge, server, admin, _):
        admin.error = ZeroDivisionError("secret detail")
        with pytest.raises(errors.Internal) as caught:
            await list_workspaces(bridge, server.port)
        assert "secret detail" not in str(caught.value)
        assert "ZeroDivisionError" in caplog.text  # the traceback is logged
        admin.error = None
        assert (await list_workspaces(bridge, server.port)).workspaces[0].name == "demo"


async def test_error_alone_in_an_exception_group_is_mapped():
    async with fleet() as (bridge, server, admin, _):
        admin.error = ExceptionGroup("from a nursery", [errors.FailedPrecondition("not placed yet")])
        with pytest.raises(errors.FailedPrecondition, match="not placed yet"):
            await list_workspaces(bridge, server.port)


async def test_unreachable_peer_is_unavailable():
    async with fleet() as (bridge, server, _, _agent):
        port = server.port
        await server.stop()
        channel = await bridge.channel(f"127.0.0.1:{port}")
        with pytest.raises(errors.Unavailable):
            await channel.wait_ready(0.3)
        with pytest.raises(errors.Unavailable):
            await channel.unary(admin_pb2_grpc.AdminServiceStub, "ListWorkspaces",
                                admin_pb2.ListWorkspacesRequest(), timeout=2)
        async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
            with pytest.raises(errors.Unavailable):
                await stream.receive()


async def test_stop_lets_a_running_unary_call_finish_within_grace():
    async with fleet(grace=2) as (bridge, server, admin, _):
        admin.delay = 0.3
        async with trio.open_nursery() as nursery:
            nursery.start_soon(list_workspaces, bridge, server.port)
            await admin.started.wait()
            await server.stop()
        assert not admin.cancelled.is_set()
        with pytest.raises(errors.Unavailable):  # new calls are refused
            await list_workspaces(bridge, server.port)


async def test_auth_tokens_per_service():
    async with fleet(tokens={ADMIN: "s3cret", AGENT: "agent-token"}) as (bridge, server, _, _agent):
        with pytest.raises(errors.Unauthenticated):
            await list_workspaces(bridge, server.port)
        with pytest.raises(errors.Unauthenticated):
            await list_workspaces(bridge, server.port, token="wrong")
        assert (await list_workspaces(bridge, server.port, token="s3cret")).workspaces[0].name == "demo"

        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        routed = await channel.unary(routing_pb2_grpc.RoutingServiceStub, "Resolve",
                                     routing_pb2.ResolveRequest(workspace="open"), timeout=5)
        assert routed.route.workspace == "open"
        async with channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect") as stream:
            with pytest.raises(errors.Unauthenticated):
                await stream.receive()


async def test_health_service_serving():
    async with fleet() as (bridge, server, _, _agent):
        channel = await bridge.channel(f"127.0.0.1:{server.port}")
        for service in ("", ADMIN, AGENT, ROUTING):
            reply = await channel.unary(health_pb2_grpc.HealthStub, "Check",
                                        health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
        with pytest.raises(errors.NotFound):
            await channel.unary(health_pb2_grpc.HealthStub, "Check",
                                health_pb2.HealthCheckRequest(service="no.Such"), timeout=5)


async def test_shutdown_with_an_open_stream_is_fast_and_leaves_no_threads():
    before = threading.active_count()
    async with open_bridge() as client_bridge:
        async with fleet(grace=3) as (_, server, _, agent):  # in the wrong order it takes >= 3 s
            channel = await client_bridge.channel(f"127.0.0.1:{server.port}")
            bidi = channel.bidi(agent_pb2_grpc.AgentServiceStub, "Connect")
            stream = await bidi.__aenter__()  # left open on purpose until both bridges closed
            await stream.send(agent_pb2.AgentMessage(seq=1))
            assert (await stream.receive()).seq == 1
            assert threading.active_count() > before
            start = time.monotonic()
        assert time.monotonic() - start < 2
        assert agent.done.is_set()
        with pytest.raises(errors.Unavailable):
            await stream.receive()
        other = await client_bridge.channel(f"127.0.0.1:{server.port}")
        other_bidi = other.bidi(agent_pb2_grpc.AgentServiceStub, "Connect", wait_for_ready=True)
        open_stream = await other_bidi.__aenter__()
        start = time.monotonic()
    assert time.monotonic() - start < 2
    assert threading.active_count() == before, threading.enumerate()
    with pytest.raises(errors.Unavailable):
        await open_stream.receive()
    await other_bidi.__aexit__(None, None, None)
    await bidi.__aexit__(None, None, None)
