"""The edge's settings: the example file documents every key and loads; env and flags override;
unknown keys are errors (exit 2)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mcpfleet.settings import load_settings
from sse_edge.settings import EdgeSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "sse-edge.example.toml"


def test_example_documents_every_key_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    text = EXAMPLE.read_text()
    for key in EdgeSettings.model_fields:
        assert f"\n{key} = " in text or f"\n# {key} = " in text or f"[{key}]" in text, key
    monkeypatch.delenv("MCPFLEET_EDGE_BIND", raising=False)
    s = load_settings(EdgeSettings, "EDGE", ["--config", str(EXAMPLE), "--edge-id", "e1"])
    assert s.bind == "127.0.0.1:8080" and s.admin_bind == "127.0.0.1:8083" and s.max_body_bytes == 4 * 2**20
    assert tomllib.loads(text)["peers"] == {}


def test_env_and_flags_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPFLEET_EDGE_ALLOWED_HOSTS", "edge.example, other.example:8443")
    monkeypatch.setenv("MCPFLEET_EDGE_PEERS", "e2=http://10.0.0.2:8080")
    monkeypatch.setenv("MCPFLEET_EDGE_KEEPALIVE", "5")
    s = load_settings(EdgeSettings, "EDGE", ["--keepalive", "7", "--edge-id", "e1"])
    assert s.allowed_hosts == ["edge.example", "other.example:8443"]
    assert s.peers == {"e2": "http://10.0.0.2:8080"} and s.keepalive == 7.0
    opts = s.options()
    assert opts.edge_id == "e1" and len(opts.session_key) == 32  # random key when none is set


@pytest.mark.parametrize(
    ("toml", "argv", "env"),
    [("bogus = 1\n", [], {}), ("", ["--edge-id", "a.b"], {}), ("", [], {"MCPFLEET_EDGE_NOPE": "1"}),
     ("keepalive = 0\n", [], {})],
)
def test_bad_settings_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, argv: list[str],
                             env: dict[str, str]) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SystemExit) as exit_info:
        load_settings(EdgeSettings, "EDGE", ["--config", str(path), *argv])
    assert exit_info.value.code == 2
