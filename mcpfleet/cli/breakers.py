"""`mcpfleet breakers list` and `mcpfleet breakers reset <component>`.

Components are `workspace/<name>` (a bare workspace name works too) and `agent/<host>`.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from mcpfleet.cli import output
from mcpfleet.cli.admin_link import AdminTarget, list_breakers, reset_breaker

STYLE = {"closed": "green", "open": "red", "half-open": "yellow"}


def register(sub: Any) -> None:
    br = sub.add_parser("breakers", help="circuit breakers of workspaces and agent links")
    br_sub = br.add_subparsers(dest="action", required=True)
    ls = br_sub.add_parser("list", help="every breaker with its state, failures and next retry")
    ls.set_defaults(handler=list_cmd)
    reset = br_sub.add_parser("reset", help="close a breaker and forget its failures")
    reset.add_argument("component", help="workspace/<name>, agent/<host>, or a workspace name")
    reset.set_defaults(handler=reset_cmd)


def _table(rows: list[dict[str, Any]]) -> None:
    table = output.plain_table("COMPONENT", "STATE", "FAILURES", "OPENS", "LAST FAILURE", "NEXT RETRY", "HEALTH")
    for b in rows:
        table.add_row(b["component"], f"[{STYLE.get(b['state'], 'white')}]{b['state']}[/]", str(b["failureCount"]),
                      str(b["openCount"]), b["lastFailure"] or "-", b["nextRetry"] or "-", b["healthStatus"])
    Console().print(table)


async def list_cmd(args: argparse.Namespace) -> int:
    rows = await list_breakers(AdminTarget.from_args(args))
    output.emit(args.output, rows, _table)
    return 0


async def reset_cmd(args: argparse.Namespace) -> int:
    row = await reset_breaker(AdminTarget.from_args(args), args.component)
    output.emit(args.output, row, lambda r: _table([r]))
    return 0
