"""`mcpfleet up`: the whole fleet on this host (control plane, one agent, one edge) as children.

State lives under `--dir` (default `./.mcpfleet/`): `workspaces/` (seeded from
`examples/workspaces/` on first run), `state/` (ports.json), `agent/` (worker configs and logs),
`logs/` (each service's log). Waits for each service's ready line, prints each workspace's URL,
and stops everything on Ctrl-C or SIGTERM; the agent stops its workers (`on_exit = stop`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from mcpfleet.cli.admin_link import AdminTarget, list_workspaces
from mcpfleet.errors import FleetError, Unavailable

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workspaces"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
EXIT_SETTLE = 0.5  # seconds: did a service exit on its own, or because Ctrl-C reached it too?


@dataclass(frozen=True)
class UpOptions:
    """Ports 0 mean any free port (tests); `host_id` None = the agent's default (hostname)."""

    directory: Path
    grpc_port: int = 50051
    edge_port: int = 8080
    port_min: int = 40000
    port_max: int = 40999
    host_id: str | None = None
    json_output: bool = False
    http_port: int = 8081  # the control plane's HTTP port (/metrics, /healthz, state API)


def seed_workspaces(workspaces: Path) -> None:
    """Copy the demo workspaces into an empty workspaces dir (first run only)."""
    if workspaces.exists() and any(workspaces.iterdir()):
        return
    workspaces.mkdir(parents=True, exist_ok=True)
    for src in sorted(EXAMPLES.glob("*.json")):
        shutil.copy(src, workspaces / src.name)


class Child:
    """One service process: started in our process group (a terminal's Ctrl-C reaches it)."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name, self.argv, self.log_path = name, argv, log_path
        self.proc: trio.Process | None = None
        self.ready: dict[str, Any] = {}

    async def start(self, nursery: trio.Nursery) -> dict[str, Any]:
        """Spawn and wait for the ready line; raises FleetError if it dies or times out first."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self.proc = await trio.lowlevel.open_process(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file)
        assert self.proc.stdout is not None
        buffer = b""
        with trio.move_on_after(READY_TIMEOUT):
            async for chunk in self.proc.stdout:
                buffer += chunk
                line, _, _ = buffer.partition(b"\n")
                if b"\n" in buffer:
                    self.ready = json.loads(line)
                    nursery.start_soon(self._drain)
                    return self.ready
        raise FleetError(f"{self.name} did not become ready; see {self.log_path}")

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for _ in self.proc.stdout:
            pass

    async def stop(self) -> None:
        """SIGTERM (if Ctrl-C has not reached it already), wait, SIGKILL as a last resort."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        with trio.move_on_after(STOP_TIMEOUT):
            await proc.wait()
            return
        proc.kill()
        await proc.wait()


def service_argv(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


async def _print_status(opts: UpOptions, grpc: str, edge_url: str) -> None:
    target = AdminTarget(grpc)
    try:
        workspaces = await list_workspaces(target)
    except FleetError as err:
        print(f"could not list workspaces: {err}", file=sys.stderr)
        return
    urls = {w["name"]: f"{edge_url}/workspaces/{w['name']}/sse" for w in workspaces}
    if opts.json_output:
        line = {"event": "ready", "service": "up", "addresses": {"grpc": grpc, "edge": edge_url},
                "workspaces": urls}
        print(json.dumps(line), flush=True)
        return
    print(f"mcp-fleet is up: control plane {grpc}, edge {edge_url}")
    for name, url in urls.items():
        print(f"  workspace {name}: {url}")
    print(f"logs in {opts.directory / 'logs'}; `mcpfleet workspaces list` shows status; "
          "Ctrl-C stops everything", flush=True)


async def _until_signal_or_exit(signals: Any, children: list[Child]) -> Child | None:
    """Wait for SIGINT/SIGTERM (None) or for a service to exit on its own (that Child), like
    foreman or honcho: one service gone stops the fleet. A service that exits just as a terminal's
    Ctrl-C reaches the whole group counts as the signal (EXIT_SETTLE seconds to see it)."""
    outcome: list[Child | None] = []
    async with trio.open_nursery() as nursery:
        async def first_signal() -> None:
            async for _ in signals:
                break
            outcome.insert(0, None)
            nursery.cancel_scope.cancel()

        async def exited(child: Child) -> None:
            assert child.proc is not None
            await child.proc.wait()
            await trio.sleep(EXIT_SETTLE)
            outcome.append(child)
            nursery.cancel_scope.cancel()

        nursery.start_soon(first_signal)
        for child in children:
            nursery.start_soon(exited, child)
    return outcome[0]


async def run_up(opts: UpOptions) -> int:
    """Run the fleet until SIGINT/SIGTERM, or until one of its services exits (then exit 1).
    Returns the process exit code."""
    d = opts.directory.resolve()
    seed_workspaces(d / "workspaces")
    logs = d / "logs"
    cp = Child("control_plane", service_argv(
        "control_plane", "--grpc-bind", f"127.0.0.1:{opts.grpc_port}",
        "--http-bind", f"127.0.0.1:{opts.http_port}",
        "--workspaces-dir", str(d / "workspaces"), "--state-dir", str(d / "state")),
        logs / "control-plane.log")
    children = [cp]
    code = 0
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            try:
                grpc = (await cp.start(nursery))["addresses"]["grpc"]
                agent_args = ["--control-plane", grpc, "--state-dir", str(d / "agent"), "--on-exit", "stop",
                              "--port-min", str(opts.port_min), "--port-max", str(opts.port_max)]
                if opts.host_id:
                    agent_args += ["--host-id", opts.host_id]
                agent = Child("supervisor_agent", service_argv("supervisor_agent", *agent_args),
                              logs / "agent.log")
                edge = Child("sse_edge", service_argv(
                    "sse_edge", "--control-plane", grpc, "--bind", f"127.0.0.1:{opts.edge_port}"),
                    logs / "edge.log")
                children += [agent, edge]
                await agent.start(nursery)
                edge_url = (await edge.start(nursery))["addresses"]["http"]
                await _print_status(opts, grpc, edge_url)
                died = await _until_signal_or_exit(signals, children)
                if died is not None:
                    assert died.proc is not None
                    print(f"error: {died.name} exited with code {died.proc.returncode}; stopping the "
                          f"fleet (see {died.log_path})", file=sys.stderr)
                    code = 1
            except (FleetError, Unavailable) as err:
                print(f"error: {err}", file=sys.stderr)
                code = 1
            finally:
                with trio.CancelScope(shield=True):
                    for child in reversed(children):
                        await child.stop()
                nursery.cancel_scope.cancel()
    return code


def register(sub: Any) -> None:
    up = sub.add_parser("up", help="run control plane, agent and edge on this host")
    up.add_argument("--dir", type=Path, default=Path(".mcpfleet"), help="state directory")
    up.add_argument("--grpc-port", type=int, default=50051)
    up.add_argument("--edge-port", type=int, default=8080)
    up.add_argument("--http-port", type=int, default=8081, help="control plane HTTP port (/metrics, state API)")
    up.add_argument("--port-min", type=int, default=40000, help="lowest worker port")
    up.add_argument("--port-max", type=int, default=40999, help="highest worker port")
    up.add_argument("--host-id", default=None, help="the agent's host id (default: hostname)")
    up.set_defaults(handler=up_cmd)


async def up_cmd(args: argparse.Namespace) -> int:
    return await run_up(UpOptions(args.dir, args.grpc_port, args.edge_port, args.port_min, args.port_max,
                                  args.host_id, json_output=args.output == "json", http_port=args.http_port))
