"""Git-backed history of the workspaces directory (I/O: runs `git` through `trio.run_process`).

The workspaces directory is a git repository of its own (ARCHITECTURE section 2). Every accepted
change is one commit of that workspace's file, made with the control plane's own identity (never
the machine's git config: global and system config are switched off for every call) and a message
saying who or what made it. Every commit carries a `Workspace: <name>` trailer, so `log` also finds
the commits that record an undone apply (those change no file: history holds accepted versions
only).

Revisions are commit SHAs (a unique prefix is accepted), never config versions.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import trio

from mcpfleet.errors import Internal, InvalidArgument, NotFound

log = logging.getLogger(__name__)

AUTHOR_NAME = "mcp-fleet control plane"
AUTHOR_EMAIL = "control-plane@mcp-fleet.invalid"
GIT_TIMEOUT = 30.0  # seconds for any one git call
REV_RE = re.compile(r"^[0-9a-fA-F]{4,40}$")
_SEP = "\x1f"


@dataclass(frozen=True)
class Revision:
    """One commit touching a workspace: full SHA, UTC epoch seconds, author, first message line."""

    sha: str
    time: float
    author: str
    subject: str


def _env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        # Always this directory's own repository: git never walks up into an enclosing one (such
        # as the project's, when the workspaces dir is ./.mcpfleet/workspaces inside it).
        "GIT_DIR": str(directory / ".git"), "GIT_WORK_TREE": str(directory),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": AUTHOR_NAME, "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME, "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        "LC_ALL": "C",
    })
    return env


class GitHistory:
    """The git repository in `directory`. Call `await ensure_repo()` once before anything else."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # One index: a change of one workspace is staged and committed before another's starts
        # (git's index.lock refuses overlap, and a commit must not carry another's staged file).
        self._index = trio.Lock()

    async def _git(self, *args: str, check: bool = True, stdin: bytes | None = None
                   ) -> subprocess.CompletedProcess[bytes]:
        cmd = ["git", "-c", f"user.name={AUTHOR_NAME}", "-c", f"user.email={AUTHOR_EMAIL}",
               "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args]
        with trio.fail_after(GIT_TIMEOUT):
            result = await trio.run_process(cmd, cwd=self.directory, env=_env(self.directory), check=False,
                                            capture_stdout=True, capture_stderr=True,
                                            stdin=subprocess.DEVNULL if stdin is None else stdin)
        if check and result.returncode != 0:
            raise Internal(f"git {args[0]} failed in {self.directory}: "
                           f"{result.stderr.decode(errors='replace').strip()}")
        return result

    async def ensure_repo(self) -> None:
        """`git init` the directory if it is not a repository's top level yet (idempotent)."""
        if (self.directory / ".git").exists():
            return
        await self._git("init", "--quiet")
        log.info("initialised workspace history repository in %s", self.directory)

    async def commit_file(self, name: str, message: str, content: bytes | None = None) -> str | None:
        """Commit `<name>.json` as `content` (the version that was accepted: the file on disk may
        already hold a newer save, which gets its own commit), or the file's current content (or
        its removal) when `content` is None. Returns the new SHA, or None when that equals the
        last committed content (nothing to record)."""
        path = f"{name}.json"
        async with self._index:
            if content is not None:
                blob = (await self._git("hash-object", "-w", "--stdin", stdin=content)).stdout.decode().strip()
                await self._git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
            elif (self.directory / path).exists():
                await self._git("add", "--", path)
            else:
                await self._git("rm", "--cached", "--quiet", "--ignore-unmatch", "--", path)
            staged = await self._git("diff", "--cached", "--quiet", "--", path, check=False)
            if staged.returncode == 0:
                return None
            if content is not None:  # a pathspec would make git commit the working tree's file instead
                return await self._commit(name, message)
            return await self._commit(name, message, "--", path)

    async def record(self, name: str, message: str) -> str:
        """An empty commit that only records an event of `name` (e.g. an apply that was undone)."""
        async with self._index:
            return await self._commit(name, message, "--allow-empty")

    async def _commit(self, name: str, message: str, *args: str) -> str:
        await self._git("commit", "--quiet", "--no-verify", "-m", message, "-m", f"Workspace: {name}",
                        *args)
        return (await self._git("rev-parse", "HEAD")).stdout.decode().strip()

    async def log(self, name: str, limit: int = 100) -> list[Revision]:
        """Newest first: every commit with `name`'s trailer (changes and recorded events)."""
        if not await self._has_head():
            return []
        fmt = _SEP.join(("%H", "%at", "%an", "%s"))
        out = await self._git("log", f"--max-count={limit}", f"--format={fmt}",
                              f"--grep=^Workspace: {name}$")
        revs = []
        for line in out.stdout.decode(errors="replace").splitlines():
            sha, at, author, subject = line.split(_SEP, 3)
            revs.append(Revision(sha, float(at), author, subject))
        return revs

    async def show(self, name: str, rev: str = "HEAD") -> bytes | None:
        """`<name>.json` as of `rev`; None when it did not exist there. Raises InvalidArgument for
        a malformed revision and NotFound for an unknown one."""
        if rev != "HEAD" and not REV_RE.match(rev):
            raise InvalidArgument(f"invalid revision {rev!r}: expected a commit SHA (4-40 hex digits)")
        if not await self._has_head():
            return None
        resolved = await self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if resolved.returncode != 0:
            raise NotFound(f"revision {rev!r} not found in the workspace history")
        sha = resolved.stdout.decode().strip()
        out = await self._git("show", f"{sha}:{name}.json", check=False)
        return out.stdout if out.returncode == 0 else None

    async def resolve(self, rev: str) -> str:
        """The full SHA of `rev`; raises NotFound/InvalidArgument like `show`."""
        if not REV_RE.match(rev):
            raise InvalidArgument(f"invalid revision {rev!r}: expected a commit SHA (4-40 hex digits)")
        resolved = await self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if resolved.returncode != 0:
            raise NotFound(f"revision {rev!r} not found in the workspace history")
        return resolved.stdout.decode().strip()

    async def _has_head(self) -> bool:
        return (await self._git("rev-parse", "--verify", "--quiet", "HEAD", check=False)).returncode == 0
