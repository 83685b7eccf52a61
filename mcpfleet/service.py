"""What every service's entry point shares: signal-driven shutdown (settings: `mcpfleet.settings`).

Each service runs `run_service(main)`: one root nursery; SIGINT/SIGTERM set the `shutdown`
event that `main` waits on, so shutdown is an orderly return, never a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable

import trio


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
