"""The committed stubs in mcpfleet/v1/ must be exactly what `make protos` generates."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_generated_stubs_match_the_protos(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_protos.py"), "--out", str(tmp_path)], check=True)
    fresh = {p.name: p.read_text() for p in (tmp_path / "mcpfleet" / "v1").iterdir() if p.is_file()}
    committed = {p.name: p.read_text() for p in (REPO / "mcpfleet" / "v1").iterdir() if p.is_file()}
    assert sorted(fresh) == sorted(committed), "stub files differ: run `make protos`"
    for name, text in fresh.items():
        assert committed[name] == text, f"mcpfleet/v1/{name} is stale: run `make protos`"
