"""Routes `mcpfleet logs` requests to the agent that runs the workspace, and its chunks back.

The AdminService.StreamLogs handler opens a request (`open`); the host's AgentService stream
(registered with `attach`) sends it to its agent; the agent's `log_chunk`s come back through
`deliver` into that request's bounded channel. Closing the request sends the agent a cancel.
Protobuf-free: the endpoints convert.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio

from mcpfleet import errors

log = logging.getLogger(__name__)
CHUNK_BUFFER = 256


@dataclass(frozen=True)
class LogRequest:
    """Ask an agent for a workspace's log: last `tail_lines` lines (-1 = all), then `follow`."""

    request_id: str
    workspace: str
    tail_lines: int = 0
    follow: bool = False
    cancel: bool = False


@dataclass(frozen=True)
class LogChunk:
    """Log bytes for one request; `eof` ends it (`error` non-empty if it failed)."""

    request_id: str
    data: bytes = b""
    eof: bool = False
    error: str = ""


class LogBroker:
    """See module docstring. One per control-plane process."""

    def __init__(self) -> None:
        self._hosts: dict[str, trio.MemorySendChannel[LogRequest]] = {}
        self._streams: dict[str, trio.MemoryReceiveChannel[LogRequest]] = {}
        self._requests: dict[str, trio.MemorySendChannel[LogChunk]] = {}

    def attach(self, host_id: str) -> trio.MemoryReceiveChannel[LogRequest]:
        """A host's agent stream is up: the requests it must forward come from the result."""
        send, receive = trio.open_memory_channel[LogRequest](64)
        self._hosts[host_id] = send
        self._streams[host_id] = receive
        return receive

    def detach(self, host_id: str, requests: trio.MemoryReceiveChannel[LogRequest]) -> None:
        """The host's stream ended (a newer stream of the same host keeps its registration)."""
        if self._streams.get(host_id) is requests:
            del self._streams[host_id]
            self._hosts.pop(host_id).close()
        requests.close()

    def deliver(self, chunk: LogChunk) -> None:
        """Hand an agent's chunk to its request (dropped, with a warning, if the reader lags)."""
        channel = self._requests.get(chunk.request_id)
        if channel is None:
            return
        try:
            channel.send_nowait(chunk)
        except trio.WouldBlock:
            log.warning("log request %s: reader too slow; %d bytes dropped", chunk.request_id,
                        len(chunk.data))
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    @asynccontextmanager
    async def open(self, host_id: str, workspace: str, tail_lines: int, follow: bool
                   ) -> AsyncIterator[trio.MemoryReceiveChannel[LogChunk]]:
        """Start a log request to `host_id`'s agent; yields the channel of its chunks.
        Raises errors.Unavailable when that agent is not connected."""
        host = self._hosts.get(host_id)
        if host is None:
            raise errors.Unavailable(f"agent {host_id!r} is not connected")
        request_id = secrets.token_hex(8)
        send, receive = trio.open_memory_channel[LogChunk](CHUNK_BUFFER)
        self._requests[request_id] = send
        try:
            await host.send(LogRequest(request_id, workspace, tail_lines, follow))
            yield receive
        finally:
            del self._requests[request_id]
            send.close()
            current = self._hosts.get(host_id)
            if current is not None:
                try:
                    current.send_nowait(LogRequest(request_id, workspace, cancel=True))
                except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                    pass
