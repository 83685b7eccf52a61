"""SIGTERM ends every service cleanly and quickly, also while the control plane is gone."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.harness import Fleet, Service

pytestmark = pytest.mark.e2e
QUICK_SECONDS = 5.0


def timed_stop(service: Service) -> tuple[int, float]:
    started = time.monotonic()
    code = service.stop(signal.SIGTERM, timeout=QUICK_SECONDS * 3)
    return code, time.monotonic() - started


def test_sigterm_stops_each_service_quickly_even_without_a_control_plane(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path).start()
    control_plane, agent, edge = fleet.services
    try:
        code, took = timed_stop(control_plane)
        print(f"control plane: exit {code} in {took:.2f} s")
        assert (code, took < QUICK_SECONDS) == (0, True)
        time.sleep(1)  # edge and agent now retry a control plane that is gone
        for service in (edge, agent):
            code, took = timed_stop(service)
            print(f"{service.name}: exit {code} in {took:.2f} s")
            assert (code, took < QUICK_SECONDS) == (0, True), service.name
    finally:
        fleet.stop()
