"""Printing CLI results: rich tables for people, JSON (`-o json`) for scripts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

WORKSPACE_COLUMNS = ("name", "status", "health", "host", "port", "pid", "restarts", "uptime")


def plain_table(*headers: str) -> Table:
    """A borderless table with bold headers (fits narrow terminals)."""
    return Table(*headers, box=None, header_style="bold")


def emit(output: str, value: Any, render: Callable[[Any], None]) -> None:
    """Print `value` as JSON when `output` is "json" (`-o json`), else with `render` for people."""
    if output == "json":
        print_json(value)
    else:
        render(value)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False) + "\n")


def format_uptime(start: float | None, now: float | None = None) -> str:
    """`3d4h`, `2h5m`, `4m10s`, `12s`; `-` when not running."""
    if not start:
        return "-"
    secs = max(0, int((now or time.time()) - start))
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    mins, secs = divmod(rem, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{mins}m"
    return f"{mins}m{secs}s" if mins else f"{secs}s"


def workspace_row(w: dict[str, Any]) -> list[str]:
    status = w["status"]
    if w["config"] == "rejected":
        status = "config rejected" if status == "unknown" else f"{status} (config rejected)"
    elif w["placement"] == "pending":
        status = f"pending: {w['placementReason']}"
    if w.get("breaker", "closed") != "closed":
        status = f"{status} (breaker {w['breaker']})"
    running = w["status"] in ("running", "starting")
    return [w["name"], status, w["health"] or "-", w["host"] or "-", str(w["port"] or "-"),
            str(w["pid"] or "-"), str(w["restartCount"]),
            format_uptime(w["startTime"] if running else None)]


def print_workspaces(workspaces: list[dict[str, Any]]) -> None:
    """The `workspaces list` table; rejected configs get their reason on a line below."""
    table = plain_table(*(col.upper() for col in WORKSPACE_COLUMNS))
    for w in workspaces:
        table.add_row(*workspace_row(w))
    console = Console()
    console.print(table)
    for w in workspaces:
        if w["configError"]:
            console.print(f"[red]{w['name']}: config rejected:[/red] {escape(w['configError'])}", highlight=False)


def error(message: str) -> None:
    """`error: <message>` on stderr; the message is shown as it is (never read as rich markup)."""
    Console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
