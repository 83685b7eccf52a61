"""`mcpfleet workspaces ...`: inspect and manage workspaces."""

from __future__ import annotations

import argparse
from typing import Any

from mcpfleet.cli import output
from mcpfleet.cli.admin_link import AdminTarget, list_workspaces


def register(sub: Any) -> None:
    ws = sub.add_parser("workspaces", help="inspect and manage workspaces")
    ws_sub = ws.add_subparsers(dest="action", required=True)
    ls = ws_sub.add_parser("list", help="list workspaces with their status")
    ls.set_defaults(handler=list_cmd)


def target(args: argparse.Namespace) -> AdminTarget:
    return AdminTarget(args.control_plane, args.token)


async def list_cmd(args: argparse.Namespace) -> int:
    rows = await list_workspaces(target(args))
    if args.output == "json":
        output.print_json(rows)
    else:
        output.print_workspaces(rows)
    return 0
