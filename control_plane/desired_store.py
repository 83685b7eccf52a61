"""Persistence of the operator's `workspaces stop|start` choice in `state/desired.json` (I/O).

Only workspaces held stopped are listed (absent = desired running), so a control-plane restart
keeps a stopped workspace stopped. Written atomically (temp, fsync, rename).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from mcpfleet.atomic import write_json_atomic
from mcpfleet.model import Desired

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1


def load_desired(path: Path) -> dict[str, Desired]:
    """Workspace -> Desired.STOPPED for each workspace the operator stopped. A missing or unreadable
    file gives {} (unreadable: logged and kept aside as `<name>.corrupt`)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return {str(ws): Desired.STOPPED for ws in data["stopped"]}
    except (OSError, ValueError, KeyError, TypeError) as err:
        aside = path.with_suffix(path.suffix + ".corrupt")
        log.error("%s unreadable (%s); moved to %s, every workspace desired running", path, err, aside)
        path.replace(aside)
        return {}


def save_desired(path: Path, desired: dict[str, Desired]) -> None:
    """Write the stopped workspaces atomically."""
    stopped = sorted(ws for ws, d in desired.items() if d == Desired.STOPPED)
    write_json_atomic(path, {"schemaVersion": SCHEMA_VERSION, "stopped": stopped})
