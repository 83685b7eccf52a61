"""Watches the workspaces directory and hands changed workspaces to WorkspaceOps.sync (I/O).

- The DIRECTORY is watched (watchfiles), not the files: an atomic save (temp file + rename)
  replaces the inode, and a rename shows up as `added` for the target (STACK-NOTES "watchfiles").
- Hidden, swap and backup files are ignored (`config_store.workspace_name`); `.git` is not watched
  (non-recursive).
- Debounce: changes are collected for `debounce_seconds` after the first one, then handled in one
  batch, so a burst of saves restarts a workspace at most once per debounce window and the batch
  reads the final file.
- TTL: every `ttl_seconds` every known workspace is re-read (a change the watcher missed, e.g. on
  a network file system, is still picked up; unchanged files are a no-op by content version).
  A file modified less than `2 * debounce_seconds + 1` s before its re-read runs is left out
  (`WorkspaceOps.request_sync(settle_seconds=)`): it is the watcher's batch, and reading it here
  could catch an editor's half-written save and name the wrong author in `config/changed`. A
  missed change to such a file is picked up on the next round.
- Shutdown: awatch waits in a worker thread; cancelling it sets its `stop_event`, so it returns at
  once (STACK-NOTES: up to 5 s otherwise).
"""

from __future__ import annotations

import logging
from pathlib import Path

import trio
import watchfiles

from control_plane.config_store import workspace_name
from control_plane.workspace_ops import WorkspaceOps

log = logging.getLogger(__name__)
QUEUE_SIZE = 1024
WATCH_STEP_MS = 20


def _wanted(_change: watchfiles.Change, path: str) -> bool:
    return workspace_name(Path(path)) is not None


class ConfigWatcher:
    """See module docstring. Start with `await nursery.start(watcher.run)`."""

    def __init__(self, ops: WorkspaceOps, directory: Path, *, debounce_seconds: float = 0.5,
                 ttl_seconds: float = 30.0) -> None:
        self.ops = ops
        self.directory = directory
        self.debounce_seconds = debounce_seconds
        self.ttl_seconds = ttl_seconds
        self.batches = 0  # how many batches were handled (tests read it)

    @property
    def in_flight_seconds(self) -> float:
        """How long after a file's mtime the periodic re-read leaves it to the watcher (seconds)."""
        return 2 * self.debounce_seconds + 1.0

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Watch until cancelled. `started` once the watcher is in place (changes after it are seen)."""
        send, receive = trio.open_memory_channel[str](QUEUE_SIZE)
        async with trio.open_nursery() as nursery:
            await nursery.start(self._watch, send)
            nursery.start_soon(self._handle, receive)
            nursery.start_soon(self._refresh)
            task_status.started()

    async def _watch(self, send: trio.MemorySendChannel[str],
                     task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        stop = trio.Event()
        async with send, trio.open_nursery() as nursery:
            async def stop_on_cancel() -> None:
                try:
                    await trio.sleep_forever()
                finally:
                    stop.set()
            nursery.start_soon(stop_on_cancel)
            watcher = watchfiles.awatch(self.directory, watch_filter=_wanted, recursive=False,
                                        debounce=max(1, int(self.debounce_seconds * 1000)),
                                        step=WATCH_STEP_MS, stop_event=stop)
            # awatch sets up its notifier on the first iteration: a save in the moment before
            # that is caught by the TTL re-read.
            task_status.started()
            async for changes in watcher:
                for _change, path in changes:
                    name = workspace_name(Path(path))
                    if name is not None:
                        await send.send(name)
            nursery.cancel_scope.cancel()

    async def _handle(self, receive: trio.MemoryReceiveChannel[str]) -> None:
        async with receive:
            async for first in receive:
                names = {first}
                with trio.move_on_after(self.debounce_seconds):
                    async for name in receive:
                        names.add(name)
                while True:
                    try:
                        names.add(receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                self.batches += 1
                log.info("workspace files changed: %s", ", ".join(sorted(names)))
                self.ops.request_sync(names, by="watcher")

    async def _refresh(self) -> None:
        while True:
            await trio.sleep(self.ttl_seconds)
            try:
                names = self.ops.known_names()
            except OSError as err:
                log.error("could not list %s: %s", self.directory, err)
                continue
            log.debug("periodic re-read of %d workspace files", len(names))
            self.ops.request_sync(names, by="watcher (periodic re-read)", settle_seconds=self.in_flight_seconds)
