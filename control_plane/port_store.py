"""Persistence of port allocations in `state/ports.json` (schemaVersion; atomic write)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from control_plane.ports import PortAllocator
from mcpfleet.atomic import write_json_atomic
from mcpfleet.errors import InvalidArgument

log = logging.getLogger(__name__)


def load_ports(path: Path) -> PortAllocator:
    """Read allocations; a missing file gives an empty allocator. A corrupt file is kept aside as
    `<name>.corrupt` (never silently overwritten) and the allocator starts empty."""
    if not path.exists():
        return PortAllocator()
    try:
        return PortAllocator.from_json(json.loads(path.read_text()))
    except (json.JSONDecodeError, InvalidArgument, OSError) as err:
        aside = path.with_suffix(path.suffix + ".corrupt")
        log.error("%s unreadable (%s); moved to %s, starting with no allocations", path, err, aside)
        path.replace(aside)
        return PortAllocator()


def save_ports(path: Path, ports: PortAllocator) -> None:
    """Write allocations atomically (temp file, fsync, rename)."""
    write_json_atomic(path, ports.to_json())
