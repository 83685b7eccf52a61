"""Changes to workspaces: file edits seen by the watcher, `apply`, `rollback`, `delete` (I/O).

ARCHITECTURE section 2, "Who writes the workspace files": the files are the source of truth.
Every change of one workspace runs under that workspace's lock (`trio.Lock` per name), so two
changes of one workspace never overlap while changes of different workspaces run in parallel.

A change goes: validate -> record the config (the agent restarts the worker: stop, then start on
the same port) -> wait until the mirrored worker with the new config `version` is `running` and
`healthy` within the startup grace -> commit it to git. If it fails to start, the last accepted
version is put back (an `apply`/`rollback` also restores that file; a file edit is never
overwritten and is shown `rejected` with the reason) and the failure is recorded in git as an
empty commit, so `history` shows what happened while the tree holds accepted versions only.
An apply runs as a task in the control plane's nursery, so it completes (and undoes itself) even
when the CLI does not wait or is interrupted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import trio

from control_plane.config_store import accepted_entry, modified_time, read_raw, workspace_files
from control_plane.coordinator import Coordinator
from control_plane.events import Event, EventType
from control_plane.git_history import GitHistory
from control_plane.state import ConfigEntry
from control_plane.workspace_waits import OpsTimers, describe_failure, is_up, wait_until
from mcpfleet.atomic import write_atomic
from mcpfleet.errors import FailedPrecondition, FleetError, Internal, InvalidArgument, NotFound
from mcpfleet.model import Desired, RestartMode
from mcpfleet.workspace import check_name, content_version, parse_workspace

log = logging.getLogger(__name__)
SUPERSEDED = "superseded by a newer save before it was confirmed"
EMPTY_SETTLE_SECONDS = 1.0  # an empty file younger than this may be a save in progress


@dataclass(frozen=True)
class ApplyResult:
    """Outcome of one change. `outcome`: applied | unchanged | rolled-back | accepted (not waited
    for) | failed (could not be carried out). Times: epoch seconds the workspace's lock was held."""

    name: str
    outcome: str
    version: str
    previous_version: str
    reason: str
    revision: str
    started_at: float
    finished_at: float


