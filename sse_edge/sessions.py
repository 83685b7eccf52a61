"""The edge's registry of client sessions (legacy HTTP+SSE).

Pure: no I/O, no clock (`now` is passed in). A session id (ARCHITECTURE section 4) is
`<edge id>.<secret>.<mac>`: 192 random bits from `secrets`, the id of the edge that holds the
session, and an HMAC-SHA256 (truncated to 128 bits) over edge id, secret and workspace under the
edges' shared key. So any edge can tell, without a shared store, which edge owns a session and
that the id was minted for this workspace by an edge holding the key; looking an id up under
another workspace finds nothing, exactly as an unknown id does. Each session carries an opaque
`handle` (the I/O side's per-session state), typed by the registry's parameter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Generic, TypeVar

H = TypeVar("H")

SESSION_ID_BYTES = 24
MAC_BYTES = 16
EDGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Edge ids: URL-safe, no dots (the session id separator)."""


def _mac(key: bytes, edge_id: str, secret: str, workspace: str) -> str:
    digest = hmac.new(key, f"{edge_id}.{secret}.{workspace}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()


def new_session_id(edge_id: str = "edge", workspace: str = "", key: bytes = b"") -> str:
    """A fresh URL-safe session id `<edge_id>.<secret>.<mac>` (192 random bits from `secrets`,
    a 128-bit HMAC binding it to `workspace` under `key`). Raises ValueError for a bad edge id."""
    if not EDGE_ID_RE.match(edge_id):
        raise ValueError(f"edge id must match {EDGE_ID_RE.pattern}, got {edge_id!r}")
    secret = secrets.token_urlsafe(SESSION_ID_BYTES)
    return f"{edge_id}.{secret}.{_mac(key, edge_id, secret, workspace)}"


def owner_of(session_id: str | None, workspace: str, key: bytes = b"") -> str | None:
    """The edge id that minted `session_id` for `workspace` under `key`, or None when the id is
    malformed, forged, or minted for another workspace (constant-time MAC comparison)."""
    if not session_id or len(session_id) > 200:
        return None
    parts = session_id.split(".")
    if len(parts) != 3 or not EDGE_ID_RE.match(parts[0]):
        return None
    edge_id, secret, mac = parts
    if not hmac.compare_digest(mac, _mac(key, edge_id, secret, workspace)):
        return None
    return edge_id


@dataclass
class Session(Generic[H]):
    """One client session: its id, workspace, creation time (seconds, caller's clock) and handle."""

    session_id: str
    workspace: str
    created_at: float
    handle: H


class SessionRegistry(Generic[H]):
    """Sessions by id. Not thread-safe; meant for one event loop."""

    def __init__(self, edge_id: str = "edge", key: bytes = b"") -> None:
        if not EDGE_ID_RE.match(edge_id):
            raise ValueError(f"edge id must match {EDGE_ID_RE.pattern}, got {edge_id!r}")
        self.edge_id = edge_id
        self.key = key
        self._sessions: dict[str, Session[H]] = {}

    def create(self, workspace: str, handle: H, now: float) -> Session[H]:
        """Register a new session of `workspace` carrying `handle`; return it (with its new id)."""
        session_id = new_session_id(self.edge_id, workspace, self.key)
        while session_id in self._sessions:  # 2**-192: never, but cheap to be sure
            session_id = new_session_id(self.edge_id, workspace, self.key)
        session = Session(session_id, workspace, now, handle)
        self._sessions[session_id] = session
        return session

    def new_id(self, workspace: str) -> str:
        """A fresh id for a session of `workspace` on this edge (not yet registered)."""
        session_id = new_session_id(self.edge_id, workspace, self.key)
        while session_id in self._sessions:  # 2**-192: never, but cheap to be sure
            session_id = new_session_id(self.edge_id, workspace, self.key)
        return session_id

    def add(self, session_id: str, workspace: str, handle: H, now: float) -> Session[H]:
        """Register a session under an id from `new_id`. Raises ValueError if it is taken."""
        if session_id in self._sessions:
            raise ValueError("session id already registered")
        session = Session(session_id, workspace, now, handle)
        self._sessions[session_id] = session
        return session

    def lookup(self, session_id: str | None, workspace: str) -> Session[H] | None:
        """The session `session_id` if it exists and belongs to `workspace`, else None."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None or session.workspace != workspace:
            return None
        return session

    def remove(self, session_id: str) -> Session[H] | None:
        """Forget `session_id`; return the session it was, or None. Idempotent."""
        return self._sessions.pop(session_id, None)

    def sessions(self) -> list[Session[H]]:
        """A snapshot list of all sessions (safe to iterate while removing)."""
        return list(self._sessions.values())

    def count(self, workspace: str | None = None) -> int:
        """How many sessions exist, in total or of one `workspace`."""
        if workspace is None:
            return len(self._sessions)
        return sum(1 for s in self._sessions.values() if s.workspace == workspace)

    def __len__(self) -> int:
        return len(self._sessions)
