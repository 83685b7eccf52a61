"""Asking a worker how it is: GET /healthz, which reaches through to each MCP server (I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from mcpfleet.lifecycle import Health


@dataclass(frozen=True)
class Probe:
    """Result of one health check. `ok` False means no answer (or HTTP 503: no server works)."""

    ok: bool
    health: Health
    detail: str = ""


async def check_health(client: httpx.AsyncClient, host: str, port: int, timeout: float) -> Probe:
    """One `/healthz` request with a `timeout` in seconds. Never raises for network errors."""
    try:
        resp = await client.get(f"http://{host}:{port}/healthz", timeout=timeout)
    except httpx.HTTPError as err:
        return Probe(False, Health.UNHEALTHY, f"{type(err).__name__}: {err}")
    try:
        body = resp.json()
        health = Health(body.get("status", "unhealthy"))
    except ValueError:
        return Probe(False, Health.UNHEALTHY, f"bad /healthz answer (HTTP {resp.status_code})")
    failing = {name: r.get("error", "") for name, r in (body.get("servers") or {}).items()
               if isinstance(r, dict) and not r.get("ok")}
    detail = "; ".join(f"server {name!r} failed: {err}"[:200] for name, err in sorted(failing.items()))
    return Probe(resp.status_code == 200, health, detail or ("" if resp.status_code == 200 else resp.text[:200]))
