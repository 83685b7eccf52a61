"""Config manager end to end: real control plane, agent, edge and FastMCP workers on loopback.

Hot reload of edited files (plain write, atomic rename, bursts), rejection of invalid files while
the old worker keeps serving, `apply` with rollback by the control plane (waited for, not waited
for, CLI interrupted), per-workspace serialisation, stop/start/restart/get/delete/history/rollback
with `-o json`, and a control-plane restart that keeps ports and restarts no worker.
Measured figures are printed (run with -s to see them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import trio
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcpfleet.workspace import content_version
from tests.harness import REPO, Fleet, idle_spare

pytestmark = pytest.mark.e2e

ECHO = str(REPO / "tests" / "fixtures" / "echo_stdio_server.py")
DEBOUNCE = 0.4
GRACE = 20.0
# Issue 3: an edited file serves its new config within 5 s: the median of 3 successive edits is
# held to that. Each single edit is only guarded by a loose bound: this 2-core box is shared by
# several test suites at once, where one worker start has been measured at 5-15 s. The control
# plane's own share (file saved -> new assignment) is held to 2 s.
EDIT_SERVES_WITHIN = 5.0
LOADED_BOX_LIMIT = 30.0
CP_ENV = {"MCPFLEET_CONTROL_PLANE_CONFIG_DEBOUNCE": str(DEBOUNCE),
          "MCPFLEET_CONTROL_PLANE_CONFIG_CACHE_TTL": "2",
          "MCPFLEET_CONTROL_PLANE_STARTUP_GRACE": str(GRACE),
          "MCPFLEET_CONTROL_PLANE_STOP_TIMEOUT": "10"}


def spec(*servers: str, description: str = "", command: str = sys.executable, secret: str = "") -> str:
    """A workspace file running the echo fixture once per server name."""
    entry: dict[str, Any] = {"command": command, "args": [ECHO]}
    if secret:
        entry["env"] = {"TOKEN": secret}
    return json.dumps({"description": description,
                       "mcpServers": {s: dict(entry) for s in servers or ("echo",)}}, indent=2)


def version_of(text: str) -> str:
    return content_version(text.encode())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("cfg")
    (root / "workspaces").mkdir()
    for name in ("alpha", "beta", "gamma"):
        (root / "workspaces" / f"{name}.json").write_text(spec(description=name))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in CP_ENV.items():
            mp.setenv(key, value)
        f = Fleet(root).start()
    try:
        f.wait_for("alpha")
        f.wait_for("beta")
        f.wait_for("gamma")
        yield f
    finally:
        f.stop()


def cli(fleet: Fleet, *args: str, timeout: float = 60.0) -> tuple[int, Any, str]:
    """Run `mcpfleet -o json ...`; (exit code, parsed stdout or None, stderr)."""
    out = fleet.mcpfleet("-o", "json", *args, timeout=timeout)
    return out.returncode, json.loads(out.stdout) if out.stdout.strip() else None, out.stderr


def get(fleet: Fleet, name: str) -> dict[str, Any]:
    code, body, err = cli(fleet, "workspaces", "get", name)
    assert code == 0, err
    return dict(body)


def wait_get(fleet: Fleet, name: str, check: Any, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = get(fleet, name)
        if check(last):
            return last
        time.sleep(0.2)
    raise TimeoutError(f"{name}: condition not met within {timeout} s; last: {last}")


def serving(version: str) -> Any:
    return lambda w: (w["runningVersion"] == version and w["status"] == "running"
                      and w["health"] == "healthy")


def worker_url(fleet: Fleet, name: str) -> str:
    """The workspace's worker, reached directly (the port stays the same across restarts). The
    edge is left out on purpose: these tests are about the config manager, not routing."""
    return f"http://127.0.0.1:{fleet.list_workspaces()[name]['port']}/sse"


async def tools_at(url: str) -> list[str]:
    async with sse_client(url) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        return sorted(t.name for t in (await session.list_tools()).tools)


async def wait_tools(fleet: Fleet, name: str, expected: list[str], timeout: float) -> float:
    """Seconds until `name`'s worker serves exactly `expected` tools."""
    start = time.monotonic()
    url = worker_url(fleet, name)
    while True:
        try:
            with trio.fail_after(15):  # a loaded box: the backend starts with the first session
                if await tools_at(url) == expected:
                    return time.monotonic() - start
        except Exception:  # starting: the edge answers 503 or the session breaks
            pass
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{name} did not serve {expected} within {timeout} s")
        await trio.sleep(0.1)


