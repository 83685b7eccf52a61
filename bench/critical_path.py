"""Where a legacy-SSE `tools/call` spends its time inside the edge, stage by stage, at c=1.

    python -m bench.critical_path [--calls 400]      (make bench runs it after bench.run)

Writes bench/critical_path.md.

Runs the benchmark's worker and an edge whose stage boundaries are timestamped (by wrapping a
few functions of Hypercorn and of the edge in that process only), makes `--calls` sequential
calls with the official client, and prints the median of each stage:

  hypercorn intake   the client's POST bytes read -> the edge's ASGI app called
  body read          app called -> request body in hand (Hypercorn delivers it)
  edge forward       body -> the upstream POST written to the worker's socket
  worker             upstream POST written -> the answer read from the worker's SSE stream
  edge return        answer read -> its bytes handed to the client's socket (the first
                     Hypercorn socket write after it; at c=1 that is the SSE event)

The wrappers add a few microseconds per stage; the figures are for comparing stages, the
end-to-end ratios are `bench.run`'s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = ("hypercorn intake", "body read", "edge forward", "worker", "edge return")


def instrumented_edge(worker_port: int, out: Path) -> None:
    """Run bench.edge_static with stage timestamps; write the samples to `out` (JSON) at exit."""
    import atexit

    import hypercorn.protocol.h11 as hyper_h11
    import hypercorn.trio.tcp_server as hyper_tcp

    from bench import edge_static
    from sse_edge import http11, posts

    now = time.perf_counter
    marks: dict[str, float] = {}
    samples: dict[str, list[float]] = {s: [] for s in STAGES}

    def wrap(owner: Any, name: str, before: Any = None, after: Any = None) -> None:
        original = getattr(owner, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if before:
                before(*args)
            result = await original(*args, **kwargs)
            if after:
                after(*args)
            return result
        setattr(owner, name, wrapper)

    def stage(name: str, start: str, end: str) -> None:
        marks[end] = now()
        if start in marks:
            samples[name].append(marks[end] - marks.pop(start))

    def intake(_self: Any, event: Any) -> None:
        if type(event).__name__ == "RawData" and bytes(event.data).startswith(b"POST"):
            marks["bytes"] = now()

    wrap(hyper_h11.H11Protocol, "handle", before=intake)
    wrap(posts.PublicASGI, "_legacy_post", before=lambda *_: stage("hypercorn intake", "bytes", "app"))
    wrap(posts, "read_body", after=lambda *_: stage("body read", "app", "body"))

    def written(_self: Any, method: str, *_rest: Any) -> None:
        if method == "POST":
            stage("edge forward", "body", "posted")
    wrap(http11.Http11Connection, "request", after=written)
    original_on_body = http11.Http11Connection.on_body

    def on_body(self: Any, body: bytes) -> None:
        if body.startswith(b"event: message"):
            stage("worker", "posted", "answer")
        original_on_body(self, body)
    http11.Http11Connection.on_body = on_body  # type: ignore[method-assign]
    wrap(hyper_tcp.TCPServer, "protocol_send", before=lambda *_: stage("edge return", "answer", "returned"))
    atexit.register(lambda: out.write_text(json.dumps(samples)))
    sys.argv = ["bench.edge_static", "--worker-port", str(worker_port)]
    edge_static.main()


def measure(calls: int) -> dict[str, list[float]]:
    """Start the worker and the instrumented edge, make `calls` calls; stage -> samples (seconds)."""
    import trio

    from bench import run as bench_run

    logs = Path(tempfile.mkdtemp(prefix="critical-path-"))
    worker, port = bench_run.start_worker(logs)
    out = logs / "stages.json"
    edge = subprocess.Popen([sys.executable, "-m", "bench.critical_path", "--edge", str(port), str(out)],
                            stdout=subprocess.PIPE, cwd=bench_run.ROOT)
    try:
        assert edge.stdout is not None
        url = json.loads(edge.stdout.readline())["addresses"]["http"]
        trio.run(bench_run.calls_c1, bench_run.sse(f"{url}/workspaces/bench/sse"), calls, "echo", {"text": "hello"})
    finally:
        bench_run.stop(edge)
        bench_run.stop(worker)
    samples: dict[str, list[float]] = json.loads(out.read_text())
    return samples


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--edge":
        instrumented_edge(int(sys.argv[2]), Path(sys.argv[3]))
        return
    p = argparse.ArgumentParser(prog="bench.critical_path", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=400)
    args = p.parse_args()
    samples = measure(args.calls)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = [f"# Edge critical path ({when}, legacy SSE tools/call at c=1, {args.calls} calls)", "",
             "| stage | median |", "|---|---|"]
    for name in STAGES:
        values = samples[name]
        lines.append(f"| {name} | {statistics.median(values) * 1e6:.0f} us |" if values else f"| {name} | - |")
    text = "\n".join(lines) + "\n"
    (Path(__file__).parent / "critical_path.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
