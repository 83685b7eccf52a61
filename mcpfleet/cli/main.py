"""`mcpfleet` entry point: builds the command line from the command modules and maps outcomes
to exit codes.

Exit codes (ARCHITECTURE section 7): 0 ok, 1 the operation failed or found errors, 2 usage,
3 control plane unreachable (said within 2 s); 130 interrupted (Ctrl-C, as shells report it).

Each command module (`workspaces.py`, `up.py`, ...) has `register(subparsers)`, which adds its
sub-commands and sets `handler=async fn(args) -> int` on each.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

import trio

from mcpfleet import errors
from mcpfleet.cli import agents, breakers, edges, events, logs, output, state, up, workspaces

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
INTERRUPT_GRACE_SECONDS = 2.0
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


def _exit_soon_after_interrupt() -> None:
    """Ctrl-C still raises KeyboardInterrupt through trio (a clean, bounded shutdown of the gRPC
    bridge), and also arms a timer that ends the process after INTERRUPT_GRACE_SECONDS: someone
    at a terminal wants the prompt back now, and a starved bridge thread can take its full
    bounds (several seconds). What the command asked of the control plane carries on there."""
    trio_handler = signal.getsignal(signal.SIGINT)
    if not callable(trio_handler):
        return

    def handler(signum: int, frame: FrameType | None) -> Any:
        def give_up() -> None:
            sys.stderr.write("mcpfleet: interrupted\n")
            os._exit(EXIT_INTERRUPTED)
        timer = threading.Timer(INTERRUPT_GRACE_SECONDS, give_up)
        timer.daemon = True
        timer.start()
        signal.signal(signal.SIGINT, trio_handler)  # arm once
        return trio_handler(signum, frame)

    signal.signal(signal.SIGINT, handler)


async def _run(args: argparse.Namespace) -> int:
    _exit_soon_after_interrupt()  # inside trio.run: wraps trio's own SIGINT handler
    code: int = await args.handler(args)
    return code


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)  # exits 2 on usage errors
    try:
        code = trio.run(_run, args)
    except KeyboardInterrupt:
        output.error("interrupted")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # `mcpfleet events --follow | head`: the reader is done, so are we
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        code = EXIT_OK
    except errors.Unavailable as err:
        output.error(f"control plane at {args.control_plane} is unreachable: {err}")
        code = EXIT_UNREACHABLE
    except errors.FleetError as err:
        output.error(str(err))
        code = EXIT_FAILED
    sys.exit(code)