def reaction_seconds(fleet: Fleet, name: str, version: str, since: float) -> float:
    """Seconds from `since` (epoch) to the control plane's log line recording `version` of `name`."""
    needle = f"workspace {name}: version {version} by "
    for line in (fleet.root / "logs" / "control-plane.log").read_text().splitlines():
        if needle in line:
            stamp = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp() - since  # logging stamps local time
    raise AssertionError(f"no log line {needle!r}")


def history(fleet: Fleet, name: str) -> list[dict[str, Any]]:
    code, revs, err = cli(fleet, "workspaces", "history", name)
    assert code == 0, err
    return list(revs)


def wait_committed(fleet: Fleet, name: str, version: str, timeout: float = 15.0) -> None:
    """Until `name`'s history holds `version` as a change by the watcher."""
    deadline = time.monotonic() + timeout
    while True:
        subjects = [r["subject"] for r in history(fleet, name)]
        if any(s.startswith(f"{name}: version {version} by watcher") for s in subjects):
            return
        assert time.monotonic() < deadline, subjects
        time.sleep(0.2)


# -- hot reload -------------------------------------------------------------------------------------

async def test_an_edited_file_serves_its_new_config_within_5_s(fleet: Fleet) -> None:
    """3 successive edits of alpha, each: save a new valid config (a plain truncate + write), then
    time until the worker serves the new config's tools to the official client. Median <= 5 s."""
    path = fleet.workspaces / "alpha.json"
    assert await wait_tools(fleet, "alpha", ["add", "echo"], 30) >= 0
    time_tools, echo_tools = ["convert_time", "get_current_time"], ["add", "echo"]
    edits = [(json.dumps({"mcpServers": {"time": {"command": "mcp-server-time"}}}), time_tools),
             (spec(description="edit 2"), echo_tools),
             (json.dumps({"description": "edit 3", "mcpServers": {"time": {"command": "mcp-server-time"}}}),
              time_tools)]
    figures = []
    for n, (edited, tools) in enumerate(edits, 1):
        # An operator's edits come seconds apart; the spare's refill (after each start ends)
        # takes ~2-3 s of imports on this box. None when the agent runs with spare_workers = 0.
        _, waited = await trio.to_thread.run_sync(idle_spare, fleet)
        written = time.time()
        path.write_text(edited)
        elapsed = await wait_tools(fleet, "alpha", tools, LOADED_BOX_LIMIT)
        reacted = reaction_seconds(fleet, "alpha", version_of(edited), written)
        figures.append(elapsed)
        print(f"edit {n}: new config serving in {elapsed:.2f} s (control plane sent it to the agent after "
              f"{reacted:.2f} s; the rest is the worker's restart; {waited:.2f} s waited for the spare before)")
        assert reacted < 2.0
        assert elapsed < LOADED_BOX_LIMIT
        # Committed once the control plane saw it running, which may trail the serving: the next
        # edit waits for that (the control plane commits the file as it is then on disk).
        await trio.to_thread.run_sync(wait_committed, fleet, "alpha", version_of(edited))
    median = statistics.median(figures)
    print(f"edited file -> new config serving: median {median:.2f} s of {[round(f, 2) for f in figures]}")
    assert median <= EDIT_SERVES_WITHIN


def test_the_spare_worker_is_no_workspace_process(fleet: Fleet) -> None:
    """The agent's idle spare shows in no list, state file, usage figure or validation."""
    pid, _ = idle_spare(fleet)
    assert pid is not None and "--spare" in psutil.Process(pid).cmdline()
    listed = fleet.list_workspaces()
    recorded = json.loads((fleet.root / "agent" / "workers-state.json").read_text())["workers"]
    assert pid not in {w["pid"] for w in listed.values()} | {w["pid"] for w in recorded.values()}
    assert set(recorded) == {n for n, w in listed.items() if w["status"] == "running"}
    code, res, err = cli(fleet, "state", "show", "resources")
    assert code == 0, err
    assert res["hosts"][fleet.host_id]["currentUsage"]["activeProcesses"] == len(recorded)
    code, report, err = cli(fleet, "state", "validate")
    assert code == 0 and report["ok"] and str(pid) not in json.dumps(report), report


