"""`mcpfleet` entry point: parses the command line and maps outcomes to exit codes.

Exit codes (ARCHITECTURE section 7): 0 ok, 1 the operation failed or found errors, 2 usage,
3 control plane unreachable (said within 2 s).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import trio

from mcpfleet import errors
from mcpfleet.cli import output
from mcpfleet.cli.admin_link import AdminTarget, list_workspaces
from mcpfleet.cli.up import UpOptions, run_up

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpfleet", description="Operate an mcp-fleet.")
    parser.add_argument("--control-plane", default=os.environ.get("MCPFLEET_CONTROL_PLANE",
                                                                  "127.0.0.1:50051"),
                        help="control plane gRPC address (env MCPFLEET_CONTROL_PLANE)")
    parser.add_argument("--token", default=os.environ.get("MCPFLEET_ADMIN_TOKEN"),
                        help="admin token (env MCPFLEET_ADMIN_TOKEN)")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run control plane, agent and edge on this host")
    up.add_argument("--dir", type=Path, default=Path(".mcpfleet"), help="state directory")
    up.add_argument("--grpc-port", type=int, default=50051)
    up.add_argument("--edge-port", type=int, default=8080)
    up.add_argument("--port-min", type=int, default=40000, help="lowest worker port")
    up.add_argument("--port-max", type=int, default=40999, help="highest worker port")
    up.add_argument("--host-id", default=None, help="the agent's host id (default: hostname)")

    ws = sub.add_parser("workspaces", help="inspect and manage workspaces")
    ws_sub = ws.add_subparsers(dest="action", required=True)
    ws_sub.add_parser("list", help="list workspaces with their status")
    return parser


async def _workspaces_list(args: argparse.Namespace) -> int:
    rows = await list_workspaces(AdminTarget(args.control_plane, args.token))
    if args.output == "json":
        output.print_json(rows)
    else:
        output.print_workspaces(rows)
    return EXIT_OK


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)  # exits 2 on usage errors
    try:
        if args.command == "up":
            opts = UpOptions(args.dir, args.grpc_port, args.edge_port, args.port_min, args.port_max,
                             args.host_id, json_output=args.output == "json")
            code = trio.run(run_up, opts)
        else:
            code = trio.run(_workspaces_list, args)
    except errors.Unavailable as err:
        output.error(f"control plane at {args.control_plane} is unreachable: {err}")
        code = EXIT_UNREACHABLE
    except errors.FleetError as err:
        output.error(str(err))
        code = EXIT_FAILED
    sys.exit(code)
