"""`mcpfleet events [--follow] [--workspace ws] [--last N]`: the control plane's event bus.

Without `--follow`: the most recent events (default 20) and exit. With it: those, then every new
event until Ctrl-C (exit 0) or the control plane goes away (exit 3). `-o json`: one JSON object
per line (seq, type, time, workspace, host, data); a watcher that fell behind gets a
`{"resync": {"dropped": n}}` line.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

import trio
from rich.console import Console
from rich.markup import escape

from mcpfleet.cli.admin_link import AdminTarget, watch_events


def register(sub: Any) -> None:
    ev = sub.add_parser("events", help="show control-plane events (--follow to stream them)")
    ev.add_argument("--follow", "-f", action="store_true", help="keep streaming new events")
    ev.add_argument("--workspace", "-w", default="", help="only events about this workspace")
    ev.add_argument("--last", type=int, default=20, help="recent events to show first (default 20)")
    ev.set_defaults(handler=events_cmd)


def _printer(as_json: bool) -> Any:
    console = Console(highlight=False)

    def show(item: dict[str, Any]) -> None:
        if as_json:
            print(json.dumps(item, sort_keys=True), flush=True)
        elif "resync" in item:
            console.print(f"[yellow]... fell behind: {item['resync']['dropped']} events dropped[/]")
        else:
            about = " ".join(x for x in (item.get("workspace"), item.get("host") and f"@{item['host']}") if x)
            data = " ".join(f"{k}={v}" for k, v in sorted(item["data"].items()) if v not in (None, ""))
            console.print(f"{item['time']} [bold]{escape(item['type'])}[/] {escape(about)} {escape(data)}")
            sys.stdout.flush()

    return show


async def events_cmd(args: argparse.Namespace) -> int:
    target = AdminTarget.from_args(args)
    show = _printer(args.output == "json")
    if not args.follow:
        await watch_events(target, show, workspace=args.workspace, recent=max(0, args.last), follow=False)
        return 0
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def stop_on_signal() -> None:
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    return

            nursery.start_soon(stop_on_signal)
            await watch_events(target, show, workspace=args.workspace, recent=max(0, args.last), follow=True)
            nursery.cancel_scope.cancel()
    return 0
