"""The agent's local state file of its workers, for re-adoption after an agent restart (I/O).

`<state-dir>/workers-state.json` (ARCHITECTURE section 2, "Process lifecycle"):
```json
{"schemaVersion": 1, "hostId": "h1",
 "workers": {"demo": {"pid": 123, "createTime": 1764480000.12, "port": 40000,
                      "configVersion": "sha256:...", "restartCount": 0,
                      "startTime": 1764480093.5}}}
```
`startTime` (optional; epoch seconds) is when the worker started serving this workspace: later than
`createTime` for a worker born as a pre-warmed spare (spare_worker.py), which may idle for long.
Written atomically (temp file, fsync, rename) whenever a worker's pid changes. The workspace's
config JSON lives beside it in `workers/<ws>.json` (written at each start). A file of another
schema version, or one that does not parse, is ignored with a warning (workers then start anew).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpfleet.atomic import write_json_atomic

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
FILE_NAME = "workers-state.json"


@dataclass(frozen=True)
class WorkerRecord:
    """One running worker as recorded: pid + psutil create time identify it (a pid alone may be
    reused by an unrelated process)."""

    workspace: str
    pid: int
    create_time: float
    port: int
    config_version: str
    restart_count: int = 0
    start_time: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pid": self.pid, "createTime": self.create_time, "port": self.port,
                               "configVersion": self.config_version, "restartCount": self.restart_count}
        if self.start_time is not None:
            out["startTime"] = self.start_time
        return out


def load_records(state_dir: Path) -> dict[str, WorkerRecord]:
    """The recorded workers (workspace -> record); empty when there is no usable file."""
    path = state_dir / FILE_NAME
    try:
        data = json.loads(path.read_text())
        if data.get("schemaVersion") != SCHEMA_VERSION:
            log.warning("%s: schemaVersion %r is not %d; ignoring it", path,
                        data.get("schemaVersion"), SCHEMA_VERSION)
            return {}
        return {
            ws: WorkerRecord(ws, int(w["pid"]), float(w["createTime"]), int(w["port"]),
                             str(w["configVersion"]), int(w.get("restartCount", 0)),
                             float(w["startTime"]) if "startTime" in w else None)
            for ws, w in data["workers"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        log.warning("%s: unreadable (%s); ignoring it", path, err)
        return {}


def save_records(state_dir: Path, host_id: str, records: dict[str, WorkerRecord]) -> None:
    """Replace the state file with `records` (atomic)."""
    write_json_atomic(state_dir / FILE_NAME, {
        "schemaVersion": SCHEMA_VERSION, "hostId": host_id,
        "workers": {ws: r.to_json() for ws, r in sorted(records.items())},
    })
