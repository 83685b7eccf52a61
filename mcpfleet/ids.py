"""Identifiers: control-plane boot ids and the default host id."""

from __future__ import annotations

import secrets
import socket


def new_boot_id() -> str:
    """A random id for one control-plane boot (pairs with assignment `generation`)."""
    return secrets.token_hex(8)


def default_host_id() -> str:
    """The agent's default host id: this machine's short hostname, lower-cased."""
    return socket.gethostname().split(".")[0].lower() or "localhost"
