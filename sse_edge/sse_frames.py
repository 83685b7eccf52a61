"""Server-Sent Events framing: encode events and comments, parse an upstream byte stream.

Pure: no I/O, no clock. The encoder writes CRLF line endings (as FastMCP does); the parser
accepts CRLF, LF and CR line endings, multi-line `data`, comments, a leading BOM and chunk
boundaries anywhere (inside a line, inside a multi-byte UTF-8 character, between CR and LF),
following the WHATWG "event stream interpretation" rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEWLINES = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"

DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024
"""Largest event (bytes of buffered lines) the parser accepts before raising SSEProtocolError."""


class SSEProtocolError(ValueError):
    """The upstream byte stream is not valid SSE (bad UTF-8, or an event above the size cap)."""


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event. `event` is "message" when the stream gave no `event:` field."""

    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


def encode_event(event: str | None, data: str, *, id: str | None = None) -> bytes:
    """Encode one event as UTF-8 bytes: `event: <event>\\r\\n` (omitted when None), one
    `data: ` line per line of `data` (any newline style splits), `id:` if given, then a blank line.

    Raises ValueError if `event` or `id` contains a newline (it would forge fields).
    """
    parts: list[str] = []
    if event is not None:
        if _NEWLINES.search(event):
            raise ValueError(f"SSE event name must not contain newlines: {event!r}")
        parts.append(f"event: {event}\r\n")
    for line in _NEWLINES.split(data):
        parts.append(f"data: {line}\r\n")
    if id is not None:
        if _NEWLINES.search(id):
            raise ValueError(f"SSE id must not contain newlines: {id!r}")
        parts.append(f"id: {id}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("utf-8")


def encode_comment(text: str = "ping") -> bytes:
    """Encode a comment (`: <text>\\r\\n\\r\\n`), e.g. a keep-alive. Each line of `text` becomes
    its own comment line. Clients ignore comments; proxies see traffic."""
    lines = "".join(f": {line}\r\n" for line in _NEWLINES.split(text))
    return (lines + "\r\n").encode("utf-8")


class SSEParser:
    """Incremental SSE parser: `feed(chunk)` returns the events completed by that chunk.

    State carries over between calls, so a chunk may end anywhere. Comments and unknown fields
    are ignored. `retry` values that are not plain digits are ignored, as the spec says.
    Raises SSEProtocolError on invalid UTF-8 or when one event exceeds `max_event_bytes`.
    """

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._buf = bytearray()  # bytes of the current, incomplete line
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._first_line = True  # strip one BOM at the very start of the stream
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self._pending = 0  # bytes buffered for the current event

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume `chunk` (any length, may be empty); return the events it completed, in order."""
        out: list[SSEEvent] = []
        start = 0
        n = len(chunk)
        if self._skip_lf and n:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                start = 1
        while start < n:
            cr = chunk.find(b"\r", start)
            lf = chunk.find(b"\n", start)
            if cr < 0 and lf < 0:
                self._buf += chunk[start:]
                self._check_size(len(self._buf))
                break
            end = lf if cr < 0 or (0 <= lf < cr) else cr
            self._buf += chunk[start:end]
            self._line(bytes(self._buf), out)
            self._buf.clear()
            if chunk[end] == 0x0D:
                if end + 1 < n:
                    start = end + 2 if chunk[end + 1] == 0x0A else end + 1
                else:
                    self._skip_lf = True
                    start = n
            else:
                start = end + 1
        return out

    def _check_size(self, extra: int) -> None:
        if self._pending + extra > self._max:
            raise SSEProtocolError(f"SSE event larger than {self._max} bytes")

    def _line(self, raw: bytes, out: list[SSEEvent]) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SSEProtocolError(f"SSE stream is not UTF-8: {err}") from None
        if self._first_line:
            self._first_line = False
            if line.startswith(_BOM):
                line = line[1:]
        if line == "":
            self._dispatch(out)
            return
        if line[0] == ":":
            return  # comment
        self._check_size(len(raw))
        self._pending += len(raw)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        # any other field name is ignored

    def _dispatch(self, out: list[SSEEvent]) -> None:
        if self._data:
            out.append(SSEEvent(self._event or "message", "\n".join(self._data), self._id, self._retry))
        self._event = ""
        self._data = []
        self._retry = None
        self._pending = 0
        # Unlike the spec's last-event-id buffer, `id` is reported only on the event carrying it.
        self._id = None
