"""The workspace file: schema, name rule, validation and content version.

A workspace is `<name>.json` in the workspaces directory (ARCHITECTURE section 3):

    {"description": "optional text",
     "mcpServers": {"time": {"command": "mcp-server-time", "args": [], "env": {}}},
     "fleet": {"requestTimeoutSeconds": 60, "limits": {"memoryMB": 512, "cpuPercent": 100},
               "placement": {"host": "optional pin"}, "auth": {"tokenSha256": []}}}

`mcpServers` is the format MCP clients already use and is passed through untouched (only entries
with `"disabled": true` are left out). Everything the fleet reads lives under `fleet`; any other
unknown top-level key is an error.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcpfleet.errors import InvalidArgument

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SERVER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def check_name(name: str) -> str:
    """Return `name` if it is a valid workspace name (`^[a-z0-9][a-z0-9-]{0,62}$`).

    Raises InvalidArgument otherwise.
    """
    if not NAME_RE.match(name):
        raise InvalidArgument(f"invalid workspace name {name!r}: must match {NAME_RE.pattern}")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Limits(_Strict):
    """Per-workspace resource limits. memoryMB is MiB of RSS; cpuPercent is percent of one core."""

    memory_mb: int | None = Field(default=None, alias="memoryMB", gt=0)
    cpu_percent: float | None = Field(default=None, alias="cpuPercent", gt=0)


class Placement(_Strict):
    """Optional placement pin: run only on the agent with this host id."""

    host: str | None = None


class Auth(_Strict):
    """Bearer tokens accepted by the edge for this workspace, as hex SHA-256 digests."""

    token_sha256: list[str] = Field(default_factory=list, alias="tokenSha256")


class FleetSettings(_Strict):
    """What the fleet itself reads per workspace (the `fleet` key)."""

    request_timeout_seconds: float = Field(default=60.0, alias="requestTimeoutSeconds", gt=0)
    limits: Limits = Field(default_factory=Limits)
    placement: Placement = Field(default_factory=Placement)
    auth: Auth = Field(default_factory=Auth)


class ServerEntry(BaseModel):
    """The keys of an `mcpServers` entry that the worker (FastMCP's MCPConfig) reads, type-checked
    so a wrong type is rejected with its field instead of crashing the worker; other keys pass."""

    model_config = ConfigDict(extra="allow")

    command: str | None = Field(default=None, min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = Field(default=None, min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False


class WorkspaceConfig(_Strict):
    """A validated workspace file. `mcp_servers` keeps each server's entry exactly as written."""

    description: str | None = None
    mcp_servers: dict[str, dict[str, Any]] = Field(alias="mcpServers")
    fleet: FleetSettings = Field(default_factory=FleetSettings)

    @field_validator("mcp_servers")
    @classmethod
    def _servers_have_a_transport(cls, servers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if not servers:
            raise ValueError("must name at least one server")
        for name, entry in servers.items():
            if not SERVER_NAME_RE.match(name):
                raise ValueError(f"server name {name!r} must match {SERVER_NAME_RE.pattern}")
            if not isinstance(entry, dict):
                raise ValueError(f"server {name!r} must be an object")
            if ("command" in entry) == ("url" in entry):
                raise ValueError(f"server {name!r} needs exactly one of 'command' or 'url'")
            try:
                ServerEntry.model_validate(entry)
            except ValidationError as err:
                first = err.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"server {name!r}: {field}: {first['msg']}") from None
        return servers

    def enabled_servers(self) -> dict[str, dict[str, Any]]:
        """The servers to run: every entry of `mcpServers` without `"disabled": true`."""
        return {n: e for n, e in self.mcp_servers.items() if not e.get("disabled", False)}


def content_version(raw: bytes) -> str:
    """The config `version`: first 12 hex digits of the SHA-256 of the file's bytes."""
    return hashlib.sha256(raw).hexdigest()[:12]


def parse_workspace(raw: bytes | str, source: str = "<input>") -> WorkspaceConfig:
    """Parse and validate one workspace file's content.

    Raises InvalidArgument with `source`, the line/column (bad JSON) or the field path (schema
    error) and the reason, e.g. `demo.json: line 3 column 5: Expecting ',' delimiter`.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if not text.strip():
        raise InvalidArgument(f"{source}: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidArgument(f"{source}: line {err.lineno} column {err.colno}: {err.msg}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"{source}: the top level must be a JSON object")
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()
        )
        raise InvalidArgument(f"{source}: {problems}") from None


REDACTED = "***"


def redact_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a workspace file's JSON object with secrets replaced by `***`: every value under a
    server's `env` and `headers` (ARCHITECTURE section 7). Other keys are copied as they are."""
    out = dict(data)
    servers = data.get("mcpServers")
    if isinstance(servers, dict):
        out["mcpServers"] = {
            name: {k: ({ek: REDACTED for ek in v} if k in ("env", "headers") and isinstance(v, dict) else v)
                   for k, v in entry.items()} if isinstance(entry, dict) else entry
            for name, entry in servers.items()
        }
    return out
