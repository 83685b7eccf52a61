"""Logging setup and the one-line readiness report every service prints on stdout."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping


def setup_logging(service: str, level: str = "INFO") -> None:
    """Log to stderr as `time level service logger: message` (stdout is for the ready line)."""
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s",
    )


def print_ready(service: str, addresses: Mapping[str, str], **extra: object) -> None:
    """Print `{"event": "ready", "service": ..., "addresses": {...}}` on stdout and flush.

    Launchers (`mcpfleet up`, tests) wait for this line and read the real bound addresses from it.
    """
    line = {"event": "ready", "service": service, "addresses": dict(addresses), **extra}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
