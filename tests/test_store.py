"""The task file: round trips, hostile values, corruption, atomic replacement."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tui.api.models import Clip, Task
from tui.domain.tracked import TrackedTask
from tui.services.store import StoreError, TaskStore


def sample() -> list[TrackedTask]:
    clip = Clip("c1", "https://x/a.mp3", None, "Title [bold]\x1b[31m", 87.4, "pop", "p" * 5000, 0)
    return [
        TrackedTask("t1", 1.5, Task("t1", "completed", 1710000000000, (clip,)), 2.0, 30.0),
        TrackedTask("t2", 2.5, Task("t2", "failed", None, (), "boom\nline2"), 3.0, 9.0),
        TrackedTask("t3", 3.5),
        TrackedTask("t4", 4.5, Task("t4", "weird-status", 10**30), gone="task not found"),
    ]


def test_round_trip(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "tasks.toml")
    store.save(sample())
    loaded = store.load()
    assert loaded.problem is None
    by_id = {t.id: t for t in loaded.tasks}
    assert [t.id for t in loaded.tasks] == ["t1", "t2", "t3", "t4"]
    assert by_id["t1"].task == sample()[0].task
    assert by_id["t1"].finished_at == 30.0
    assert by_id["t2"].task.error == "boom\nline2"
    assert by_id["t3"].task is None and not by_id["t3"].finished
    assert by_id["t4"].task.created_at is None  # out of TOML's range: dropped, not fatal
    assert by_id["t4"].gone == "task not found" and by_id["t4"].finished


def test_no_temp_files_left_and_file_is_valid(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = TaskStore(folder / "tasks.toml")
    for _ in range(5):
        store.save(sample())
    assert os.listdir(folder) == ["tasks.toml"]
    tomllib.loads((folder / "tasks.toml").read_text())


def test_invalid_entries_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text(
        'version = 1\n[[tasks]]\nid = "ok1"\nadded_at = 1.0\n'
        '[[tasks]]\nid = "../evil"\n[[tasks]]\nadded_at = 2\n'
        '[[tasks]]\nid = "ok1"\n[[tasks]]\nid = "ok2"\ntask = "not a table"\n'
    )
    loaded = TaskStore(path).load()
    assert [t.id for t in loaded.tasks] == ["ok1", "ok2"]
    assert loaded.tasks[1].task is None


@pytest.mark.parametrize("content", [b"not [toml", b"\xff\xfe", b"tasks = 3\n"])
def test_corrupt_file_is_moved_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tasks.toml"
    path.write_bytes(content)
    loaded = TaskStore(path).load()
    assert loaded.tasks == [] and loaded.problem and loaded.moved_aside
    assert loaded.moved_aside.read_bytes() == content
    assert not path.exists()


def test_write_failure_raises_store_error_and_leaves_no_temp(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    blocker = folder / "tasks.toml"
    (blocker / "inside").mkdir(parents=True)  # a directory where the file should go
    with pytest.raises(StoreError, match="cannot save"):
        TaskStore(blocker).save(sample())
    assert sorted(os.listdir(folder)) == ["tasks.toml"]
    assert os.listdir(blocker) == ["inside"]


def test_missing_file_is_an_empty_list(tmp_path: Path) -> None:
    loaded = TaskStore(tmp_path / "nope" / "tasks.toml").load()
    assert loaded.tasks == [] and loaded.problem is None
