"""`mcpfleet agents list` and `mcpfleet agents drain <host> [--undo]`."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from mcpfleet.cli import output
from mcpfleet.cli.admin_link import AdminTarget, drain_agent, list_agents

STYLE = {"ready": "green", "unknown": "yellow", "draining": "cyan"}


def register(sub: Any) -> None:
    ag = sub.add_parser("agents", help="the fleet's hosts (supervisor agents)")
    ag_sub = ag.add_subparsers(dest="action", required=True)
    ls = ag_sub.add_parser("list", help="every agent: address, status, version, workspaces, usage")
    ls.set_defaults(handler=list_cmd)
    drain = ag_sub.add_parser("drain", help="move every workspace off a host (started elsewhere, "
                                            "then stopped there)")
    drain.add_argument("host", help="the agent's host id")
    drain.add_argument("--undo", action="store_true", help="stop draining (nothing moves back)")
    drain.set_defaults(handler=drain_cmd)


def _table(rows: list[dict[str, Any]]) -> None:
    table = output.plain_table("HOST", "ADDRESS", "STATUS", "VERSION", "WORKSPACES", "RSS MiB", "CPU %",
                               "PROCS", "LAST SEEN")
    for a in rows:
        table.add_row(a["hostId"], a["address"], f"[{STYLE.get(a['status'], 'white')}]{a['status']}[/]",
                      a["version"], ", ".join(a["workspaces"]) or "-", f"{a['rssMB']:.0f}",
                      f"{a['cpuPercent']:.0f}", str(a["processCount"]), a["lastSeen"] or "-")
    Console().print(table)


async def list_cmd(args: argparse.Namespace) -> int:
    rows = await list_agents(AdminTarget.from_args(args))
    output.emit(args.output, rows, _table)
    return 0


async def drain_cmd(args: argparse.Namespace) -> int:
    result = await drain_agent(AdminTarget.from_args(args), args.host, args.undo)
    if args.output == "json":
        output.print_json(result)
    else:
        verb = "no longer draining" if args.undo else "draining"
        print(f"agent {args.host}: {verb}; moving: {', '.join(result['moving']) or '-'}; "
              f"staying (nowhere else to go): {', '.join(result['staying']) or '-'}")
    return 0
