"""`mcpfleet workspaces ...`: inspect and manage workspaces."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.markup import escape

from mcpfleet.cli import output
from mcpfleet.cli.admin_link import (
    AdminTarget,
    apply_workspace,
    delete_workspace,
    get_workspace,
    list_workspaces,
    rfc3339,
    rollback_workspace,
    workspace_action,
    workspace_history,
)

T = TypeVar("T")


def register(sub: Any) -> None:
    ws = sub.add_parser("workspaces", help="inspect and manage workspaces")
    ws_sub = ws.add_subparsers(dest="action", required=True)
    ls = ws_sub.add_parser("list", help="list workspaces with their status")
    ls.set_defaults(handler=list_cmd)
    register_changes(ws_sub)


async def list_cmd(args: argparse.Namespace) -> int:
    rows = await list_workspaces(AdminTarget.from_args(args))
    output.emit(args.output, rows, output.print_workspaces)
    return 0


# -- get, apply, delete, stop/start/restart, history, rollback --------------------------------------

FAILED_OUTCOMES = ("rolled-back", "failed")


def register_changes(ws_sub: Any) -> None:
    get = ws_sub.add_parser("get", help="a workspace's config (secrets redacted) and live state")
    get.add_argument("name")
    get.add_argument("--show-secrets", action="store_true", help="show env and header values")
    get.set_defaults(handler=get_cmd)
    apply = ws_sub.add_parser("apply", help="validate, write and restart a workspace from a file; "
                              "rolled back by the control plane if it fails to start")
    apply.add_argument("-f", "--file", required=True, type=Path, help="the workspace JSON file")
    apply.add_argument("--name", help="workspace name (default: the file's stem)")
    apply.add_argument("--wait", action="store_true", help="wait until it runs healthy or is rolled back")
    apply.set_defaults(handler=apply_cmd)
    delete = ws_sub.add_parser("delete", help="delete a workspace (its file; the worker stops)")
    delete.add_argument("name")
    delete.set_defaults(handler=delete_cmd)
    for verb, text in (("stop", "hold a workspace stopped"), ("start", "let a stopped workspace run"),
                       ("restart", "stop a workspace's worker and start it again on the same port")):
        p = ws_sub.add_parser(verb, help=text)
        p.add_argument("name")
        p.add_argument("--wait", action="store_true", help="wait until the change is done")
        p.set_defaults(handler=action_cmd, verb=verb)
    hist = ws_sub.add_parser("history", help="git revisions of a workspace's file")
    hist.add_argument("name")
    hist.add_argument("--limit", type=int, default=20)
    hist.set_defaults(handler=history_cmd)
    rb = ws_sub.add_parser("rollback", help="apply an old revision as a new change")
    rb.add_argument("name")
    rb.add_argument("revision", help="commit SHA from `workspaces history` (a unique prefix works)")
    rb.add_argument("--wait", action="store_true", help="wait until it runs healthy or is rolled back")
    rb.set_defaults(handler=rollback_cmd)


async def _spin(args: argparse.Namespace, text: str, call: Awaitable[T]) -> T:
    """Await `call`, with a spinner when a person waits on a terminal."""
    if getattr(args, "wait", False) and args.output != "json" and sys.stdout.isatty():
        with Console().status(text):
            return await call
    return await call


async def get_cmd(args: argparse.Namespace) -> int:
    w = await get_workspace(AdminTarget.from_args(args), args.name, args.show_secrets)
    if args.output == "json":
        output.print_json(w)
        return 0
    console = Console()
    for key in ("name", "config", "configError", "version", "lastModified", "desired", "status",
                "health", "host", "port", "pid", "restartCount", "startTime", "runningVersion"):
        if w.get(key) not in (None, ""):
            console.print(f"[bold]{key}[/bold]: {escape(str(w[key]))}", highlight=False)
    for err in w["errors"][-5:]:
        console.print(f"[yellow]error[/yellow] {err['time']} {err['reason']}: {escape(err['message'])}",
                      highlight=False)
    if w["spec"] is not None:
        console.print_json(json.dumps(w["spec"]))
    return 0


def _print_change(args: argparse.Namespace, r: dict[str, Any]) -> int:
    failed = r["outcome"] in FAILED_OUTCOMES
    if args.output == "json":
        output.print_json(r)
    elif failed:
        output.error(f"{r['name']}: {r['outcome']}: {r['reason']}")
    else:
        extra = f" (revision {r['revision'][:12]})" if r["revision"] else ""
        print(f"{r['name']}: {r['outcome']}, version {r['version'] or '-'}{extra}")
    return 1 if failed else 0


async def apply_cmd(args: argparse.Namespace) -> int:
    try:
        content = args.file.read_bytes()
    except OSError as err:
        output.error(f"cannot read {args.file}: {err.strerror}")
        return 1
    name = args.name or args.file.stem
    r = await _spin(args, f"applying {name}...", apply_workspace(AdminTarget.from_args(args), name, content, args.wait))
    return _print_change(args, r)


async def rollback_cmd(args: argparse.Namespace) -> int:
    r = await _spin(args, f"rolling {args.name} back to {args.revision}...",
                    rollback_workspace(AdminTarget.from_args(args), args.name, args.revision, args.wait))
    return _print_change(args, r)


async def delete_cmd(args: argparse.Namespace) -> int:
    return _print_change(args, await delete_workspace(AdminTarget.from_args(args), args.name))


async def action_cmd(args: argparse.Namespace) -> int:
    w = await _spin(args, f"{args.verb} {args.name}...",
                    workspace_action(AdminTarget.from_args(args), args.verb, args.name, args.wait))
    if args.output == "json":
        output.print_json({**w, "startTime": rfc3339(w["startTime"])})
    else:
        output.print_workspaces([w])
    return 0


async def history_cmd(args: argparse.Namespace) -> int:
    revs = await workspace_history(AdminTarget.from_args(args), args.name, args.limit)
    if args.output == "json":
        output.print_json(revs)
        return 0
    table = output.plain_table("REVISION", "TIME", "AUTHOR", "CHANGE")
    for r in revs:
        table.add_row(r["revision"][:12], r["time"], r["author"], r["subject"])
    Console().print(table)
    return 0
