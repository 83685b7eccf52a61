from pathlib import Path

from control_plane.desired_store import load_desired, save_desired
from mcpfleet.model import Desired


def test_stopped_workspaces_survive_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "desired.json"
    assert load_desired(path) == {}
    save_desired(path, {"a": Desired.STOPPED, "b": Desired.RUNNING})
    assert load_desired(path) == {"a": Desired.STOPPED}


def test_a_corrupt_file_is_kept_aside_and_everything_runs(tmp_path: Path) -> None:
    path = tmp_path / "desired.json"
    path.write_text("{not json")
    assert load_desired(path) == {}
    assert (tmp_path / "desired.json.corrupt").read_text() == "{not json"
