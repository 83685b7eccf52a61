"""Host checks for the control plane's `state validate` (ARCHITECTURE 2): pids alive, ports held.

Blocking (psutil, sockets): run it off the event loop (`trio.to_thread.run_sync`).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable

import psutil


def pid_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def port_in_use(host: str, port: int) -> bool:
    """True if something listens on `port` on `host` (found by trying to bind it). SO_REUSEADDR,
    as servers use it: connections of an earlier listener in TIME_WAIT do not count as holding it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            return err.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def listening_ports_of(pids: Iterable[int]) -> set[int]:
    """Ports on which any of `pids` or their descendants listen (TCP)."""
    ports: set[int] = set()
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in procs:
            try:
                for conn in proc.net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_LISTEN and conn.laddr:
                        ports.add(conn.laddr.port)
            except psutil.Error:
                continue
    return ports


def check_host(pids: Iterable[int], ports: Iterable[int], worker_pids: Iterable[int], bind_host: str
               ) -> tuple[list[int], list[tuple[int, bool]]]:
    """(the `pids` that are alive, [(port, ours)] for the `ports` someone holds on `bind_host`);
    `ours`: held by one of `worker_pids` (the agent's workers) or their children."""
    alive = sorted(p for p in set(pids) if pid_alive(p))
    held = [p for p in sorted(set(ports)) if port_in_use(bind_host, p)]
    ours = listening_ports_of(worker_pids) if held else set()
    return alive, [(p, p in ours) for p in held]
