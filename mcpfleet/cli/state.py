"""`mcpfleet state show <component>` and `mcpfleet state validate`.

`show`: the state inspection API (workspace | resources | errors | agents) as JSON (the same
document as `GET /api/debug/state/{component}`); `-o table` summarizes it. `validate`: the
control plane's validateSystemState, each issue with its severity; exit 1 when any is an error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console

from mcpfleet.cli import output
from mcpfleet.cli.admin_link import AdminTarget, get_state, validate_state

COMPONENTS = ("workspace", "resources", "errors", "agents", "connections")


def register(sub: Any) -> None:
    st = sub.add_parser("state", help="inspect and validate the control plane's state")
    st_sub = st.add_subparsers(dest="action", required=True)
    show = st_sub.add_parser("show", help="show one component's state (workspace|resources|errors|agents|connections)")
    show.add_argument("component", choices=COMPONENTS)
    show.add_argument("--show-secrets", action="store_true", help="show env and header values")
    show.set_defaults(handler=show_cmd)
    val = st_sub.add_parser("validate", help="check the fleet's state; exit 1 on any error")
    val.set_defaults(handler=validate_cmd)


async def show_cmd(args: argparse.Namespace) -> int:
    doc = await get_state(AdminTarget.from_args(args), args.component, args.show_secrets)
    if args.output == "json":
        output.print_json(doc)
        return 0
    console = Console()
    if args.component == "workspace":
        table = output.plain_table("WORKSPACE", "CONFIG", "PLACEMENT", "HOST", "PORT", "STATUS", "HEALTH", "BREAKER")
        for name, w in sorted(doc["workspaces"].items()):
            proc = w.get("process") or {}
            table.add_row(name, w["config"]["state"], w["placement"]["state"], w["placement"]["host"] or "-",
                          str(w["port"] or "-"), proc.get("status", "-"), proc.get("health", "-"), w["breaker"])
    elif args.component == "resources":
        table = output.plain_table("HOST", "PORT RANGE", "ALLOCATED", "ACTIVE", "MEMORY MiB", "AVG CPU %", "LIMITS")
        for host, h in sorted(doc["hosts"].items()):
            u, lim = h["currentUsage"], h["processLimits"]
            table.add_row(host, f"{h['portRange']['min']}-{h['portRange']['max']}", str(len(h["allocatedPorts"])),
                          str(u["activeProcesses"]), str(u["totalMemoryMB"]), str(u["avgCpuPercent"]),
                          json.dumps(lim))
    elif args.component == "errors":
        table = output.plain_table("COMPONENT", "BREAKER", "FAILURES", "NEXT RETRY", "HEALTH", "LAST ERROR")
        for name, c in sorted(doc["components"].items()):
            cb, errs = c["circuitBreaker"], c["recentErrors"]
            table.add_row(name, cb["state"], str(cb["failureCount"]), cb["nextRetry"] or "-", c["healthStatus"],
                          (errs[-1]["message"] if errs else "-")[:60])
    elif args.component == "connections":  # reported by the edges
        table = output.plain_table("WORKSPACE", "EDGE", "SESSION", "TRANSPORT", "CLIENT", "CONNECTED")
        for c in doc["connections"]:
            table.add_row(c["workspace"], c["edgeId"], c["sessionId"], c["transport"], c["clientName"] or "-",
                          c["connectedAt"])
    else:
        table = output.plain_table("HOST", "STATUS", "ADDRESS", "WORKSPACES", "LAST SEEN", "NEW WORK")
        for host, a in sorted(doc["agents"].items()):
            table.add_row(host, a["status"], a["address"], str(len(a["workspaces"])), a["lastSeen"] or "-",
                          "yes" if a["acceptsNewWorkspaces"] else "no (breaker open)")
    console.print(table)
    return 0


async def validate_cmd(args: argparse.Namespace) -> int:
    issues = await validate_state(AdminTarget.from_args(args))
    errors = sum(1 for i in issues if i["severity"] == "error")
    if args.output == "json":
        output.print_json({"ok": errors == 0, "errors": errors, "issues": issues})
    else:
        console = Console()
        if not issues:
            console.print("[green]state is consistent: no issues[/]")
        else:
            style = {"error": "red", "warning": "yellow", "info": "dim"}
            table = output.plain_table("SEVERITY", "COMPONENT", "WORKSPACE", "HOST", "ISSUE")
            for i in issues:
                table.add_row(f"[{style[i['severity']]}]{i['severity']}[/]", i["component"], i["workspace"] or "-",
                              i["host"] or "-", i["issue"])
            console.print(table)
            console.print(f"{errors} error(s), {len(issues) - errors} other issue(s)")
    return 1 if errors else 0