async def test_invalid_json_is_rejected_and_the_old_worker_serves_without_a_failed_call(fleet: Fleet) -> None:
    before = wait_get(fleet, "beta", lambda w: w["status"] == "running" and w["health"] == "healthy")
    calls, failures = 0, []
    async with sse_client(worker_url(fleet, "beta")) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()

        async def call_throughout(stop: trio.Event) -> None:
            nonlocal calls
            while not stop.is_set():
                try:
                    result = await session.call_tool("echo", {"text": f"n{calls}"})
                    if result.is_error or result.content[0].text != f"n{calls}":  # type: ignore[union-attr]
                        failures.append(result)
                except Exception as err:  # a failed call is what we count
                    failures.append(err)
                calls += 1
                await trio.sleep(0.02)

        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(call_throughout, stop)
            await trio.sleep(0.5)
            (fleet.workspaces / "beta.json").write_text('{"mcpServers": {"echo": {"command": ')
            rejected = await trio.to_thread.run_sync(
                lambda: wait_get(fleet, "beta", lambda w: w["config"] == "rejected", 15))
            await trio.sleep(2 * DEBOUNCE + 1)  # calls keep going well after the rejection
            stop.set()
    print(f"invalid JSON: {calls} calls during the rejection, {len(failures)} failed")
    assert calls > 20 and failures == []
    assert "beta.json: line 1 column" in rejected["configError"]
    assert rejected["pid"] == before["pid"] and rejected["runningVersion"] == before["runningVersion"]
    log = (fleet.root / "logs" / "control-plane.log").read_text()
    assert "workspace beta rejected (beta.json: line 1 column" in log
    out = fleet.mcpfleet("-o", "json", "events", "--workspace", "beta", "--last", "500")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    rejections = [e for e in events if e["type"] == "config/changed" and e["data"]["status"] == "rejected"]
    assert rejections and "beta.json: line 1 column" in rejections[-1]["data"]["reason"], events[-5:]
    # the rejected file is never overwritten; an atomic-rename save of a fixed file is picked up
    assert (fleet.workspaces / "beta.json").read_text().startswith('{"mcpServers": {"echo": {"command": ')
    fixed = spec(description="beta fixed")
    tmp = fleet.workspaces / ".beta.json.tmp"
    tmp.write_text(fixed)
    started = time.monotonic()
    os.replace(tmp, fleet.workspaces / "beta.json")
    await trio.to_thread.run_sync(lambda: wait_get(
        fleet, "beta", lambda w: w["config"] == "valid" and serving(version_of(fixed))(w), LOADED_BOX_LIMIT))
    print(f"atomic-rename save -> serving the fixed config in {time.monotonic() - started:.2f} s")
    # checked last so that the fixed file is in place for the next tests even when this fails
    assert rejections[-1]["data"]["by"] == "watcher"


async def test_twenty_rapid_saves_restart_at_most_once_per_debounce_window(fleet: Fleet) -> None:
    path = fleet.workspaces / "beta.json"
    wait_get(fleet, "beta", lambda w: w["status"] == "running" and w["config"] == "valid")
    revs_before = len(history(fleet, "beta"))
    started = time.monotonic()
    last = ""
    for i in range(20):
        last = spec(description=f"burst {i}")
        path.write_text(last)
        time.sleep(0.05)
    final = await trio.to_thread.run_sync(lambda: wait_get(fleet, "beta", serving(version_of(last)), 90))
    elapsed = time.monotonic() - started
    accepted = [r for r in history(fleet, "beta")[: len(history(fleet, "beta")) - revs_before]
                if "by watcher" in r["subject"]]
    windows = int(elapsed / DEBOUNCE) + 1
    print(f"20 saves over 1 s -> {len(accepted)} restarts in {elapsed:.2f} s ({windows} debounce windows)")
    assert 1 <= len(accepted) <= min(windows, 5), accepted
    assert final["config"] == "valid" and json.loads(path.read_text())["description"] == "burst 19"


# -- apply with rollback ----------------------------------------------------------------------------

