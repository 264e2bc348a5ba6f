"""The task database: round trips, changed rows only, hostile values, damage,
migration from tasks.toml, and reading while another process writes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tui.api.models import Clip, Task
from tui.domain.tracked import TrackedTask
from tui.services.store import DB_NAME, SCHEMA_VERSION, Changes, StoreError, TaskStore
from tui.services.toml_file import TomlFile


def sample() -> list[TrackedTask]:
    clip = Clip("c1", "https://x/a.mp3", None, "Title [bold]\x1b[31m", 87.4, "pop", "p" * 5000, 0)
    return [
        TrackedTask("t1", 1.5, Task("t1", "completed", 1710000000000, (clip,)), 2.0, 30.0),
        TrackedTask("t2", 2.5, Task("t2", "failed", None, (), "boom\nline2"), 3.0, 9.0),
        TrackedTask("t3", 3.5),
        TrackedTask("t4", 4.5, Task("t4", "weird-status", 10**30), gone="task not found"),
    ]


def test_round_trip(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / DB_NAME)
    store.save(sample())
    store.close()
    loaded = TaskStore(tmp_path / DB_NAME).load()
    assert loaded.problem is None
    by_id = {t.id: t for t in loaded.tasks}
    assert [t.id for t in loaded.tasks] == ["t1", "t2", "t3", "t4"]
    assert by_id["t1"].task == sample()[0].task
    assert by_id["t1"].finished_at == 30.0
    assert by_id["t2"].task.error == "boom\nline2"
    assert by_id["t3"].task is None and not by_id["t3"].finished
    assert by_id["t4"].task.created_at is None  # beyond 64 bits: stored as missing, not fatal
    assert by_id["t4"].gone == "task not found" and by_id["t4"].finished


def test_only_the_database_and_its_journal_are_left(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = TaskStore(folder / DB_NAME)
    for _ in range(5):
        store.save(sample())
    assert set(os.listdir(folder)) <= {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"}
    store.close()
    check = sqlite3.connect(folder / DB_NAME).execute("PRAGMA integrity_check").fetchone()
    assert check == ("ok",)


def test_changes_touch_only_their_rows_and_keep_order(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / DB_NAME)
    records = sample()
    store.save(records)
    moved = records[2]
    moved.downloads["c9"] = "/music/x.mp3"
    store.apply(Changes({moved.id: moved}, {"t1"}))
    store.apply(Changes({"t5": TrackedTask("t5", 9.0, seq=10)}))
    loaded = TaskStore(tmp_path / DB_NAME).load().tasks
    assert [t.id for t in loaded] == ["t2", "t3", "t4", "t5"]
    assert loaded[1].downloads == {"c9": "/music/x.mp3"}


def test_status_history_records_each_transition(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / DB_NAME)
    record = TrackedTask("h1", 1.0, last_poll=10.0)
    for status, at in (("queuing", 11.0), ("queuing", 12.0), ("processing", 20.0)):
        record.task, record.last_poll = Task("h1", status), at
        store.apply(Changes({"h1": record}))
    record.task, record.last_poll = Task("h1", "completed"), 50.0
    store.apply(Changes({"h1": record}))
    rows = sqlite3.connect(tmp_path / DB_NAME).execute(
        "SELECT status, at FROM status_history WHERE task_id = 'h1' ORDER BY rowid"
    )
    assert list(rows) == [("queuing", 11.0), ("processing", 20.0), ("completed", 50.0)]


def test_background_batches_are_merged_in_order(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / DB_NAME)
    errors: list[StoreError] = []
    for n in range(50):
        store.save_soon(Changes({f"b{n}": TrackedTask(f"b{n}", float(n), seq=n)}), errors.append)
        if n % 10 == 9:
            store.save_soon(Changes(deletes={f"b{n - 1}"}), errors.append)
    store.save_soon(Changes({"b8": TrackedTask("b8", 8.0, seq=8)}), errors.append)  # undo
    store.wait_saved()
    ids = [t.id for t in TaskStore(tmp_path / DB_NAME).load().tasks]
    gone = {f"b{n - 1}" for n in range(50) if n % 10 == 9} - {"b8"}
    assert ids == [f"b{n}" for n in range(50) if f"b{n}" not in gone]
    assert errors == []


def test_a_failed_write_is_kept_and_retried(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / DB_NAME)
    store.save([TrackedTask("k1", 1.0)])
    blocker = sqlite3.connect(tmp_path / DB_NAME, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    store._conn.execute("PRAGMA busy_timeout = 50")  # type: ignore[union-attr]
    with pytest.raises(StoreError, match="cannot save"):
        store.apply(Changes({"k2": TrackedTask("k2", 2.0, seq=1)}))
    blocker.rollback()
    blocker.close()
    store.apply(Changes({"k3": TrackedTask("k3", 3.0, seq=2)}))  # k2 goes with it
    assert [t.id for t in TaskStore(tmp_path / DB_NAME).load().tasks] == ["k1", "k2", "k3"]


def test_unwritable_place_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError):
        TaskStore(blocker / DB_NAME).save(sample())
    loaded = TaskStore(blocker / DB_NAME).load()
    assert loaded.read_only and loaded.problem


def test_missing_database_is_an_empty_list(tmp_path: Path) -> None:
    loaded = TaskStore(tmp_path / "nope" / DB_NAME).load()
    assert loaded.tasks == [] and loaded.problem is None


@pytest.mark.parametrize(
    "content", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\x01" * 4000]
)
def test_damaged_database_is_moved_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / DB_NAME
    path.write_bytes(content)
    loaded = TaskStore(path).load()
    assert loaded.tasks == [] and loaded.problem and "damaged" in loaded.problem
    assert loaded.moved_aside and loaded.moved_aside.read_bytes() == content
    assert not path.exists()


def test_database_from_a_newer_version_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    TaskStore(path).save(sample())
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    loaded = TaskStore(path).load()
    assert loaded.read_only and "newer" in (loaded.problem or "")


# -- migration from tasks.toml ------------------------------------------------------


def test_tasks_toml_is_imported_once_and_kept(tmp_path: Path) -> None:
    legacy = tmp_path / "tasks.toml"
    TomlFile(legacy).save(sample())
    loaded = TaskStore(tmp_path / DB_NAME).load()
    assert loaded.problem is None
    assert [t.id for t in loaded.tasks] == ["t1", "t2", "t3", "t4"]
    assert not legacy.exists()
    assert (tmp_path / "tasks.toml.migrated").exists()
    again = TaskStore(tmp_path / DB_NAME).load()  # from the database now
    assert [t.id for t in again.tasks] == ["t1", "t2", "t3", "t4"]
    assert again.tasks[0].task == sample()[0].task


def test_invalid_toml_entries_are_skipped_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "tasks.toml").write_text(
        'version = 1\n[[tasks]]\nid = "ok1"\nadded_at = 1.0\n'
        '[[tasks]]\nid = "../evil"\n[[tasks]]\nadded_at = 2\n'
        '[[tasks]]\nid = "ok1"\n[[tasks]]\nid = "ok2"\ntask = "not a table"\n'
    )
    loaded = TaskStore(tmp_path / DB_NAME).load()
    assert [t.id for t in loaded.tasks] == ["ok1", "ok2"]
    assert loaded.tasks[1].task is None
    assert loaded.problem and loaded.moved_aside  # a copy of the original is kept


@pytest.mark.parametrize("content", [b"not [toml", b"\xff\xfe", b"tasks = 3\n"])
def test_corrupt_toml_is_moved_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tasks.toml"
    path.write_bytes(content)
    loaded = TaskStore(tmp_path / DB_NAME).load()
    assert loaded.tasks == [] and loaded.problem and loaded.moved_aside
    assert loaded.moved_aside.read_bytes() == content
    assert not path.exists()


def test_read_only_load_changes_no_file(tmp_path: Path) -> None:
    legacy = tmp_path / "data" / "tasks.toml"
    legacy.parent.mkdir()
    TomlFile(legacy).save(sample())
    loaded = TaskStore(legacy.with_name(DB_NAME)).load(read_only=True)
    assert [t.id for t in loaded.tasks] == ["t1", "t2", "t3", "t4"]
    assert sorted(os.listdir(legacy.parent)) == ["tasks.toml"]


def test_read_while_another_process_writes(tmp_path: Path) -> None:
    """``export`` opens the database read-only while a dashboard writes it."""
    path = tmp_path / DB_NAME
    TaskStore(path).save([TrackedTask("w0", 0.0)])
    code = (
        "import sys; from pathlib import Path;"
        "from tui.domain.tracked import TrackedTask;"
        "from tui.services.store import Changes, TaskStore;"
        f"s = TaskStore(Path({str(path)!r})); s.load();"
        "[s.apply(Changes({f'w{i}': TrackedTask(f'w{i}', float(i), seq=i)}))"
        " for i in range(1, 400)];"
        "print('done', flush=True)"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    seen = []
    while writer.poll() is None:
        loaded = TaskStore(path).load(read_only=True)
        assert loaded.problem is None, loaded.problem
        ids = [t.id for t in loaded.tasks]
        assert ids == [f"w{i}" for i in range(len(ids))]  # every read is a consistent prefix
        seen.append(len(ids))
    assert writer.stdout is not None and writer.stdout.read().strip() == "done"
    assert len(TaskStore(path).load(read_only=True).tasks) == 400
    assert len(seen) > 1


# -- damage that still parses ---------------------------------------------------------


def _fifty_task_toml(tmp_path: Path) -> bytes:
    from tui.services.toml_file import TomlFile

    tasks = [TrackedTask(f"task{i:02d}", float(i)) for i in range(50)]
    for i, record in enumerate(tasks):
        record.task = Task(record.id, "completed", 1_790_000_000_000 + i)
        if i % 2:
            record.first_seen = float(i)
    return TomlFile.serialise(tasks)


def test_a_cut_tasks_toml_never_loads_short_without_a_word(tmp_path: Path) -> None:
    """21.5 % of cut points of a 50-task file once loaded silently (a cut at
    1,500 bytes: 5 of 50). Now a cut fails to parse or is reported, unless it
    falls between two entries or inside the first (with nothing to compare
    it to): the old writer recorded no count, so no reader can tell those
    from a shorter list."""
    import random

    from tui.services.toml_file import read_toml

    raw = _fifty_task_toml(tmp_path)
    boundaries = {i for i in range(len(raw)) if raw.startswith(b"\n[[tasks]]", i)}
    lines = [i + 1 for i, byte in enumerate(raw) if byte == ord("\n")]
    anywhere = set(random.Random(1).sample(range(1, len(raw)), 400))
    cuts = set(lines) | anywhere
    path = tmp_path / "tasks.toml"
    silent = []
    for cut in sorted(cuts - {len(raw)}):
        path.write_bytes(raw[:cut])
        loaded = read_toml(path, read_only=True)  # read_only: nothing moved aside
        if len(loaded.tasks) < 50 and loaded.problem is None:
            silent.append(cut)
    second_entry = raw.index(b"[[tasks]]", raw.index(b"[[tasks]]") + 1)
    between = boundaries | {i + 1 for i in boundaries}  # either side of the blank line
    assert all(cut in between or cut < second_entry for cut in silent), silent
    # Over all 6,947 cut points: 104 silent (1.5 %); here, a uniform sample.
    assert len(anywhere & set(silent)) / len(anywhere) < 0.05


def test_a_database_that_lost_rows_is_reported_and_its_backup_kept(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / DB_NAME
    store = TaskStore(path)
    store.save([TrackedTask(f"t{i}", float(i)) for i in range(10)])
    assert store.load().problem is None  # a good load refreshes the backup
    store.close()
    assert len(TaskStore(store.backup).load(read_only=True).tasks) == 10
    damage = sqlite3.connect(path)  # rows lost without SQLite noticing
    damage.execute("DROP TRIGGER count_removed")
    damage.execute("DELETE FROM tasks WHERE seq >= 5")
    damage.commit()
    damage.close()
    loaded = TaskStore(path).load()
    assert len(loaded.tasks) == 5
    assert loaded.problem is not None
    assert "holds 5 tasks but recorded 10" in loaded.problem
    assert f"the last good copy is kept at {store.backup}" in loaded.problem
    # The damaged reading did not replace the backup.
    assert len(TaskStore(store.backup).load(read_only=True).tasks) == 10


def test_an_empty_or_shorter_database_never_replaces_a_larger_backup(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    store = TaskStore(path)
    store.save([TrackedTask(f"t{i}", float(i)) for i in range(10)])
    assert store.load().problem is None  # backup: 10 tasks
    store.close()
    path.write_bytes(b"")  # emptied by something else
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    loaded = TaskStore(path).load()
    assert loaded.tasks == [] and loaded.problem is not None
    assert f"{store.backup} holds 10 tasks" in loaded.problem
    again = TaskStore(path)  # a new list of one task, two starts later
    again.save([TrackedTask("new", 1.0)])
    assert again.load().problem is None
    again.close()
    assert len(TaskStore(store.backup).load(read_only=True).tasks) == 10  # still the 10


def test_the_task_list_is_readable_by_the_user_alone(tmp_path: Path) -> None:
    """Titles, prompts and task IDs are the user's: a new data folder is 0700
    and the database and its WAL files 0600 (they were 0644 in 0755)."""
    import stat

    folder = tmp_path / "new-data"
    store = TaskStore(folder / DB_NAME)
    store.save(sample())
    store.close()
    store = TaskStore(folder / DB_NAME)
    store.load()  # a start that passes the checks refreshes tasks.db.bak
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert (folder / (DB_NAME + ".bak")).exists()
    assert mode(folder) == 0o700
    for path in folder.iterdir():
        if path.name.startswith(DB_NAME):
            assert mode(path) == 0o600, path.name
    store.close()


# -- the request a generated task was started with (schema 3) -------------------------
REQUEST = {"prompt": "[Verse]\nrain on the roof", "title": "Rain", "make_instrumental": True}


def version_2_database(path: Path) -> None:
    """A task list as a dashboard from before schema 3 left it."""
    from tui.services.store_schema import MIGRATIONS, statements

    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2]):
        for statement in statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number + 1}")
    conn.execute(
        "INSERT INTO tasks (id, seq, added_at, status, has_task, server_status, first_seen)"
        " VALUES ('old1', 0, 1.0, 'completed', 1, 'completed', 2.0), "
        " ('old2', 1, 3.0, 'pending', 0, NULL, NULL)"
    )
    conn.close()


def test_a_version_2_database_upgrades_and_keeps_its_tasks(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    version_2_database(path)
    export = TaskStore(path).load(read_only=True)  # export reads it unmigrated
    assert [t.id for t in export.tasks] == ["old1", "old2"] and export.problem is None
    loaded = TaskStore(path).load()
    assert loaded.problem is None
    assert [(t.id, t.status, t.request) for t in loaded.tasks] == [
        ("old1", "completed", None),
        ("old2", "pending", None),
    ]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_request_and_submit_time_round_trip(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / DB_NAME)
    store.save([TrackedTask("gen1", 5.0, request=REQUEST, submitted_at=5.25), TrackedTask("t2", 6)])
    store.close()
    first, second = TaskStore(tmp_path / DB_NAME).load().tasks
    assert first.request == REQUEST and first.submitted_at == 5.25
    assert first.submitted and first.request_label == "Rain"
    assert second.request is None and second.submitted_at is None and not second.submitted


@pytest.mark.parametrize(
    "stored",
    [
        "{not json",
        "[1, 2]",
        '"text"',
        "{}",
        '{"prompt": 5, "title": ["x"]}',  # every field of the wrong type
        "[" * 100_000,  # deeper than the parser goes
        '{"prompt": "' + "x" * 70_000 + '"}',  # past the read bound
        b"\x00\xff binary",
        12,
    ],
)
def test_a_garbled_request_loads_as_none(tmp_path: Path, stored: object) -> None:
    path = tmp_path / DB_NAME
    TaskStore(path).save([TrackedTask("gen1", 5.0, request=REQUEST, submitted_at=5.0)])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE tasks SET request = ?, submitted_at = 'soon'", (stored,))
    conn.commit()
    conn.close()
    (record,) = TaskStore(path).load().tasks
    assert record.id == "gen1" and record.request is None and record.submitted_at is None


def test_a_stored_request_comes_back_with_its_types_checked(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    TaskStore(path).save([TrackedTask("gen1", 5.0)])
    conn = sqlite3.connect(path)
    body = '{"tags": "pop", "retention_days": "7", "make_instrumental": 1, "evil": "x"}'
    conn.execute("UPDATE tasks SET request = ?", (body,))
    conn.commit()
    conn.close()
    (record,) = TaskStore(path).load().tasks
    assert record.request == {"tags": "pop"}
