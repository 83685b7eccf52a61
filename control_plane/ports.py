"""Per-host port allocation (seed "Resource Allocation State": allocatedPorts, portRange).

Pure: the caller persists `to_json()` (see `port_store.py`) and serializes calls (trio is
single-threaded, so one call is atomic: the seed's AsyncMutex is not needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcpfleet.errors import InvalidArgument, ResourceExhausted

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PortRange:
    """Inclusive range of ports an agent offers for workers."""

    min: int
    max: int

    def __post_init__(self) -> None:
        if not (1 <= self.min <= self.max <= 65535):
            raise InvalidArgument(f"bad port range {self.min}-{self.max}")

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.min <= port <= self.max


@dataclass
class HostPorts:
    """One host's allocations: workspace name -> port, within `port_range`."""

    port_range: PortRange
    allocated: dict[str, int] = field(default_factory=dict)


class PortAllocator:
    """Allocates each workspace one port per host, never the same port twice on a host."""

    def __init__(self, hosts: dict[str, HostPorts] | None = None) -> None:
        self.hosts: dict[str, HostPorts] = hosts or {}

    def set_range(self, host: str, port_range: PortRange) -> None:
        """Record the range an agent offers. Allocations outside a changed range are dropped."""
        hp = self.hosts.setdefault(host, HostPorts(port_range))
        hp.port_range = port_range
        hp.allocated = {ws: p for ws, p in hp.allocated.items() if p in port_range}

    def port_of(self, host: str, workspace: str) -> int | None:
        """The port allocated to `workspace` on `host`, or None."""
        hp = self.hosts.get(host)
        return hp.allocated.get(workspace) if hp else None

    def allocate(self, host: str, workspace: str, avoid: frozenset[int] = frozenset()) -> tuple[int, bool]:
        """Return (port, newly_allocated): the existing allocation, else the lowest free port.

        `avoid` are ports known to be held by foreign processes. Raises InvalidArgument for a
        host with no range, ResourceExhausted when the range is full (the seed's 'No available ports').
        """
        hp = self.hosts.get(host)
        if hp is None:
            raise InvalidArgument(f"host {host!r} has no port range")
        existing = hp.allocated.get(workspace)
        if existing is not None and existing not in avoid:
            return existing, False
        taken = set(hp.allocated.values()) | avoid
        for port in range(hp.port_range.min, hp.port_range.max + 1):
            if port not in taken:
                hp.allocated[workspace] = port
                return port, True
        raise ResourceExhausted(
            f"no free port on {host} in {hp.port_range.min}-{hp.port_range.max}"
        )

    def release(self, host: str, workspace: str) -> int | None:
        """Release the workspace's port on host; returns it, or None if it had none."""
        hp = self.hosts.get(host)
        return hp.allocated.pop(workspace, None) if hp else None

    def to_json(self) -> dict[str, Any]:
        """`{"schemaVersion": 1, "hosts": {host: {"portRange": {"min","max"}, "allocatedPorts": {ws: port}}}}`."""
        return {
            "schemaVersion": SCHEMA_VERSION,
            "hosts": {
                h: {
                    "portRange": {"min": hp.port_range.min, "max": hp.port_range.max},
                    "allocatedPorts": dict(sorted(hp.allocated.items())),
                }
                for h, hp in sorted(self.hosts.items())
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> PortAllocator:
        """Inverse of `to_json`. Raises InvalidArgument on an unknown schemaVersion or bad shape."""
        if not isinstance(data, dict) or data.get("schemaVersion") != SCHEMA_VERSION:
            raise InvalidArgument(f"ports state: unsupported schemaVersion {data.get('schemaVersion')!r}"
                                  if isinstance(data, dict) else "ports state: not an object")
        hosts: dict[str, HostPorts] = {}
        try:
            for host, entry in data.get("hosts", {}).items():
                rng = PortRange(int(entry["portRange"]["min"]), int(entry["portRange"]["max"]))
                allocated = {str(ws): int(p) for ws, p in entry.get("allocatedPorts", {}).items()}
                if len(set(allocated.values())) != len(allocated):
                    raise InvalidArgument(f"ports state: host {host} has a port allocated twice")
                hosts[str(host)] = HostPorts(rng, allocated)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InvalidArgument(f"ports state: malformed ({err})") from None
        return cls(hosts)
