"""Crash loops never become a restart storm (issue 4 item 1, ARCHITECTURE "who restarts").

Ten workspaces whose only server's command does not exist: each worker exits 1 at once. The agent
restarts each by the restart policy (first at once, then 1 s doubling, +-20 % jitter) and never
has more than 4 starts in progress on the host; the control plane's breakers open. Measured from
the agent's log lines.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest

from tests.harness import Fleet, free_port_range

pytestmark = pytest.mark.e2e
COUNT = 10
LINE = re.compile(r"^(\S+ \S+) .*worker (bad-\d+): "
                  r"(start began \((\d+) in progress\)|exit: |restart (\d+) in ([\d.]+) s)")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("crashloop")
    (root / "workspaces").mkdir()
    for i in range(COUNT):
        (root / "workspaces" / f"bad-{i}.json").write_text(json.dumps(
            {"mcpServers": {"gone": {"command": "/nonexistent/mcp-server-that-is-not-there"}}}))
    f = Fleet(root, port_range=free_port_range(COUNT + 2)).start()
    try:
        yield f
    finally:
        f.stop()


def parse(log: str) -> tuple[dict[str, list[tuple[str, float, float]]], list[int]]:
    """Per workspace its ('start'|'exit'|'delay', epoch, delay seconds) events in order; and
    the number of starts in progress logged at every start."""
    events: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    in_progress = []
    for line in log.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        when = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if m.group(4):
            in_progress.append(int(m.group(4)))
            events[m.group(2)].append(("start", when, 0.0))
        elif m.group(6):
            events[m.group(2)].append(("delay", when, float(m.group(6))))
        else:
            events[m.group(2)].append(("exit", when, 0.0))
    return events, in_progress


def test_ten_crash_looping_workspaces_follow_the_backoff_with_at_most_4_starts(fleet: Fleet) -> None:
    started = time.monotonic()
    deadline = started + 150
    while time.monotonic() < deadline:
        events, in_progress = parse((fleet.root / "logs" / "agent.log").read_text())
        if len(events) == COUNT and all(sum(k == "start" for k, _, _ in e) >= 3 for e in events.values()):
            break
        time.sleep(1)
    else:
        raise TimeoutError(f"not every workspace started 3 times: {dict(events)}")
    print(f"starts in progress seen: max {max(in_progress)} over {len(in_progress)} starts")
    assert max(in_progress) <= 4
    assert max(in_progress) == 4, "ten failing workspaces should fill all 4 start slots"
    for ws, evs in sorted(events.items()):
        delays = [d for kind, _, d in evs if kind == "delay"]
        # exit -> next start: the policy's delay plus any wait for a start slot
        runs = [e for e in evs if e[0] != "delay"]
        gaps = [round(b[1] - a[1], 2) for a, b in zip(runs, runs[1:], strict=False)
                if a[0] == "exit" and b[0] == "start"]
        print(f"{ws}: backoff delays {delays} s; exit -> next start {gaps} s")
        assert len(delays) >= 2, evs
        for n, delay in enumerate(delays):  # first at once, then 1 s doubling to 60 s, +-20 %
            expected = 0.0 if n == 0 else min(60.0, 2.0 ** (n - 1))
            assert expected * 0.8 - 1e-6 <= delay <= expected * 1.2 + 1e-6, (ws, n, delays)
        for delay, gap in zip(delays, gaps, strict=False):
            assert gap >= delay - 0.05, (ws, delays, gaps)
    rows = fleet.list_workspaces()
    assert all(rows[f"bad-{i}"]["restartCount"] >= 2 for i in range(COUNT)), rows
    deadline = time.monotonic() + 90  # 5 failures in a row open each workspace's breaker
    while {r.get("breaker") for r in rows.values()} != {"open"}:
        assert time.monotonic() < deadline, {n: r.get("breaker") for n, r in rows.items()}
        time.sleep(1)
        rows = fleet.list_workspaces()
    print(f"all {COUNT} breakers open {time.monotonic() - started:.1f} s after the test began")
