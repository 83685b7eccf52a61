"""Measuring a worker's whole process tree with psutil (I/O; blocking: call it off the event loop).

`cpu_percent(None)` is 0.0 on the first call for each `psutil.Process` object, so the objects are
kept between samples, keyed by (pid, create_time), and the gone ones dropped (STACK-NOTES
"psutil and processes"). A sample of a few processes costs ~2 ms of blocking CPU: callers run
`sample` through `trio.to_thread.run_sync`.
"""

from __future__ import annotations

import psutil

from supervisor_agent.health import Sample

MIB = 1024 * 1024


class TreeSampler:
    """Samples the tree rooted at one pid. One instance per worker process (not thread-safe)."""

    def __init__(self) -> None:
        self._procs: dict[tuple[int, float], psutil.Process] = {}

    def sample(self, root_pid: int) -> Sample | None:
        """RSS (MiB), CPU (% of one core) and process count of `root_pid` and its descendants;
        None when the root is gone. Processes that vanish mid-sample are skipped."""
        try:
            root = psutil.Process(root_pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        seen: dict[tuple[int, float], psutil.Process] = {}
        rss = 0
        cpu = 0.0
        for proc in tree:
            try:
                key = (proc.pid, proc.create_time())
                kept = self._procs.get(key, proc)
                with kept.oneshot():
                    rss += kept.memory_info().rss
                    cpu += kept.cpu_percent(None)
                seen[key] = kept
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
        self._procs = seen
        return Sample(rss_mib=rss / MIB, cpu_percent=cpu, process_count=len(seen))
