"""The agent's own files: workers state file, log tail/follow reads, settings sources."""

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from mcpfleet.settings import merge_sources
from supervisor_agent import process_runner
from supervisor_agent.log_reader import _read_from, _tail
from supervisor_agent.settings import AgentSettings, OnExit
from supervisor_agent.worker_records import WorkerRecord, load_records, save_records

REPO = Path(__file__).resolve().parents[2]


def test_state_file_round_trips_and_ignores_other_schema_versions(tmp_path: Path) -> None:
    rec = WorkerRecord("demo", 123, 1764480000.25, 40000, "sha256:x", 2)
    save_records(tmp_path, "h1", {"demo": rec})
    data = json.loads((tmp_path / "workers-state.json").read_text())
    assert data["schemaVersion"] == 1 and data["hostId"] == "h1"
    assert data["workers"]["demo"] == {"pid": 123, "createTime": 1764480000.25, "port": 40000,
                                       "configVersion": "sha256:x", "restartCount": 2}
    assert load_records(tmp_path) == {"demo": rec}
    spare_born = WorkerRecord("demo", 123, 1764480000.25, 40000, "sha256:x", 2, start_time=1764483600.5)
    save_records(tmp_path, "h1", {"demo": spare_born})  # a worker born as a spare started later
    assert json.loads((tmp_path / "workers-state.json").read_text())["workers"]["demo"]["startTime"] == 1764483600.5
    assert load_records(tmp_path) == {"demo": spare_born}
    (tmp_path / "workers-state.json").write_text(json.dumps({**data, "schemaVersion": 99}))
    assert load_records(tmp_path) == {}
    (tmp_path / "workers-state.json").write_text("{not json")
    assert load_records(tmp_path) == {}


def test_adopt_needs_pid_and_create_time_to_match() -> None:
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        created = psutil.Process(proc.pid).create_time()
        assert process_runner.adopt(proc.pid, created - 5) is None  # wrong create time: not ours
        adopted = process_runner.adopt(proc.pid, created)
        assert adopted is not None and adopted.pid == proc.pid
        adopted.close()
        assert proc.poll() is None  # never signalled
    finally:
        proc.kill()
        proc.wait()


async def test_a_relative_state_dir_still_finds_the_workers_config(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker starts in its config's directory: a relative --config pointed nowhere there.
    monkeypatch.chdir(tmp_path)
    config = Path("state") / "workers" / "ws.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"mcpServers": {"x": {"command": "/nonexistent/server"}}}))
    spec = process_runner.WorkerSpec("ws", config, 1, "127.0.0.1", Path("state") / "logs" / "ws.log")
    proc = await process_runner.spawn(spec)
    assert await proc.wait() == 1  # the precheck read the file: no server can start
    logged = spec.log_path.read_text()
    assert "/nonexistent/server is not an executable file" in logged and "cannot load" not in logged


def test_tail_and_follow_reads(tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(1000)))
    data, size = _tail(log, 3)
    assert data == b"line 997\nline 998\nline 999\n" and size == log.stat().st_size
    assert _tail(log, 0)[0] == b"" and _tail(log, -1)[0] == log.read_bytes()
    with open(log, "ab") as f:
        f.write(b"new\n")
    assert _read_from(log, size) == (b"new\n", size + 4)
    log.write_bytes(b"after rotation\n")  # copy-truncate: the file shrank, read from 0
    assert _read_from(log, size + 4) == (b"after rotation\n", 15)


def test_rotate_log_copies_then_truncates(tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    log.write_bytes(b"x" * 2048)
    assert not process_runner.rotate_log(log, 4096)
    assert process_runner.rotate_log(log, 1024)
    assert log.stat().st_size == 0 and (tmp_path / "w.log.1").stat().st_size == 2048


def test_settings_sources_and_unknown_keys() -> None:
    s = merge_sources(AgentSettings, "AGENT", {"port_min": 1000, "on-exit": "stop"},
                      {"MCPFLEET_AGENT_PORT_MIN": "2000", "OTHER": "x"}, {"health_interval": "0.5"})
    assert (s.port_min, s.on_exit, s.health_interval) == (2000, OnExit.STOP, 0.5)
    assert AgentSettings().on_exit == OnExit.KEEP  # ARCHITECTURE "Agent exit": keep by default
    with pytest.raises(ValueError, match="unknown key 'bogus'"):
        merge_sources(AgentSettings, "AGENT", {"bogus": 1}, {}, {})
    with pytest.raises(ValueError, match="MCPFLEET_AGENT_NOPE"):
        merge_sources(AgentSettings, "AGENT", {}, {"MCPFLEET_AGENT_NOPE": "1"}, {})


def test_example_toml_documents_every_key_and_loads() -> None:
    import tomllib

    path = REPO / "deploy" / "supervisor-agent.example.toml"
    values = tomllib.loads(path.read_text())
    assert set(values) == set(AgentSettings.model_fields)
    merge_sources(AgentSettings, "AGENT", values, {}, {})
    out = subprocess.run([sys.executable, "-m", "supervisor_agent", "--config", str(path), "--bogus", "1"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
