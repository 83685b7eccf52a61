"""Fixtures shared by the edge's in-process tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sse_edge.edge_harness import Worker, spawn_worker, stop_worker, wait_listening


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A real FastMCP fixture worker (tests/fixtures/sse_server.py), one per test module."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    proc, port = spawn_worker(log_path)
    try:
        wait_listening(proc, port)
        yield Worker(port, log_path)
    finally:
        stop_worker(proc)
