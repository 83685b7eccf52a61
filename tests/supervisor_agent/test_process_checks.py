"""Host checks used by `state validate`: pids alive, ports held (and by whom)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from supervisor_agent.process_checks import check_host, port_in_use


def test_port_in_use_sees_listeners_but_not_time_wait() -> None:
    with socket.socket() as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
        with socket.create_connection(("127.0.0.1", port)):
            conn, _ = srv.accept()
            conn.close()  # the server side closes first: its end goes to TIME_WAIT
    assert not port_in_use("127.0.0.1", port)


def test_check_host_tells_our_workers_from_foreign_listeners() -> None:
    code = ("import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); "
            "print(s.getsockname()[1], flush=True); time.sleep(30)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        ours = int(child.stdout.readline())
        with socket.socket() as foreign:
            foreign.bind(("127.0.0.1", 0))
            foreign.listen()
            theirs = foreign.getsockname()[1]
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                free = s.getsockname()[1]
            alive, held = check_host([child.pid, 2**22 + 12345], [ours, theirs, free], [child.pid], "127.0.0.1")
        assert alive == [child.pid]
        assert held == sorted([(ours, True), (theirs, False)])
        assert os.getpid() not in alive
    finally:
        child.kill()
        child.wait()
