"""Starting the fleet's real processes on loopback for end-to-end tests.

Every service prints a JSON ready line on stdout with its real addresses; we start it with port 0
(or a free worker port range), wait for that line, and stop it by pid at the end.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "workspaces" / "demo.json"
FAST_AGENT_TIMERS = ["--health-interval", "0.5", "--health-timeout", "2", "--stop-grace", "3",
                     "--startup-grace", "30", "--on-exit", "stop"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_range(size: int = 10) -> tuple[int, int]:
    """A run of `size` ports that are free now, from a range the kernel does not hand out."""
    rng = __import__("random").Random(os.getpid() ^ time.time_ns())
    for _ in range(200):
        lo = rng.randrange(20000, 30000 - size)
        ok = True
        for port in range(lo, lo + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return lo, lo + size - 1
    raise RuntimeError("no free port range")


def read_json_line(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    """The next stdout line of `proc` as JSON, within `timeout` seconds."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no ready line from {proc.args!r} within {timeout} s")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"{proc.args!r} exited with {proc.wait()} before its ready line")
            buf += chunk
    return dict(json.loads(buf.split(b"\n", 1)[0]))


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    ready: dict[str, Any]
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start(name: str, argv: list[str], log: Path, timeout: float = 30.0, **popen: Any) -> Service:
    """Start `argv` with stderr to `log`, and wait for its ready line."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                cwd=REPO, **popen)
    try:
        return Service(name, proc, read_json_line(proc, timeout), log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def python_m(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass
class Fleet:
    """Control plane + one agent + one edge started one by one (not through `mcpfleet up`)."""

    root: Path
    host_id: str = "e2e"
    services: list[Service] = field(default_factory=list)
    port_range: tuple[int, int] = field(default_factory=free_port_range)

    @property
    def workspaces(self) -> Path:
        return self.root / "workspaces"

    agent_args: list[str] = field(default_factory=list)
    cp_args: list[str] = field(default_factory=list)  # extra control-plane flags (e.g. fast breaker timers)

    def start(self) -> Fleet:
        self.workspaces.mkdir(parents=True, exist_ok=True)
        self.services.append(self.start_control_plane("127.0.0.1:0"))
        self.grpc = self.services[0].ready["addresses"]["grpc"]
        self.services.append(self.start_agent(self.host_id, self.port_range))
        edge = start("sse_edge", python_m("sse_edge", "--control-plane", self.grpc, "--admin-bind", "127.0.0.1:0",
                                          "--bind", "127.0.0.1:0"), self.root / "logs" / "edge.log")
        self.services.append(edge)
        self.edge_url = edge.ready["addresses"]["http"]
        return self

    def start_control_plane(self, bind: str) -> Service:
        """A control plane on `bind` with this fleet's workspaces and state dirs (not recorded)."""
        return start("control_plane", python_m(
            "control_plane", "--grpc-bind", bind, "--workspaces-dir", str(self.workspaces),
            "--state-dir", str(self.root / "state"), "--heartbeat-interval", "1",
            "--http-bind", "127.0.0.1:0", *self.cp_args),
            self.root / "logs" / "control-plane.log")

    def start_agent(self, host_id: str, port_range: tuple[int, int], *extra: str) -> Service:
        """An agent of host `host_id` (state dir `agent` for the fleet's own host id, else
        `agent-<host_id>`) with the fast timers, `agent_args`, then `extra` (not recorded)."""
        state = self.root / ("agent" if host_id == self.host_id else f"agent-{host_id}")
        log = self.root / "logs" / ("agent.log" if host_id == self.host_id else f"agent-{host_id}.log")
        return start("supervisor_agent", python_m(
            "supervisor_agent", "--control-plane", self.grpc, "--host-id", host_id,
            "--state-dir", str(state), "--port-min", str(port_range[0]),
            "--port-max", str(port_range[1]), *FAST_AGENT_TIMERS, *self.agent_args, *extra), log)

    def stop(self) -> None:
        """SIGTERM every service at once, then wait for each (teardown takes the slowest one's
        time, not the sum)."""
        for svc in reversed(self.services):
            if svc.proc.poll() is None:
                svc.proc.send_signal(signal.SIGTERM)
        for svc in reversed(self.services):
            svc.stop()

    def mcpfleet(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mcpfleet.cli", "--control-plane", self.grpc, *args],
                              capture_output=True, text=True, timeout=timeout, cwd=REPO)

    def list_workspaces(self) -> dict[str, dict[str, Any]]:
        out = self.mcpfleet("-o", "json", "workspaces", "list")
        assert out.returncode == 0, out.stderr
        return {w["name"]: w for w in json.loads(out.stdout)}

    def wait_for(self, workspace: str, status: str = "running", timeout: float = 60.0,
                 pid_not: int | None = None) -> dict[str, Any]:
        """Poll `workspaces list` until `workspace` has `status` (and a pid other than `pid_not`)."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = self.list_workspaces().get(workspace, {})
            if last.get("status") == status and (pid_not is None or last.get("pid") not in (None, pid_not)):
                return last
            time.sleep(0.2)
        raise TimeoutError(f"{workspace} not {status} within {timeout} s; last: {last}")


def idle_spare(fleet: Fleet, timeout: float = 30.0, agent_log: str = "agent.log",
               state_dir: str = "agent") -> tuple[int | None, float]:
    """(pid of an unused, live spare worker of the fleet's agent that finished its imports,
    seconds waited for one); (None, 0) when the agent runs none (`spare_workers = 0`). Read from
    the agent's log and its spare log (`logs/_spare.log` in its state dir)."""
    log, spare_log = fleet.root / "logs" / agent_log, fleet.root / state_dir / "logs" / "_spare.log"
    start = time.monotonic()
    while True:
        text = log.read_text()
        spawned = [int(p) for p in re.findall(r"started spare worker pid (\d+)", text)]
        if not spawned:
            return None, 0.0
        used = {int(p) for p in re.findall(r"started worker \S+ pid (\d+) on port \d+ \(a spare", text)}
        idle = spare_log.read_text() if spare_log.exists() else ""
        for pid in reversed(spawned):
            if pid not in used and f"spare worker pid {pid}: imports done" in idle and alive_pid(pid):
                return pid, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"no idle spare worker within {timeout} s")
        time.sleep(0.1)


def alive_pid(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tree_of(pid: int) -> list[psutil.Process]:
    """`pid` and all its descendants that exist now."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those of `procs` still running (zombies count as gone)."""
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out
