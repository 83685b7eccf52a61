"""Shared code of mcp-fleet: stubs, the trio<->gRPC bridge, errors, config, CLI. Never imports a service."""

__version__ = "0.1.0"
