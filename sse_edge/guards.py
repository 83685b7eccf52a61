"""Request checks of the public listener (pure: no I/O, no clock).

- Host / Origin allowlists against DNS rebinding (ARCHITECTURE section 8; MCP transport spec
  "Security Warning"): a bad `Host` -> HTTP 421, a bad `Origin` -> HTTP 403.
- Edge-to-edge credential: a request one edge forwards to the session's owning edge carries
  `X-Mcpfleet-Edge-Auth`, an HMAC-SHA256 of the session id under the edges' shared key.
- Bearer tokens: `fleet.auth.tokenSha256` holds hex SHA-256 digests of accepted tokens.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
EDGE_AUTH_HEADER = "x-mcpfleet-edge-auth"


def _host_only(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str | None, allowed: list[str]) -> bool:
    """Is the `Host` header value acceptable? `allowed` holds `host` or `host:port` entries
    (case-insensitive), `*` for any; empty = loopback names on any port. A missing Host is
    refused (HTTP/1.1 requires it)."""
    if not host:
        return False
    value = host.strip().lower()
    if "*" in allowed:
        return True
    if not allowed:
        return _host_only(value) in LOOPBACK_HOSTS
    names = {a.lower() for a in allowed}
    return value in names or _host_only(value) in names


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Is the `Origin` header acceptable? None (non-browser clients send none) is. Otherwise it
    must be listed in `allowed` (`scheme://host[:port]`, or `*`) or be a loopback origin."""
    if origin is None:
        return True
    value = origin.strip().lower().rstrip("/")
    if "*" in allowed or value in {a.lower().rstrip("/") for a in allowed}:
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and _host_only(parts.netloc) in LOOPBACK_HOSTS


def edge_credential(key: bytes, session_id: str) -> str:
    """The credential an edge sends with a request it forwards for `session_id` (hex)."""
    return hmac.new(key, b"edge-forward:" + session_id.encode(), hashlib.sha256).hexdigest()


def edge_credential_ok(key: bytes, session_id: str, presented: str | None) -> bool:
    """Constant-time check of a forwarded request's credential."""
    return presented is not None and hmac.compare_digest(presented, edge_credential(key, session_id))


def bearer_ok(authorization: str | None, token_sha256: tuple[str, ...] | list[str]) -> bool:
    """With no configured digests, any request passes. Else `Authorization: Bearer <token>`
    must hash (SHA-256, hex) to one of them (constant-time compare)."""
    if not token_sha256:
        return True
    if not authorization or not authorization.lower().startswith("bearer "):
        return False
    digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
    return any(hmac.compare_digest(digest, d.lower()) for d in token_sha256)
