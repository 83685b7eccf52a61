"""Where workspaces run, as the edge knows it: the resolver contract and a small TTL cache of
resolved routes (`mcpfleet.model.Route`).

Pure: no I/O, no clock (`now` is passed in, in seconds of any monotonic clock).
"""

from __future__ import annotations

from typing import Protocol

from mcpfleet.model import Route


class Resolver(Protocol):
    """What the edge needs from the control plane (implemented by `control_plane_link`)."""

    async def resolve(self, workspace: str) -> Route:
        """Return the current route of `workspace`.

        Raises `mcpfleet.errors.NotFound` when no such workspace is configured and
        `mcpfleet.errors.Unavailable` when the control plane cannot be reached.
        """
        ...


class RoutingTable:
    """A TTL cache of routes by workspace name.

    `get` returns a route put less than `ttl_seconds` ago, else None. The last route put for a
    workspace is kept after expiry (`last_known`) so a caller may fall back to it when the
    control plane is unreachable. Size is bounded by the number of workspaces ever put.
    """

    def __init__(self, ttl_seconds: float = 2.0) -> None:
        if ttl_seconds < 0:
            raise ValueError(f"ttl_seconds must be >= 0, got {ttl_seconds}")
        self.ttl_seconds = ttl_seconds
        self._routes: dict[str, tuple[Route, float]] = {}

    def get(self, workspace: str, now: float) -> Route | None:
        """The fresh route of `workspace` at time `now`, or None (absent or expired)."""
        entry = self._routes.get(workspace)
        if entry is None:
            return None
        route, stored_at = entry
        if now - stored_at >= self.ttl_seconds or now < stored_at:  # -inf: invalidate_fresh
            return None
        return route

    def put(self, route: Route, now: float) -> None:
        """Store `route` (keyed by `route.workspace`) as fresh from `now`."""
        self._routes[route.workspace] = (route, now)

    def last_known(self, workspace: str) -> Route | None:
        """The last route put for `workspace`, however old, or None."""
        entry = self._routes.get(workspace)
        return entry[0] if entry else None

    def invalidate_fresh(self, workspace: str) -> None:
        """Make `workspace`'s route stale (the next `get` misses) but keep it as `last_known`."""
        entry = self._routes.get(workspace)
        if entry is not None:
            self._routes[workspace] = (entry[0], float("-inf"))

    def invalidate(self, workspace: str) -> None:
        """Forget `workspace` entirely (e.g. the control plane said it no longer exists)."""
        self._routes.pop(workspace, None)

    def __len__(self) -> int:
        return len(self._routes)
