"""Edge benchmark: the same MCP calls straight to a worker, through the edge, and through an
`mcp-proxy` chain (SSE -> stdio -> SSE, mcp-proxy 0.13.0 in its own venv: it needs mcp < 2), in
ONE run, alternating targets round by round; medians and ratios to direct.

    python -m bench.run [--rounds 5] [--calls 60]   (make bench)

Measured per target (official `mcp` client, legacy SSE; Streamable HTTP for direct and edge):
- tools/call `echo` round trip, c=1 (p50, p90) and c=8 (8 sessions calling at once; p50 and calls/s);
- tools/call `big` returning 256 KiB, c=1 (p50);
- connect + initialize (p50).
Writes bench/results.md and bench/results.json. Where the edge's time goes: bench.critical_path.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import trio
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "sse_server.py"
PROXY_VENV = ROOT / ".venv-mcp-proxy"
OUT = ROOT / "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {timeout} s")


def start_worker(logs: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = open(logs / "worker.log", "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([sys.executable, str(FIXTURE), str(port)], stdout=log, stderr=log)
    wait_port(port)
    return proc, port


def start_edge(worker_port: int, logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    argv = [sys.executable, "-m", "bench.edge_static", "--worker-port", str(worker_port)]
    err = open(logs / "edge.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = json.loads(line)["addresses"]["http"]
    return proc, url


def start_mcp_proxy(worker_port: int, logs: Path) -> tuple[subprocess.Popen[bytes] | None, str | None]:
    exe = PROXY_VENV / "bin" / "mcp-proxy"
    if not exe.exists():
        print(f"mcp-proxy not installed at {exe} (make bench installs it); skipping that chain")
        return None, None
    port = free_port()
    log = open(logs / "mcp-proxy.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(exe), "--port", str(port), "--host", "127.0.0.1", "--log-level", "WARNING", "--",
         str(exe), "--log-level", "WARNING", f"http://127.0.0.1:{worker_port}/sse"],
        stdout=log, stderr=log)
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


Connect = Callable[[], AbstractAsyncContextManager[Any]]


def sse(url: str) -> Connect:
    return lambda: sse_client(url)


def streamable(url: str) -> Connect:
    return lambda: streamable_http_client(url)


async def _session(connect: Connect, body: Callable[[ClientSession], Awaitable[None]]) -> None:
    async with connect() as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            await body(session)


async def calls_c1(connect: Connect, n: int, tool: str, args: dict[str, Any]) -> list[float]:
    times: list[float] = []

    async def body(session: ClientSession) -> None:
        for _ in range(5):
            await session.call_tool(tool, args)
        for _ in range(n):
            t0 = time.perf_counter()
            result = await session.call_tool(tool, args)
            times.append(time.perf_counter() - t0)
            assert not result.is_error

    await _session(connect, body)
    return times


async def calls_c8(connect: Connect, n: int) -> tuple[list[float], float]:
    times: list[float] = []
    ready = trio.Event()
    started = 0

    async def worker(i: int) -> None:
        nonlocal started

        async def body(session: ClientSession) -> None:
            nonlocal started
            for _ in range(3):
                await session.call_tool("echo", {"text": "warm"})
            started += 1
            if started == 8:
                ready.set()
            await ready.wait()
            for j in range(n):
                t0 = time.perf_counter()
                await session.call_tool("echo", {"text": f"{i}-{j}"})
                times.append(time.perf_counter() - t0)

        await _session(connect, body)

    t0 = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for i in range(8):
            nursery.start_soon(worker, i)
    wall = time.perf_counter() - t0
    return times, len(times) / wall


async def connect_init(connect: Connect, n: int) -> list[float]:
    times: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()

        async def body(session: ClientSession, t0: float = t0) -> None:
            times.append(time.perf_counter() - t0)

        await _session(connect, body)
    return times


def ms(values: list[float], q: float = 0.5) -> float:
    if not values:
        return float("nan")
    if q == 0.5:
        return statistics.median(values) * 1000
    return statistics.quantiles(values, n=10)[int(q * 10) - 1] * 1000


async def measure(targets: dict[str, Connect], rounds: int, calls: int) -> dict[str, dict[str, Any]]:
    samples: dict[str, dict[str, list[float]]] = {
        name: {"c1": [], "c8": [], "big": [], "init": [], "c8_rate": []} for name in targets}
    names = list(targets)
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]  # alternate who goes first
        for name in order:
            connect = targets[name]
            s = samples[name]
            s["c1"] += await calls_c1(connect, calls, "echo", {"text": "hello"})
            c8, rate = await calls_c8(connect, max(calls // 4, 10))
            s["c8"] += c8
            s["c8_rate"].append(rate)
            s["big"] += await calls_c1(connect, max(calls // 4, 10), "big", {"kib": 256})
            s["init"] += await connect_init(connect, 5)
        print(f"round {r + 1}/{rounds} done", flush=True)
    out: dict[str, dict[str, Any]] = {}
    for name, s in samples.items():
        out[name] = {"c1_p50_ms": ms(s["c1"]), "c1_p90_ms": ms(s["c1"], 0.9), "c8_p50_ms": ms(s["c8"]),
                     "c8_calls_per_s": statistics.median(s["c8_rate"]), "big256k_p50_ms": ms(s["big"]),
                     "connect_init_p50_ms": ms(s["init"]), "samples_c1": len(s["c1"])}
    return out


def report(results: dict[str, dict[str, Any]]) -> str:
    keys = [("c1_p50_ms", "c=1 p50"), ("c1_p90_ms", "c=1 p90"), ("c8_p50_ms", "c=8 p50"),
            ("c8_calls_per_s", "c=8 calls/s"), ("big256k_p50_ms", "256 KiB p50"),
            ("connect_init_p50_ms", "connect+init p50")]
    lines = ["| target | " + " | ".join(label for _, label in keys) + " |",
             "|---|" + "---|" * len(keys)]
    for name, r in results.items():
        base = results["direct-sse" if name.endswith("sse") or name == "mcp-proxy-sse" else "direct-mcp"]
        cells = []
        for key, _ in keys:
            ratio = r[key] / base[key] if base[key] else float("nan")
            unit = "" if key == "c8_calls_per_s" else " ms"
            cells.append(f"{r[key]:.2f}{unit} ({ratio:.2f}x)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    logs = OUT / "logs"
    logs.mkdir(exist_ok=True)
    worker = edge = proxy = None
    try:
        worker, port = start_worker(logs)
        edge, edge_url = start_edge(port, logs)
        proxy, proxy_url = start_mcp_proxy(port, logs)
        targets: dict[str, Connect] = {
            "direct-sse": sse(f"http://127.0.0.1:{port}/sse"),
            "edge-sse": sse(f"{edge_url}/workspaces/bench/sse"),
            "direct-mcp": streamable(f"http://127.0.0.1:{port}/mcp"),
            "edge-mcp": streamable(f"{edge_url}/workspaces/bench/mcp"),
        }
        if proxy_url:
            targets["mcp-proxy-sse"] = sse(f"{proxy_url}/sse")
        results = await measure(targets, args.rounds, args.calls)
    finally:
        stop(proxy)
        stop(edge)
        stop(worker)
    table = report(results)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta = f"{when}, {os.cpu_count()} CPUs, rounds={args.rounds}, calls={args.calls}, python {sys.version.split()[0]}"
    (OUT / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    (OUT / "results.md").write_text(f"# Edge benchmark ({meta})\n\nRatios are to going direct with the same "
                                    f"transport, measured in the same run.\n\n{table}\n")
    print(table)


def main() -> None:
    p = argparse.ArgumentParser(prog="bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=60)
    args = p.parse_args()
    trio.run(main_async, args)


if __name__ == "__main__":
    main()