class WorkspaceOps:
    """See module docstring. `run(nursery)` must be called before `apply`/`rollback`."""

    def __init__(self, coordinator: Coordinator, directory: Path, history: GitHistory,
                 timers: OpsTimers) -> None:
        self.coordinator = coordinator
        self.state = coordinator.state
        self.directory = directory
        self.history = history
        self.timers = timers
        self.locks: dict[str, trio.Lock] = {}
        self.seen: dict[str, str] = {}  # name -> content version of the file as last handled
        self._nursery: trio.Nursery | None = None
        self._queued: dict[str, tuple[str, float]] = {}  # re-reads waiting for their lock: (by, settle)

    def lock(self, name: str) -> trio.Lock:
        """The lock serialising every change of workspace `name`."""
        return self.locks.setdefault(name, trio.Lock())

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def emit_config_changed(self, name: str, **data: object) -> None:
        """Post `config/changed` for `name` (data: status valid|rejected|deleted, version, reason, by)."""
        self.coordinator.bus.post(Event(EventType.CONFIG_CHANGED, name, "", dict(data)))

    # -- startup ------------------------------------------------------------------------------

    async def load_at_startup(self) -> list[ConfigEntry]:
        """Every workspace: the file if it validates (committed if it differs from git), else the
        last accepted version from git with the file's rejection reason; files deleted while we
        were down are committed as deletions."""
        await self.history.ensure_repo()
        entries = []
        files = workspace_files(self.directory)
        for name, path in files.items():
            raw = read_raw(path)
            if raw is None:
                continue
            self.seen[name] = content_version(raw)
            try:
                entry = accepted_entry(name, raw, modified_time(path), f"{name}.json")
            except InvalidArgument as err:
                entries.append(await self._last_accepted(name, str(err)))
                continue
            await self.history.commit_file(name, f"{name}: version {entry.version} found at startup", raw)
            entries.append(entry)
        for name in await self._committed_names():
            if name not in files:
                await self.history.commit_file(name, f"{name}: file deleted while the control plane was down")
        return entries

    async def _committed_names(self) -> list[str]:
        out = await self.history._git("ls-files", "--", "*.json")
        return [Path(p).stem for p in out.stdout.decode().split()]

    async def _last_accepted(self, name: str, reason: str) -> ConfigEntry:
        log.error("workspace %s rejected: %s", name, reason)
        raw = await self.history.show(name)
        if raw is not None:
            try:
                good = accepted_entry(name, raw, None, f"{name}.json@HEAD")
                log.warning("workspace %s: running the last accepted version %s from git", name, good.version)
                return replace(good, error=reason)
            except InvalidArgument:
                pass
        return ConfigEntry(name, None, None, "", None, error=reason)

    # -- the watcher's side -------------------------------------------------------------------

    def request_sync(self, names: Iterable[str], by: str = "watcher", settle_seconds: float = 0.0) -> None:
        """Re-read the files of `names` and act on what changed, each workspace in its own task
        (in parallel across workspaces, serialised per workspace by its lock). A workspace that
        already has a re-read waiting for its lock gets no second one: that one reads the newest
        file when it runs, so a burst of saves costs at most one more restart.

        `settle_seconds` > 0 (the periodic re-read): when the re-read runs, a file modified less
        than that long ago is left alone; it is being saved, and the watcher's batch will read
        it (and name the right author). A watcher request for a workspace whose periodic re-read
        is still waiting replaces it."""
        if self._nursery is None:
            raise Internal("workspace operations are not running yet")
        for name in sorted(set(names)):
            waiting = self._queued.get(name)
            if waiting is None or (waiting[1] and not settle_seconds):
                self._queued[name] = (by, settle_seconds)
            if waiting is None:
                self._nursery.start_soon(self._sync_one, name)

    def _file_version(self, name: str) -> str | None:
        raw = read_raw(self.path(name))
        return content_version(raw) if raw and raw.strip() else None

    def known_names(self) -> set[str]:
        """Workspaces on disk or in memory (what a full re-read covers)."""
        return set(workspace_files(self.directory)) | set(self.state.configs)

    async def _sync_one(self, name: str) -> None:
        async with self.lock(name):
            by, settle_seconds = self._queued.pop(name)
            mtime = modified_time(self.path(name))
            if settle_seconds and mtime is not None and 0 <= time.time() - mtime < settle_seconds:
                return  # being saved: the watcher's batch reads it (a future mtime, from skew, is read)
            try:
                await self._sync_locked(name, by)
            except FleetError as err:  # e.g. git failing: logged, the next change retries
                log.error("workspace %s: could not handle the file change: %s", name, err)

    async def _sync_locked(self, name: str, by: str) -> None:
        path = self.path(name)
        raw = read_raw(path)
        entry = self.state.configs.get(name)
        if raw is None:
            if entry is not None:
                await self._forget(name, f"{name}: deleted (file removed) by {by}", by)
            return
        mtime = modified_time(path)
        if not raw.strip() and mtime is not None and 0 <= time.time() - mtime < EMPTY_SETTLE_SECONDS:
            # Likely an editor's truncate-then-write: look again once it had time to finish; an
            # empty file that stays empty is rejected like any invalid one.
            assert self._nursery is not None
            self._nursery.start_soon(self._sync_later, name, by, EMPTY_SETTLE_SECONDS)
            return
        version = content_version(raw)
        if self.seen.get(name) == version:
            return
        self.seen[name] = version
        try:
            new = accepted_entry(name, raw, mtime, f"{name}.json")
        except InvalidArgument as err:
            reason = str(err)
            log.error("workspace %s rejected (%s); %s", name, reason,
                      f"version {entry.version} keeps running" if entry and entry.config else "nothing runs")
            kept = replace(entry, error=reason) if entry else ConfigEntry(name, None, None, "", None, reason)
            self.coordinator.load_configs([kept])
            self.emit_config_changed(name, status="rejected", version=version, reason=reason, by=by)
            return
        await self._activate(name, new, entry, by, restore_file=False)

    async def _sync_later(self, name: str, by: str, delay: float) -> None:
        await trio.sleep(delay)
        self.request_sync([name], by)

    # -- apply / rollback / delete ------------------------------------------------------------

    def run(self, nursery: trio.Nursery) -> None:
        """Give the nursery apply tasks run in (the control plane's root nursery)."""
        self._nursery = nursery

    async def apply(self, name: str, raw: bytes, *, wait: bool, by: str = "cli apply") -> ApplyResult:
        """Validate `raw` as workspace `name`, write it atomically and restart the worker; undone by
        the control plane if it fails to start. With `wait` returns the final outcome, else as
        soon as the file is written (`accepted`). Raises InvalidArgument for a bad name or file."""
        check_name(name)
        parse_workspace(raw, source=f"{name}.json")
        if self._nursery is None:
            raise Internal("workspace operations are not running yet")
        written, done = trio.Event(), trio.Event()
        box: list[ApplyResult] = []
        self._nursery.start_soon(self._apply_task, name, raw, by, written, done, box)
        if wait:
            await done.wait()
            return box[0]
        await written.wait()  # set once the file is written, or when the task ended without it
        if box:
            return box[0]
        return ApplyResult(name, "accepted", content_version(raw), "", "", "", time.time(), 0.0)

    async def _apply_task(self, name: str, raw: bytes, by: str, written: trio.Event, done: trio.Event,
                          box: list[ApplyResult]) -> None:
        version = content_version(raw)
        started = 0.0
        try:
            async with self.lock(name):
                started = time.time()
                try:
                    result = await self._apply_locked(name, raw, by, written)
                except FleetError as err:
                    result = ApplyResult(name, "failed", version, "", str(err), "", started, 0.0)
                except OSError as err:
                    result = ApplyResult(name, "failed", version, "", f"could not write the file: {err}",
                                         "", started, 0.0)
                box.append(replace(result, started_at=started, finished_at=time.time()))
        finally:
            written.set()
            done.set()

    async def _apply_locked(self, name: str, raw: bytes, by: str, written: trio.Event) -> ApplyResult:
        entry = self.state.configs.get(name)
        version = content_version(raw)
        new = accepted_entry(name, raw, None, f"{name}.json")
        if (entry is not None and entry.version == version and not entry.error
                and read_raw(self.path(name)) == raw):
            return ApplyResult(name, "unchanged", version, version, "", "", 0.0, 0.0)
        write_atomic(self.path(name), raw)
        self.seen[name] = version
        new = replace(new, last_modified=modified_time(self.path(name)))
        written.set()
        return await self._activate(name, new, entry, by, restore_file=True)

    async def rollback(self, name: str, rev: str, *, wait: bool) -> ApplyResult:
        """Apply `<name>.json` as of git revision `rev` as a new change. Raises NotFound (unknown
        revision, or no such file there) and FailedPrecondition (it no longer validates)."""
        check_name(name)
        sha = await self.history.resolve(rev)
        raw = await self.history.show(name, sha)
        if raw is None:
            raise NotFound(f"workspace {name!r} has no file at revision {sha[:12]}")
        try:
            parse_workspace(raw, source=f"{name}.json@{sha[:12]}")
        except InvalidArgument as err:
            raise FailedPrecondition(f"revision {sha[:12]} no longer validates: {err}") from None
        return await self.apply(name, raw, wait=wait, by=f"cli rollback to {sha[:12]}")

    async def delete(self, name: str) -> ApplyResult:
        """Remove the workspace's file (committed), stop its worker and release its port."""
        check_name(name)
        async with self.lock(name):
            started = time.time()
            entry = self.state.configs.get(name)
            if entry is None and read_raw(self.path(name)) is None:
                raise NotFound(f"workspace {name!r} not found")
            self.path(name).unlink(missing_ok=True)
            rev = await self._forget(name, f"{name}: deleted by cli delete", "cli delete")
            return ApplyResult(name, "deleted", "", entry.version if entry else "", "", rev or "",
                               started, time.time())

    async def _forget(self, name: str, message: str, by: str) -> str | None:
        self.seen.pop(name, None)
        self.state.remove_config(name)
        self.state.desired.pop(name, None)
        self.coordinator.reconcile()
        self.emit_config_changed(name, status="deleted", by=by)
        log.info("workspace %s deleted by %s", name, by)
        return await self.history.commit_file(name, message)

    # -- the common path ----------------------------------------------------------------------

    async def _activate(self, name: str, new: ConfigEntry, previous: ConfigEntry | None, by: str,
                        *, restore_file: bool) -> ApplyResult:
        """Run `new`; keep it (commit) if it starts, else put `previous` back. Lock held."""
        prev_version = previous.version if previous and previous.config else ""
        self.coordinator.load_configs([new])  # (a new version also closes its breaker)
        self.emit_config_changed(name, status="valid", version=new.version, previous=prev_version, by=by)
        log.info("workspace %s: version %s by %s", name, new.version, by)
        def newer_save() -> bool:  # a file edit is superseded by the next one (apply holds the file)
            return not restore_file and self._file_version(name) not in (new.version, None)
        try:
            ok, reason = await self.verify(name, new.version, newer_save)
        except trio.Cancelled:
            # Shutting down mid-change: an unconfirmed apply is undone on disk, so the next start
            # runs the last accepted version (git holds accepted versions only).
            if restore_file:
                if previous is not None and previous.raw is not None:
                    write_atomic(self.path(name), previous.raw.encode())
                else:
                    self.path(name).unlink(missing_ok=True)
                log.warning("workspace %s: shutting down before version %s was confirmed; its file "
                            "is back to the last accepted version", name, new.version)
            raise
        if reason == SUPERSEDED:  # the waiting sync takes over; git holds accepted versions only
            log.info("workspace %s: version %s superseded by a newer save before it was confirmed",
                     name, new.version)
            if previous is not None and previous.config is not None:
                self.coordinator.load_configs([previous])  # what runs if the newer save is rejected
            return ApplyResult(name, "superseded", new.version, prev_version, reason, "", 0.0, 0.0)
        if ok:
            rev = await self.history.commit_file(name, f"{name}: version {new.version} by {by}",
                                                 None if new.raw is None else new.raw.encode())
            return ApplyResult(name, "applied", new.version, prev_version, "", rev or "", 0.0, 0.0)
        log.error("workspace %s: version %s by %s failed to start: %s", name, new.version, by, reason)
        if previous is not None and previous.config is not None and previous.raw is not None:
            if restore_file:
                write_atomic(self.path(name), previous.raw.encode())
                self.seen[name] = previous.version
                kept = replace(previous, error="", last_modified=modified_time(self.path(name)))
            else:
                kept = replace(previous, error=f"{name}.json: version {new.version} failed to start: {reason}")
            self.coordinator.load_configs([kept])
            what = f"restored version {previous.version}"
        else:
            if restore_file:
                self.path(name).unlink(missing_ok=True)
                self.seen.pop(name, None)
                self.state.remove_config(name)
                self.coordinator.reconcile()
            else:
                self.coordinator.load_configs([ConfigEntry(name, None, None, "", None,
                                                           f"{name}.json: failed to start: {reason}")])
            what = "removed it (there was no earlier version)" if restore_file else "nothing runs"
        self.emit_config_changed(name, status="rejected", version=new.version, reason=reason, by=by,
                                 rolledBackTo=prev_version)
        rev = await self.history.record(
            name, f"{name}: version {new.version} by {by} failed to start; {what}\n\n{reason}")
        return ApplyResult(name, "rolled-back", new.version, prev_version,
                           f"version {new.version} failed to start: {reason}; {what}", rev, 0.0, 0.0)

    async def verify(self, name: str, version: str, superseded: Callable[[], bool] = lambda: False
                     ) -> tuple[bool, str]:
        """Wait until the worker of `name` runs `version` and is healthy, at most the startup grace.
        A workspace not placed or held stopped has nothing to verify (True). Ends early (False)
        when the workspace's breaker opens (it is held stopped: it will not come up) or when
        `superseded()` says a newer change is waiting."""
        if self.state.placements.get(name) is None or name in self.state.pending:
            return True, ""
        if self.state.desired.get(name, Desired.RUNNING) != Desired.RUNNING:
            return True, ""
        def settled() -> bool:
            return (is_up(self.state, name, version) or superseded()
                    or self.state.restart_modes.get(name) == RestartMode.NEVER)
        await wait_until(self.coordinator.bus, name, settled, self.timers.startup_grace)
        if is_up(self.state, name, version):
            return True, ""
        if superseded():
            return False, SUPERSEDED
        return False, describe_failure(self.state, name, version, self.timers.startup_grace)
