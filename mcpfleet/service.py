"""What every service's entry point shares: flags with env overrides, and signal-driven shutdown.

Each service runs `run_service(main)`: one root nursery; SIGINT/SIGTERM set the `shutdown`
event that `main` waits on, so shutdown is an orderly return, never a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import trio


def env_default(prefix: str, key: str, default: Any) -> Any:
    """`MCPFLEET_<PREFIX>_<KEY>` from the environment if set, else `default` (type kept by argparse)."""
    return os.environ.get(f"MCPFLEET_{prefix}_{key.upper().replace('-', '_')}", default)


def add_flag(parser: argparse.ArgumentParser, prefix: str, name: str, default: Any, help: str,
             type: Callable[[str], Any] = str) -> None:
    """Add `--name` whose default comes from `MCPFLEET_<PREFIX>_<NAME>` or `default`."""
    value = env_default(prefix, name, default)
    parser.add_argument(f"--{name}", type=type, default=type(value) if value is not None else None,
                        help=f"{help} (env MCPFLEET_{prefix}_{name.upper().replace('-', '_')}; "
                             f"default {default})")


async def _wait_for_signal(shutdown: trio.Event) -> None:
    # Keep receiving until the service returns: a second signal (Ctrl-C reaches the whole group,
    # then a launcher sends SIGTERM) must not fall through to the default handler and kill us
    # halfway through a clean shutdown.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            shutdown.set()


def run_service(main: Callable[[trio.Event], Awaitable[None]]) -> None:
    """Run `main(shutdown)` under trio until it returns; SIGINT/SIGTERM set `shutdown`."""

    async def root() -> None:
        shutdown = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_wait_for_signal, shutdown)
            await main(shutdown)
            nursery.cancel_scope.cancel()

    trio.run(root)
