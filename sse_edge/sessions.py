"""The edge's registry of client sessions (legacy HTTP+SSE).

Pure: no I/O, no clock (`now` is passed in). A session id is `secrets.token_urlsafe(24)`
(192 random bits), bound to one workspace; looking it up under another workspace finds nothing,
exactly as an unknown id does, so ids cannot be probed across workspaces. Each session carries an
opaque `handle` (the I/O side's per-session state), typed by the registry's parameter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Generic, TypeVar

H = TypeVar("H")

SESSION_ID_BYTES = 24


def new_session_id() -> str:
    """A fresh URL-safe session id with 192 bits from `secrets` (32 characters)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


@dataclass
class Session(Generic[H]):
    """One client session: its id, workspace, creation time (seconds, caller's clock) and handle."""

    session_id: str
    workspace: str
    created_at: float
    handle: H


class SessionRegistry(Generic[H]):
    """Sessions by id. Not thread-safe; meant for one event loop."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session[H]] = {}

    def create(self, workspace: str, handle: H, now: float) -> Session[H]:
        """Register a new session of `workspace` carrying `handle`; return it (with its new id)."""
        session_id = new_session_id()
        while session_id in self._sessions:  # 2**-192: never, but cheap to be sure
            session_id = new_session_id()
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
