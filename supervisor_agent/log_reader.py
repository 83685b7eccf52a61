"""Reading a worker's log file for `mcpfleet logs` (I/O).

`tail` gives the last N lines; `follow` then yields what is appended, polling the file's size
(every `poll` seconds) and starting over from 0 when the file shrank (the agent's copy-truncate
rotation). File reads are small and run in a worker thread.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import trio

CHUNK = 32 * 1024


def _tail(path: Path, lines: int) -> tuple[bytes, int]:
    """The last `lines` lines of `path` (-1 = all, 0 = none) and the file size read up to."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if lines == 0:
            return b"", size
        if lines < 0:
            f.seek(0)
            return f.read(size), size
        block, data = 8192, b""
        pos = size
        while pos > 0 and data.count(b"\n") <= lines:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
        parts = data.split(b"\n")
        keep = lines + 1 if data.endswith(b"\n") else lines
        return b"\n".join(parts[-keep:]), size


def _read_from(path: Path, offset: int) -> tuple[bytes, int]:
    """Bytes appended since `offset` (at most CHUNK) and the new offset; from 0 if truncated."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size < offset:
            offset = 0
        f.seek(offset)
        data = f.read(min(CHUNK, size - offset))
    return data, offset + len(data)


async def read_log(path: Path, tail_lines: int, follow: bool, poll: float = 0.25
                   ) -> AsyncIterator[bytes]:
    """Yield the last `tail_lines` lines of `path`, then (with `follow`) appended bytes until
    cancelled. Raises FileNotFoundError when the log does not exist (yet)."""
    data, offset = await trio.to_thread.run_sync(_tail, path, tail_lines)
    for i in range(0, len(data), CHUNK):
        yield data[i:i + CHUNK]
    while follow:
        data, offset = await trio.to_thread.run_sync(_read_from, path, offset)
        if data:
            yield data
        else:
            await trio.sleep(poll)
