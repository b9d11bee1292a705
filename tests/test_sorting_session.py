"""The saved sorting session: written atomically, read back whole, and anything damaged or
foreign ignored (None) rather than trusted; the newest run trained on a session's CSV."""
from __future__ import annotations

import json

import pytest

from engine.review.sorting_session import (SortingSession, newest_run_for, read_session,
                                           session_path, write_session)

pytestmark = pytest.mark.usefixtures("isolated_home")


def _session(folder) -> SortingSession:
    return SortingSession(folder=str(folder), classes=["rose", "tulip"], model="m",
                          confirmed={str(folder / "a.jpg"): "rose"},
                          excluded=[str(folder / "b.jpg")],
                          proposed={str(folder / "a.jpg"): "tulip"})


def test_a_session_reads_back_as_it_was_written(tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    path = write_session(_session(folder))
    assert path == session_path(folder) and path.is_file()
    assert read_session(folder) == _session(folder)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert read_session(tmp_path / "other") is None


@pytest.mark.parametrize("damage", [
    lambda d: "not json {",
    lambda d: json.dumps({**d, "format": 99}),
    lambda d: json.dumps({**d, "classes": ["only one"]}),
    lambda d: json.dumps({**d, "confirmed": {"x.jpg": "daisy"}}),
    lambda d: json.dumps({**d, "excluded": "b.jpg"}),
    lambda d: json.dumps({**d, "folder": "/somewhere/else"}),
    lambda d: json.dumps([d]),
])
def test_a_damaged_session_is_ignored(tmp_path, damage):
    folder = tmp_path / "dump"
    folder.mkdir()
    path = write_session(_session(folder))
    path.write_text(damage(json.loads(path.read_text())), encoding="utf-8")
    assert read_session(folder) is None


def test_the_newest_run_trained_on_the_csv_is_suggested(tmp_path):
    csv_path = tmp_path / "sorted.csv"
    runs = tmp_path / "runs"
    for name, data, created, status in (("old", csv_path, "2026-01-01", "completed"),
                                        ("new", csv_path, "2026-02-01", "completed"),
                                        ("other", tmp_path / "x.csv", "2026-03-01", "completed"),
                                        ("failed", csv_path, "2026-04-01", "failed")):
        (runs / name).mkdir(parents=True)
        (runs / name / "run.json").write_text(json.dumps({
            "name": name, "created": created, "status": status,
            "config": {"data_dir": str(data)}}), encoding="utf-8")
    assert newest_run_for(str(csv_path), runs) == str(runs / "new")
    assert newest_run_for(str(tmp_path / "none.csv"), runs) == ""
    assert newest_run_for("", runs) == ""
