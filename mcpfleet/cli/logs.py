"""`mcpfleet logs <workspace> [--follow] [--tail N]`: a worker's log from whichever host runs it.

Bytes are written to stdout as they come. `-o json` prints one JSON line per chunk instead
(`{"workspace", "data"}`, data decoded as UTF-8 with replacement). Ctrl-C ends `--follow` (exit 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mcpfleet.cli.admin_link import AdminTarget, stream_logs


def register(sub: Any) -> None:
    lg = sub.add_parser("logs", help="a workspace worker's log (stdout/stderr), from its host")
    lg.add_argument("workspace")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    lg.add_argument("--tail", type=int, default=-1, metavar="N",
                    help="only the last N lines first (default: the whole file)")
    lg.set_defaults(handler=logs_cmd)


async def logs_cmd(args: argparse.Namespace) -> int:
    def write(data: bytes) -> None:
        if args.output == "json":
            line = {"workspace": args.workspace, "data": data.decode("utf-8", "replace")}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

    try:
        await stream_logs(AdminTarget.from_args(args), args.workspace, args.tail,
                          args.follow, write)
    except KeyboardInterrupt:
        pass
    return 0
