"""SIGKILL at random moments never leaves a damaged task database or loses a
committed task; a second dashboard on the same folder is refused, not silently
destructive."""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api.models import Clip, Task
from tui.core.lock import DataLock, FolderInUse
from tui.domain.tracked import TrackedTask
from tui.services.store import DB_NAME, Changes, TaskStore

KILLS = 200


def _writer(path: Path, ack_fd: int) -> None:
    """Child: add tasks forever (changed rows only, as the dashboard saves),
    acknowledging each committed write with the count so far."""
    store = TaskStore(path)
    count = len(store.load().tasks)
    while True:
        record = TrackedTask(
            f"t{count}", float(count), Task(f"t{count}", "queuing", created_ms(count)), seq=count
        )
        store.apply(Changes({record.id: record}))
        count += 1
        os.write(ack_fd, f"{count}\n".encode())


def created_ms(n: int) -> int:
    return 1_700_000_000_000 + n


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_never_damages_the_database_or_loses_saved_ids(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    rng = random.Random(1234)
    saved = 0
    for _ in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_fd)
            try:
                _writer(path, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)
        time.sleep(rng.uniform(0.0005, 0.01))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acks = b""
        while select.select([read_fd], [], [], 0)[0]:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            acks += chunk
        os.close(read_fd)
        if acks.strip():
            saved = max(saved, int(acks.split()[-1]))
        loaded = TaskStore(path).load(read_only=True)
        if loaded.problem:
            pytest.fail(f"unreadable database after SIGKILL: {loaded.problem}")
        ids = [t.id for t in loaded.tasks]
        assert len(ids) >= saved, f"lost saved IDs: database has {len(ids)}, {saved} were acked"
        assert ids == [f"t{i}" for i in range(len(ids))]
    assert saved > 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_second_instance_is_refused_while_the_first_lives(tmp_path: Path) -> None:
    with DataLock(tmp_path), pytest.raises(FolderInUse, match=f"pid {os.getpid()}"):
        DataLock(tmp_path).acquire()
    with DataLock(tmp_path):  # released on exit, usable again
        pass


def test_lock_dies_with_its_process(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from tui.core.lock import DataLock;"
        f"DataLock(Path({str(tmp_path)!r})).acquire(); print('locked', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    with pytest.raises(FolderInUse):
        DataLock(tmp_path).acquire()
    child.kill()
    child.wait()
    with DataLock(tmp_path):
        pass


def test_cli_refuses_second_dashboard(tmp_path: Path, monkeypatch, capsys) -> None:
    from tui.cli.main import main
    from tui.core import locations

    monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-lock-test")
    with DataLock(locations.data_dir()):
        assert main([]) == 5
    assert "already using" in capsys.readouterr().err


text = st.text(max_size=30)
clips = st.builds(
    Clip,
    text | st.none(),
    text | st.none(),
    text | st.none(),
    text | st.none(),
    st.floats(allow_nan=False, allow_infinity=False) | st.none(),
    text | st.none(),
    text | st.none(),
    st.integers() | st.none(),
)
tasks = st.builds(
    Task,
    st.just("x"),
    text | st.none(),
    st.integers() | st.none(),
    st.lists(clips, max_size=3).map(tuple),
    text | st.none(),
)
records = st.builds(
    TrackedTask,
    st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
    st.floats(allow_nan=False, allow_infinity=False),
    tasks | st.none(),
    st.floats(allow_nan=False, allow_infinity=False) | st.none(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=5, unique_by=lambda r: r.id))
def test_any_record_survives_a_round_trip(tmp_path_factory, items: list[TrackedTask]) -> None:
    path = tmp_path_factory.mktemp("rt") / DB_NAME
    store = TaskStore(path)
    store.save(items)
    loaded = store.load()
    assert loaded.problem is None
    assert [t.id for t in loaded.tasks] == [t.id for t in items]
    for before, after in zip(items, loaded.tasks, strict=True):
        if before.task is not None:
            assert after.task is not None
            assert after.task.status == before.task.status
            assert len(after.task.results) == len(before.task.results)


def test_demo_removes_only_abandoned_folders(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    from tui.cli import demo

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    stale = tmp_path / f"{demo.FOLDER_PREFIX}old"
    live = tmp_path / f"{demo.FOLDER_PREFIX}running"
    other = tmp_path / "not-ours"
    for folder in (stale, live, other):
        folder.mkdir()
    with DataLock(live):
        demo.remove_stale_folders()
    assert not stale.exists() and live.exists() and other.exists()
