"""Config manager in-process: real files, real git, real watcher; no agents (nothing is placed, so
a valid change is accepted without waiting for a worker)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from control_plane.config_watcher import ConfigWatcher
from control_plane.coordinator import Coordinator
from control_plane.git_history import AUTHOR_EMAIL, AUTHOR_NAME, GitHistory
from control_plane.state import FleetState
from control_plane.workspace_control import WorkspaceControl
from control_plane.workspace_ops import WorkspaceOps
from control_plane.workspace_waits import OpsTimers
from mcpfleet.errors import FailedPrecondition, InvalidArgument, NotFound
from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import AgentHello, Desired, ProcessError, WorkerState
from mcpfleet.workspace import content_version


def ws(description: str, command: str = "mcp-server-time") -> bytes:
    return json.dumps({"description": description, "mcpServers": {"t": {"command": command}}},
                      indent=2).encode()


def make_ops(directory: Path) -> WorkspaceOps:
    coordinator = Coordinator(FleetState("boot", 1.0), directory.parent / "ports.json")
    return WorkspaceOps(coordinator, directory, GitHistory(directory), OpsTimers(2.0, 2.0))


async def start(directory: Path, nursery: trio.Nursery) -> WorkspaceOps:
    ops = make_ops(directory)
    ops.coordinator.load_configs(await ops.load_at_startup())
    ops.run(nursery)
    return ops


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=True).stdout


@pytest.fixture
async def nursery() -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as n:
        yield n
        n.cancel_scope.cancel()


async def test_apply_commits_with_our_identity_and_history_lists_it(tmp_path: Path, nursery: trio.Nursery,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Somebody Else")  # the machine's identity is never used
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("one"))
    ops = await start(d, nursery)
    result = await ops.apply("a", ws("two"), wait=True)
    assert result.outcome == "applied" and result.version == content_version(ws("two"))
    assert (d / "a.json").read_bytes() == ws("two")
    revs = await ops.history.log("a")
    assert [r.subject for r in revs] == [f"a: version {result.version} by cli apply",
                                         f"a: version {content_version(ws('one'))} found at startup"]
    assert {r.author for r in revs} == {AUTHOR_NAME}
    assert git(d, "log", "-1", "--format=%ae %ce").split() == [AUTHOR_EMAIL, AUTHOR_EMAIL]
    assert (await ops.apply("a", ws("two"), wait=True)).outcome == "unchanged"
    with pytest.raises(InvalidArgument, match=r"a.json: line 1 column"):
        await ops.apply("a", b'{"mcpServers": ', wait=True)
    assert (d / "a.json").read_bytes() == ws("two")


async def test_rollback_applies_an_old_revision_and_refuses_one_that_no_longer_validates(
        tmp_path: Path, nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("one"))
    ops = await start(d, nursery)
    first = (await ops.history.log("a"))[0].sha
    await ops.apply("a", ws("two"), wait=True)
    result = await ops.rollback("a", first[:8], wait=True)
    assert result.outcome == "applied"
    assert (d / "a.json").read_bytes() == ws("one")
    assert (await ops.history.log("a"))[0].subject.endswith(f"by cli rollback to {first[:12]}")
    # An accepted revision from an older schema: commit a file the current schema refuses.
    (d / "a.json").write_text('{"mcpServers": {"t": {"command": "x"}}, "oldKey": 1}')
    git(d, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "old schema",
        "-m", "Workspace: a")
    old = git(d, "rev-parse", "HEAD").strip()
    with pytest.raises(FailedPrecondition, match="no longer validates: .*oldKey"):
        await ops.rollback("a", old, wait=True)
    with pytest.raises(NotFound):
        await ops.rollback("a", "deadbeef", wait=True)


async def test_startup_uses_the_last_accepted_version_when_the_file_is_invalid(tmp_path: Path,
                                                                               nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("good"))
    await start(d, nursery)
    (d / "a.json").write_text('{"mcpServers": ')  # broken while the control plane was down
    ops = await start(d, nursery)
    entry = ops.state.configs["a"]
    assert entry.config is not None and entry.version == content_version(ws("good"))
    assert "a.json: line 1 column" in entry.error
    assert (d / "a.json").read_text() == '{"mcpServers": '  # a rejected file is never overwritten


async def test_watcher_debounces_ignores_editor_files_and_never_applies_an_empty_file(
        tmp_path: Path, nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("v0"))
    ops = await start(d, nursery)
    watcher = ConfigWatcher(ops, d, debounce_seconds=0.3, ttl_seconds=60)
    await nursery.start(watcher.run)
    await trio.sleep(0.3)
    for junk in (".a.json.swp", "a.json~", ".#a.json", "a.json.bak", "4913"):
        (d / junk).write_text("garbage")
    (d / "a.json").write_text("")  # truncate-then-write: the empty moment is never applied
    await trio.sleep(0.6)
    assert ops.state.configs["a"].version == content_version(ws("v0")) and not ops.state.configs["a"].error
    for i in range(20):  # 20 rapid saves, 20 ms apart
        tmp = d / ".a.json.tmp"
        tmp.write_bytes(ws(f"v{i + 1}"))
        os.replace(tmp, d / "a.json")
        await trio.sleep(0.02)
    with trio.fail_after(5):
        while ops.state.configs["a"].version != content_version(ws("v20")):
            await trio.sleep(0.05)
    assert watcher.batches <= 3, watcher.batches
    subjects = [r.subject for r in await ops.history.log("a")]
    assert len(subjects) <= 4, subjects  # startup + at most one per debounce window
    assert "a.json" in git(d, "ls-files") and ".a.json.swp" not in git(d, "ls-files")


async def test_a_file_left_empty_is_rejected_and_the_last_good_version_kept(tmp_path: Path,
                                                                          nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("good"))
    ops = await start(d, nursery)
    (d / "a.json").write_bytes(b"  \n")
    ops.request_sync(["a"])
    await trio.sleep(0.3)
    assert not ops.state.configs["a"].error  # maybe a save in progress: not yet
    with trio.fail_after(5):
        while "a.json: the file is empty" not in ops.state.configs["a"].error:
            await trio.sleep(0.05)
    assert ops.state.configs["a"].version == content_version(ws("good"))


async def test_a_new_config_version_starts_with_a_closed_breaker(tmp_path: Path, nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("crashing"))
    ops = await start(d, nursery)
    board = ops.coordinator.breakers
    breaker = board.get("workspace/a")
    for i in range(5):
        breaker.failure(float(i), "exit", "worker exited with code 1")
    ops.coordinator.apply_breakers(["workspace/a"])
    assert ops.coordinator.breaker_state("a") == "open"
    assert (await ops.apply("a", ws("fixed"), wait=True)).outcome == "applied"
    assert ops.coordinator.breaker_state("a") == "closed"
    assert "a" not in ops.state.restart_modes  # not held stopped any more


async def test_a_workspaces_dir_inside_another_repository_gets_its_own(tmp_path: Path, nursery: trio.Nursery) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "outer")
    d = tmp_path / ".mcpfleet" / "workspaces"
    d.mkdir(parents=True)
    (d / "a.json").write_bytes(ws("one"))
    ops = await start(d, nursery)
    await ops.apply("a", ws("two"), wait=True)
    assert git(tmp_path, "log", "--format=%s").split("\n")[0] == "outer"  # the enclosing repo is untouched
    assert len(await ops.history.log("a")) == 2 and (d / ".git").is_dir()
    shutil.rmtree(d / ".git")  # someone removes it while we run: still never the enclosing repo
    result = await ops.apply("a", ws("three"), wait=True)
    assert result.outcome == "failed" and "git" in result.reason
    assert git(tmp_path, "log", "--format=%s").split("\n")[0] == "outer"


class FakeAgent:
    """Plays host h1's agent: runs every assigned version except those whose description is
    "broken", which stay `starting` with an exit error (what a missing command looks like)."""

    def __init__(self, ops: WorkspaceOps) -> None:
        self.ops = ops
        ops.coordinator.attach_agent(AgentHello("h1", "127.0.0.1", 40000, 40009, "t", ()))

    async def run(self) -> None:
        c = self.ops.coordinator
        while True:
            for a in c.state.sent.get("h1", ()):
                broken = json.loads(a.config_json).get("description") == "broken"
                current = c.state.workers.get(("h1", a.workspace))
                if a.desired != Desired.RUNNING:
                    new = WorkerState(a.workspace, a.port, Status.STOPPED, config_version=a.config_version)
                elif broken:
                    new = WorkerState(a.workspace, a.port, Status.STARTING, config_version=a.config_version,
                                      error_history=(ProcessError(0.0, "exit", "worker exited with code 1", 1),))
                else:
                    new = WorkerState(a.workspace, a.port, Status.RUNNING, pid=1, health=Health.HEALTHY,
                                      config_version=a.config_version)
                if current != new:
                    c.worker_reported("h1", new)
            await trio.sleep(0.02)


async def test_a_file_edit_that_fails_to_start_keeps_the_last_good_version_and_the_file(
        tmp_path: Path, nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("good"))
    ops = await start(d, nursery)
    nursery.start_soon(FakeAgent(ops).run)
    (d / "a.json").write_bytes(ws("broken"))
    ops.request_sync(["a"])
    with trio.fail_after(10):
        while "failed to start" not in ops.state.configs["a"].error:
            await trio.sleep(0.05)
    entry = ops.state.configs["a"]
    assert entry.version == content_version(ws("good")) and entry.raw == ws("good").decode()
    assert "startup grace (2 s): status starting, health unhealthy; last error: exit: worker exited" in entry.error
    assert (d / "a.json").read_bytes() == ws("broken")  # a file edit is never overwritten
    top = (await ops.history.log("a"))[0].subject
    assert top == (f"a: version {content_version(ws('broken'))} by watcher failed to start; "
                   f"restored version {content_version(ws('good'))}")
    assert [i.config_version for i in ops.state.sent["h1"]] == [content_version(ws("good"))]
    ops.request_sync(["a"])  # re-reading the same rejected file does not try it again
    await trio.sleep(0.2)
    assert ops.state.configs["a"].version == content_version(ws("good"))


async def test_a_newer_save_supersedes_an_edit_still_being_verified(tmp_path: Path, nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("good"))
    coordinator = Coordinator(FleetState("boot", 1.0), tmp_path / "ports.json")
    ops = WorkspaceOps(coordinator, d, GitHistory(d), OpsTimers(startup_grace=20.0, stop_timeout=2.0))
    coordinator.load_configs(await ops.load_at_startup())
    ops.run(nursery)
    nursery.start_soon(FakeAgent(ops).run)
    (d / "a.json").write_bytes(ws("broken"))  # never comes up: verified for the whole 20 s grace...
    ops.request_sync(["a"])
    await trio.sleep(0.3)
    (d / "a.json").write_bytes(ws("fixed"))  # ...unless the operator's next save takes over
    ops.request_sync(["a"])
    fixed = content_version(ws("fixed"))
    with trio.fail_after(10):  # well inside the broken version's grace
        while not ops.state.configs["a"].version == fixed or ops.state.configs["a"].error:
            await trio.sleep(0.02)
        while not any(fixed in r.subject for r in await ops.history.log("a")):
            await trio.sleep(0.02)
    subjects = [r.subject for r in await ops.history.log("a")]
    assert not any(content_version(ws("broken")) in s for s in subjects), subjects  # never accepted


async def test_apply_waits_for_the_new_version_and_restart_stops_then_starts(tmp_path: Path,
                                                                            nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("good"))
    ops = await start(d, nursery)
    nursery.start_soon(FakeAgent(ops).run)
    control = WorkspaceControl(ops, tmp_path / "desired.json")
    result = await ops.apply("a", ws("better"), wait=True)
    assert result.outcome == "applied" and result.finished_at >= result.started_at
    assert (await control.stop("a", wait=True)).worker.status == Status.STOPPED  # type: ignore[union-attr]
    assert json.loads((tmp_path / "desired.json").read_text())["stopped"] == ["a"]
    view = await control.start("a", wait=True)
    assert view.worker is not None and view.worker.status == Status.RUNNING
    assert (await control.restart("a", wait=True)).worker.status == Status.RUNNING  # type: ignore[union-attr]
    failed = await ops.apply("a", ws("broken"), wait=True)
    assert failed.outcome == "rolled-back" and (d / "a.json").read_bytes() == ws("better")


async def test_shutting_down_mid_apply_puts_the_last_accepted_file_back(tmp_path: Path) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    (d / "a.json").write_bytes(ws("good"))
    async with trio.open_nursery() as n:
        ops = await start(d, n)
        n.start_soon(FakeAgent(ops).run)
        assert (await ops.apply("a", ws("broken"), wait=False)).outcome == "accepted"
        assert (await ops.apply("b", ws("broken"), wait=False)).outcome == "accepted"
        assert (d / "a.json").read_bytes() == ws("broken")
        n.cancel_scope.cancel()  # what the control plane's shutdown does
    assert (d / "a.json").read_bytes() == ws("good")
    assert not (d / "b.json").exists()


async def test_periodic_reread_leaves_files_being_saved_to_the_watcher(tmp_path: Path, nursery: trio.Nursery) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    names = ("old", "fresh", "skewed", "gone", "both")
    for name in names:
        (d / f"{name}.json").write_bytes(ws(name))
    ops = await start(d, nursery)
    (d / "gone.json").unlink()  # known in memory, deleted on disk: the re-read must see that
    now = time.time()
    for name, age in (("old", 2.5), ("fresh", 1.0), ("skewed", -3600), ("both", 1.0)):
        (d / f"{name}.json").write_bytes(ws(f"{name} v2"))
        os.utime(d / f"{name}.json", (now - age, now - age))  # skewed: an mtime ahead of our clock
    async with ops.lock("both"):  # a watcher request arriving while the periodic one waits wins
        ops.request_sync(names, by="watcher (periodic re-read)", settle_seconds=2.0)
        ops.request_sync(["both"], by="watcher")
    with trio.fail_after(10):
        while "gone" in ops.state.configs or ops.state.configs["both"].version != content_version(ws("both v2")):
            await trio.sleep(0.05)
        while "by watcher\n" not in git(d, "log", "-1", "--format=%s%n", "--", "both.json"):  # committed next
            await trio.sleep(0.05)
    versions = {n: e.version for n, e in ops.state.configs.items()}
    assert versions == {"old": content_version(ws("old v2")), "fresh": content_version(ws("fresh")),
                        "skewed": content_version(ws("skewed v2")), "both": content_version(ws("both v2"))}


async def test_history_records_the_accepted_content_even_when_the_file_moved_on(tmp_path: Path) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    history = GitHistory(d)
    await history.ensure_repo()
    (d / "a.json").write_bytes(ws("second save"))  # saved again before the first was confirmed
    await history.commit_file("a", "a: version 1 by watcher", ws("first save"))
    assert git(d, "show", "HEAD:a.json").encode() == ws("first save")
    assert await history.commit_file("a", "a: version 2 by watcher", ws("second save")) is not None
    assert git(d, "show", "HEAD:a.json").encode() == ws("second save")


async def test_changes_to_many_workspaces_at_once_each_get_their_own_commit(tmp_path: Path) -> None:
    d = tmp_path / "workspaces"
    d.mkdir()
    history = GitHistory(d)
    await history.ensure_repo()
    names = [f"w{i}" for i in range(8)]
    for name in names:
        (d / f"{name}.json").write_bytes(ws(name))
    async with trio.open_nursery() as nursery:  # as parallel applies to different workspaces do
        for name in names:
            nursery.start_soon(history.commit_file, name, f"{name}: version 1 by watcher", ws(name))
            nursery.start_soon(history.record, name, f"{name}: an event")
    for name in names:
        changed = git(d, "log", "--format=%s", "--name-only", f"--grep=^{name}: version 1", "--all").split()
        assert changed == [name + ":", "version", "1", "by", "watcher", f"{name}.json"], changed