def popen_cli(fleet: Fleet, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mcpfleet.cli", "--control-plane", fleet.grpc,
                             "-o", "json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)


def test_a_config_that_cannot_start_is_rolled_back_by_the_control_plane(fleet: Fleet, tmp_path: Path) -> None:
    broken = json.dumps({"mcpServers": {"x": {"command": "/nonexistent/mcp-server-nope"}}})
    (tmp_path / "broken.json").write_text(broken)
    before = {n: get(fleet, n) for n in ("alpha", "beta", "gamma")}
    files = {n: (fleet.workspaces / f"{n}.json").read_text() for n in before}
    started = time.monotonic()
    # alpha: --wait; beta: no --wait; gamma: --wait, but the CLI is interrupted once it was taken.
    waited = popen_cli(fleet, "workspaces", "apply", "-f", str(tmp_path / "broken.json"), "--name", "alpha",
                       "--wait")
    code, nowait, err = cli(fleet, "workspaces", "apply", "-f", str(tmp_path / "broken.json"), "--name", "beta")
    assert code == 0 and nowait["outcome"] == "accepted", err
    interrupted = popen_cli(fleet, "workspaces", "apply", "-f", str(tmp_path / "broken.json"), "--name",
                            "gamma", "--wait")
    deadline = time.monotonic() + 30
    while (fleet.workspaces / "gamma.json").read_text() != broken:  # the control plane took it
        assert time.monotonic() < deadline and interrupted.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    interrupted.send_signal(signal.SIGINT)
    assert interrupted.wait(10) == 130  # Ctrl-C: the CLI gives up waiting; the control plane carries on
    out, errs = waited.communicate(timeout=GRACE + 60)
    print(f"apply of a broken config -> rolled back, CLI exit {waited.returncode} after "
          f"{time.monotonic() - started:.1f} s (startup grace {GRACE:g} s)")
    assert waited.returncode == 1, errs
    result = json.loads(out)
    assert result["outcome"] == "rolled-back" and "failed to start" in result["reason"]
    assert "startup grace" in result["reason"] and result["previousVersion"] == before["alpha"]["version"]
    for name in ("alpha", "beta", "gamma"):  # every one restored by the control plane itself
        deadline = time.monotonic() + GRACE + 30
        while (fleet.workspaces / f"{name}.json").read_text() != files[name]:
            assert time.monotonic() < deadline, f"{name}.json not restored"
            time.sleep(0.2)
        w = wait_get(fleet, name, serving(before[name]["version"]), 60)
        assert w["config"] == "valid" and w["port"] == before[name]["port"]
        want = f"version {version_of(broken)} by cli apply failed to start; restored version " \
               f"{before[name]['version']}"
        deadline = time.monotonic() + 15  # recorded in git just after the file is restored
        while want not in (top := history(fleet, name)[0]["subject"]):
            assert time.monotonic() < deadline, top
            time.sleep(0.2)


def test_applies_to_one_workspace_never_overlap_and_to_two_workspaces_do(fleet: Fleet, tmp_path: Path) -> None:
    runs = {}
    for label in ("a1", "a2", "b1"):
        (tmp_path / f"{label}.json").write_text(spec(description=f"parallel {label}"))
    procs = {label: popen_cli(fleet, "workspaces", "apply", "-f", str(tmp_path / f"{label}.json"),
                              "--name", name, "--wait")
             for label, name in (("a1", "alpha"), ("a2", "alpha"), ("b1", "beta"))}
    for label, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        r = json.loads(out)
        assert r["outcome"] == "applied", r
        runs[label] = (dt.datetime.fromisoformat(r["startedAt"]), dt.datetime.fromisoformat(r["finishedAt"]))
    first, second = sorted([runs["a1"], runs["a2"]])
    print("alpha applies: " + " / ".join(f"{a.time()}-{b.time()}" for a, b in (first, second))
          + f"; beta apply: {runs['b1'][0].time()}-{runs['b1'][1].time()}")
    assert first[1] <= second[0]  # one workspace: serialised
    overlaps = [max(runs["b1"][0], r[0]) < min(runs["b1"][1], r[1]) for r in (first, second)]
    assert any(overlaps)  # two workspaces: in parallel


# -- get, stop/start/restart, history, rollback, delete ----------------------------------------------

def test_get_redacts_secrets_unless_asked(fleet: Fleet, tmp_path: Path) -> None:
    (tmp_path / "gamma.json").write_text(spec(description="with a secret", secret="s3cr3t-value"))
    code, r, err = cli(fleet, "workspaces", "apply", "-f", str(tmp_path / "gamma.json"), "--wait")
    assert code == 0 and r["outcome"] == "applied", (r, err)
    shown = get(fleet, "gamma")
    assert shown["spec"]["mcpServers"]["echo"]["env"] == {"TOKEN": "***"}
    assert shown["runningVersion"] == r["version"] and shown["lastModified"].endswith("Z")
    code, full, _ = cli(fleet, "workspaces", "get", "gamma", "--show-secrets")
    assert full["spec"]["mcpServers"]["echo"]["env"] == {"TOKEN": "s3cr3t-value"}
    code, _, err = cli(fleet, "workspaces", "get", "nosuch")
    assert code == 1 and "not found" in err


def test_stop_start_restart_keep_the_port(fleet: Fleet) -> None:
    before = wait_get(fleet, "gamma", lambda w: w["status"] == "running")
    code, stopped, err = cli(fleet, "workspaces", "stop", "gamma", "--wait")
    assert code == 0 and stopped["status"] == "stopped", err
    assert get(fleet, "gamma")["desired"] == "stopped"
    code, started, err = cli(fleet, "workspaces", "start", "gamma", "--wait")
    assert code == 0 and started["status"] == "running" and started["port"] == before["port"], err
    code, restarted, err = cli(fleet, "workspaces", "restart", "gamma", "--wait")
    assert code == 0 and restarted["status"] == "running", err
    assert restarted["port"] == before["port"] and restarted["pid"] not in (None, started["pid"])


def test_rollback_to_an_earlier_revision(fleet: Fleet) -> None:
    revs = history(fleet, "alpha")
    assert revs[-1]["subject"].endswith("found at startup") and revs[-1]["author"] == "mcp-fleet control plane"
    original = revs[-1]["subject"].split()[2]
    code, r, err = cli(fleet, "workspaces", "rollback", "alpha", revs[-1]["revision"][:10], "--wait")
    assert code == 0 and r["outcome"] == "applied" and r["version"] == original, (r, err)
    assert history(fleet, "alpha")[0]["subject"].endswith(f"by cli rollback to {revs[-1]['revision'][:12]}")
    assert version_of((fleet.workspaces / "alpha.json").read_text()) == original
    code, _, err = cli(fleet, "workspaces", "rollback", "alpha", "0000000")
    assert code == 1 and "not found" in err


def test_restarting_the_control_plane_keeps_every_port_and_restarts_no_worker(fleet: Fleet) -> None:
    code, _, err = cli(fleet, "workspaces", "stop", "gamma", "--wait")
    assert code == 0, err
    before = fleet.list_workspaces()
    assert before["gamma"]["status"] == "stopped"
    old = fleet.services[0]
    assert old.name == "control_plane"
    old.stop()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in CP_ENV.items():
            mp.setenv(key, value)
        fleet.services[0] = fleet.start_control_plane(fleet.grpc)
    started = time.monotonic()
    deadline = started + 30
    after: dict[str, Any] = {}
    while time.monotonic() < deadline:
        after = fleet.list_workspaces()
        if all(after[n]["status"] == before[n]["status"] for n in before):
            break
        time.sleep(0.2)
    print(f"control plane restarted; agent re-reported {len(after)} workspaces after "
          f"{time.monotonic() - started:.2f} s")
    for name in before:
        keys = ("port", "pid", "restartCount", "status", "version")
        assert {k: after[name][k] for k in keys} == {k: before[name][k] for k in keys}, name
    time.sleep(3)  # and nothing restarts a little later either (assignments applied by then)
    again = fleet.list_workspaces()
    assert {n: (w["pid"], w["port"]) for n, w in again.items()} == {n: (w["pid"], w["port"]) for n, w in before.items()}


def test_delete_removes_the_workspace_and_records_it(fleet: Fleet) -> None:
    code, r, err = cli(fleet, "workspaces", "delete", "gamma")
    assert code == 0 and r["outcome"] == "deleted", err
    assert not (fleet.workspaces / "gamma.json").exists() and "gamma" not in fleet.list_workspaces()
    assert history(fleet, "gamma")[0]["subject"] == "gamma: deleted by cli delete"


def test_workspace_commands_exit_3_when_the_control_plane_is_unreachable() -> None:
    from tests.harness import free_port

    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "mcpfleet.cli", "--control-plane", f"127.0.0.1:{free_port()}",
                          "-o", "json", "workspaces", "history", "alpha"], capture_output=True, text=True,
                         timeout=30, cwd=REPO)
    assert out.returncode == 3 and "unreachable" in out.stderr
    assert time.monotonic() - started < 6  # 2 s to say so, plus the interpreter's start
