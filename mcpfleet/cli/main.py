"""`mcpfleet` entry point: builds the command line from the command modules and maps outcomes
to exit codes.

Exit codes (ARCHITECTURE section 7): 0 ok, 1 the operation failed or found errors, 2 usage,
3 control plane unreachable (said within 2 s).

Each command module (`workspaces.py`, `up.py`, ...) has `register(subparsers)`, which adds its
sub-commands and sets `handler=async fn(args) -> int` on each.
"""

from __future__ import annotations

import argparse
import os
import sys

import trio

from mcpfleet import errors
from mcpfleet.cli import agents, breakers, edges, events, logs, output, state, up, workspaces

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
COMMAND_MODULES = [up, workspaces, events, state, breakers, agents, edges, logs]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpfleet", description="Operate an mcp-fleet.")
    parser.add_argument("--control-plane", default=os.environ.get("MCPFLEET_CONTROL_PLANE",
                                                                  "127.0.0.1:50051"),
                        help="control plane gRPC address (env MCPFLEET_CONTROL_PLANE)")
    parser.add_argument("--token", default=os.environ.get("MCPFLEET_ADMIN_TOKEN"),
                        help="admin token (env MCPFLEET_ADMIN_TOKEN)")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    for leaf in leaf_parsers(parser):  # `-o json` also after the command (`mcpfleet state show x -o json`)
        if not any("--output" in a.option_strings for a in leaf._actions):
            leaf.add_argument("-o", "--output", choices=("table", "json"), default=argparse.SUPPRESS,
                              help="output format (table or json)")
    return parser


def leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                 ) -> list[argparse.ArgumentParser]:
    """Every parser that runs a command (has no sub-commands of its own), depth first."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser] if path else []
    found: list[argparse.ArgumentParser] = []
    for action in subs:
        for name, child in action.choices.items():
            found += leaf_parsers(child, (*path, name))
    return found


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)  # exits 2 on usage errors
    try:
        code = trio.run(args.handler, args)
    except errors.Unavailable as err:
        output.error(f"control plane at {args.control_plane} is unreachable: {err}")
        code = EXIT_UNREACHABLE
    except errors.FleetError as err:
        output.error(str(err))
        code = EXIT_FAILED
    sys.exit(code)
