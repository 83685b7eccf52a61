"""`mcpfleet edges list [--connections]`: every edge registered with the control plane."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from mcpfleet.cli import output
from mcpfleet.cli.admin_link import AdminTarget, list_edges


def register(sub: Any) -> None:
    ed = sub.add_parser("edges", help="the fleet's edges (where MCP clients connect)")
    ed_sub = ed.add_subparsers(dest="action", required=True)
    ls = ed_sub.add_parser("list", help="every edge: id, public and admin address, version, connections")
    ls.add_argument("--connections", action="store_true", help="also list every client connection")
    ls.set_defaults(handler=list_cmd)


async def list_cmd(args: argparse.Namespace) -> int:
    doc = await list_edges(AdminTarget.from_args(args), args.connections)
    if args.output == "json":
        output.print_json(doc if args.connections else doc["edges"])
        return 0
    table = output.plain_table("EDGE", "PUBLIC", "ADMIN", "VERSION", "CONNECTIONS", "SINCE")
    for e in doc["edges"]:
        table.add_row(e["edgeId"], e["publicAddress"], e["adminAddress"], e["version"], str(e["connections"]),
                      e["connectedAt"])
    Console().print(table)
    if args.connections:
        conns = output.plain_table("WORKSPACE", "EDGE", "SESSION", "TRANSPORT", "CLIENT", "CONNECTED")
        for c in doc["connections"]:
            conns.add_row(c["workspace"], c["edgeId"], c["sessionId"], c["transport"], c["clientName"] or "-",
                          c["connectedAt"])
        Console().print(conns)
    return 0
