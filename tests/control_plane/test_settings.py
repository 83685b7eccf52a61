"""Control plane settings: the example TOML documents every key; sources; unknown keys fail."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from control_plane.settings import ENV_PREFIX, ControlPlaneSettings
from mcpfleet.settings import merge_sources

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "control-plane.example.toml"


def test_example_documents_every_key_with_its_default() -> None:
    values = tomllib.loads(EXAMPLE.read_text())
    assert set(values) == set(ControlPlaneSettings.model_fields)
    assert merge_sources(ControlPlaneSettings, ENV_PREFIX, values, {}, {}) == ControlPlaneSettings()
    text = EXAMPLE.read_text()
    for name in ControlPlaneSettings.model_fields:
        assert "\n# " in text.split(f"\n{name} = ")[0][-200:], f"{name} has no comment"


def test_sources_later_wins_and_timers_are_settable() -> None:
    s = merge_sources(ControlPlaneSettings, ENV_PREFIX, {"breaker_open": 2, "max_workspaces": 3},
                      {"MCPFLEET_CONTROL_PLANE_BREAKER_OPEN": "4"}, {"breaker_stable": "1.5"})
    assert (s.breaker_open, s.breaker_stable, s.max_workspaces) == (4.0, 1.5, 3)
    assert s.breaker_policy().open_seconds == 4.0 and s.host_limits().max_workspaces == 3


@pytest.mark.parametrize(("file_values", "env", "message"), [
    ({"brekaer_open": 1}, {}, "unknown key 'brekaer_open'"),
    ({}, {"MCPFLEET_CONTROL_PLANE_NOPE": "1"}, "unknown environment variable MCPFLEET_CONTROL_PLANE_NOPE"),
    ({"breaker_failures": 0}, {}, "breaker_failures"),
])
def test_bad_settings_are_errors(file_values: dict, env: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        merge_sources(ControlPlaneSettings, ENV_PREFIX, file_values, env, {})


def test_unknown_key_stops_the_service_at_startup(tmp_path: Path) -> None:
    cfg = tmp_path / "cp.toml"
    cfg.write_text('grpc_bind = "127.0.0.1:0"\nheartbeat_intervall = 3\n')
    proc = subprocess.run([sys.executable, "-m", "control_plane", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown key 'heartbeat_intervall'" in proc.stderr
