"""Asks agents to check their hosts for `state validate` (ARCHITECTURE 2: every check about
processes or ports goes through the agent of that host) and collects the answers.

`gather(coordinator-state, timeout)` sends each connected agent the pids its workers were last
reported with and the ports allocated on its host, and waits up to `timeout` seconds for all
answers; an agent that does not answer in time is left out (validation then uses what it last
reported). The host's AgentService stream (`attach`) carries the requests; `deliver` takes the
answers. Protobuf-free: the endpoint converts.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import trio

from control_plane.state import FleetState
from control_plane.state_report import HostChecks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckRequest:
    """Are these pids alive; who holds these ports (on one host)."""

    request_id: str
    pids: tuple[int, ...]
    ports: tuple[int, ...]


@dataclass(frozen=True)
class CheckResult:
    """An agent's answer: alive pids; held ports with `ours` (held by one of its workers)."""

    request_id: str
    alive_pids: tuple[int, ...]
    listening: tuple[tuple[int, bool], ...]
    error: str = ""


class CheckBroker:
    """See module docstring. One per control-plane process."""

    def __init__(self) -> None:
        self._hosts: dict[str, trio.MemorySendChannel[CheckRequest]] = {}
        self._streams: dict[str, trio.MemoryReceiveChannel[CheckRequest]] = {}
        self._waiting: dict[str, tuple[trio.Event, list[CheckResult]]] = {}

    def attach(self, host_id: str) -> trio.MemoryReceiveChannel[CheckRequest]:
        """A host's agent stream is up: the requests it must forward come from the result."""
        send, receive = trio.open_memory_channel[CheckRequest](16)
        self._hosts[host_id] = send
        self._streams[host_id] = receive
        return receive

    def detach(self, host_id: str, requests: trio.MemoryReceiveChannel[CheckRequest]) -> None:
        """The host's stream ended."""
        if self._streams.get(host_id) is requests:  # a newer stream of the host keeps its own
            del self._streams[host_id]
            self._hosts.pop(host_id).close()
        requests.close()

    def deliver(self, result: CheckResult) -> None:
        """An agent's answer (ignored when nobody waits for it any more)."""
        waiting = self._waiting.get(result.request_id)
        if waiting is not None:
            waiting[1].append(result)
            waiting[0].set()

    async def ask(self, host_id: str, pids: tuple[int, ...], ports: tuple[int, ...], timeout: float
                  ) -> HostChecks | None:
        """One host's checks, or None if its agent is not connected, fails or does not answer in time."""
        send = self._hosts.get(host_id)
        if send is None:
            return None
        request = CheckRequest(secrets.token_hex(8), pids, ports)
        done = trio.Event()
        self._waiting[request.request_id] = (done, [])
        try:
            try:
                send.send_nowait(request)
            except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                return None
            with trio.move_on_after(timeout):
                await done.wait()
            results = self._waiting[request.request_id][1]
        finally:
            self._waiting.pop(request.request_id, None)
        if not results:
            log.warning("agent %s did not answer host checks within %.1f s", host_id, timeout)
            return None
        r = results[0]
        if r.error:
            log.warning("agent %s could not check its host: %s", host_id, r.error)
            return None
        return HostChecks(alive_pids=frozenset(r.alive_pids),
                          listening_ports={p: "worker" if ours else "foreign" for p, ours in r.listening},
                          checked_pids=frozenset(pids), checked_ports=frozenset(ports))

    async def gather(self, state: FleetState, timeout: float) -> dict[str, HostChecks]:
        """Every connected agent's checks of its workers' pids and its allocated ports, concurrently."""
        out: dict[str, HostChecks] = {}

        async def one(host: str) -> None:
            pids = tuple(sorted({w.pid for (h, _), w in state.workers.items() if h == host and w.pid}))
            hp = state.ports.hosts.get(host)
            ports = tuple(sorted(hp.allocated.values())) if hp else ()
            checks = await self.ask(host, pids, ports, timeout)
            if checks is not None:
                out[host] = checks

        async with trio.open_nursery() as nursery:
            for host, agent in state.agents.items():
                if agent.connected:
                    nursery.start_soon(one, host)
        return out
