"""Workspace files on disk -> ConfigEntry (I/O helpers of WorkspaceOps and the watcher).

One `<name>.json` per workspace in the workspaces directory; hidden files, editor swap/backup
files and names that break the workspace name rule are ignored (the latter with a warning).
What to do with a file that does not validate (keep the last accepted version, show the reason)
is WorkspaceOps' business; `accepted_entry` only raises InvalidArgument with file, line/field and
reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

from control_plane.state import ConfigEntry
from mcpfleet.workspace import NAME_RE, content_version, parse_workspace

log = logging.getLogger(__name__)


def workspace_name(path: Path) -> str | None:
    """The workspace a path in the workspaces directory stands for, or None when the watcher should
    ignore it: hidden files (editors' temp files such as `.demo.json.swp`, our own atomic-write
    temps), backups (`demo.json~`, `demo.json.bak`), anything not ending in `.json`, and stems that
    break the workspace name rule."""
    name = path.name
    if name.startswith(".") or not name.endswith(".json") or path.parent.name == ".git":
        return None
    return path.stem if NAME_RE.match(path.stem) else None


def read_raw(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist (deleted, or mid-rename)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def modified_time(path: Path) -> float | None:
    """The file's mtime (epoch seconds), None when it is gone."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def accepted_entry(name: str, raw: bytes, last_modified: float | None, source: str) -> ConfigEntry:
    """Validate `raw` as workspace `name`; raises InvalidArgument (with `source`, line or field,
    and reason) when it does not validate."""
    config = parse_workspace(raw, source=source)
    return ConfigEntry(name=name, config=config, raw=raw.decode("utf-8"), version=content_version(raw),
                       last_modified=last_modified)


def workspace_files(directory: Path) -> dict[str, Path]:
    """Workspace name -> file path for every candidate `*.json` in `directory`."""
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("."):
            continue
        if not NAME_RE.match(path.stem):
            log.warning("ignoring %s: file stem is not a valid workspace name", path)
            continue
        found[path.stem] = path
    return found
