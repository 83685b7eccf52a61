"""The CLI's process behaviour: Ctrl-C, a closed stdout pipe, error messages with brackets."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from mcpfleet.cli import output
from mcpfleet.cli.main import EXIT_INTERRUPTED, INTERRUPT_GRACE_SECONDS
from tests.harness import REPO

# A command whose shutdown after Ctrl-C takes 30 s (as a starved gRPC bridge thread can).
SLOW_TO_STOP = """
import argparse, sys, trio
from mcpfleet.cli import main as cli

async def slow(args):
    print("running", flush=True)
    try:
        await trio.sleep(30)
    except KeyboardInterrupt:
        with trio.CancelScope(shield=True):
            await trio.sleep(30)
        raise
    return 0

class Parser:
    def parse_args(self, argv):
        return argparse.Namespace(handler=slow, control_plane="127.0.0.1:1")

cli.build_parser = Parser
cli.main([])
"""


def test_ctrl_c_exits_130_within_the_grace_even_when_shutdown_is_slow() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SLOW_TO_STOP], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=INTERRUPT_GRACE_SECONDS + 8)
        took = time.monotonic() - started
    finally:
        proc.kill()
        proc.wait()
    assert code == EXIT_INTERRUPTED
    assert INTERRUPT_GRACE_SECONDS - 0.5 <= took < INTERRUPT_GRACE_SECONDS + 8, took
    assert "interrupted" in proc.stderr.read() if proc.stderr else False


def test_error_messages_are_shown_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    output.error("invalid workspace name 'Bad_Name': must match ^[a-z0-9][a-z0-9-]{0,62}$")
    assert "must match ^[a-z0-9][a-z0-9-]{0,62}$" in capsys.readouterr().err  # not read as markup


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    script = ("import sys; from mcpfleet.cli import main as cli\n"
              "async def chatty(args):\n"
              "    for i in range(100000): print('event', i)\n"
              "    return 0\n"
              "class Parser:\n"
              "    def parse_args(self, argv):\n"
              "        import argparse; return argparse.Namespace(handler=chatty, control_plane='x')\n"
              "cli.build_parser = Parser\ncli.main([])\n")
    done = subprocess.run(f"{sys.executable} -c \"{script}\" | head -1", shell=True, capture_output=True,
                          text=True, cwd=REPO, timeout=60)
    assert done.stdout == "event 0\n" and "Traceback" not in done.stderr, done.stderr
