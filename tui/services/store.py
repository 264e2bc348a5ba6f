"""The tracked task list and the last known state of each task, in SQLite.

``<user_data_dir>/musicmint-tui/tasks.db`` (stdlib ``sqlite3``, WAL). Writes
cost what changed: the tracker hands over the records that changed and the
IDs that went, and one background writer applies each batch in a single
transaction (``save_soon``); batches waiting behind a slow write are merged,
never reordered or dropped. A failed batch is kept and retried with the next.

Crash safety comes from SQLite: a transaction is either in the file or not,
and with WAL and ``synchronous=NORMAL`` a committed one survives the process
being killed (only a power cut may lose the last ones). The schema is versioned
(``PRAGMA user_version``) with a list of migrations. A database that fails its
integrity check is moved aside, like a corrupt task file was before.

On first start an existing ``tasks.toml`` (the earlier format) is imported once
and renamed ``tasks.toml.migrated``, never deleted. Export opens the database
read-only, so it works while a dashboard is running. Nothing here imports
Textual.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.api.ids import is_valid_task_id
from tui.api.models import Clip, Task, as_float, as_int, as_str
from tui.domain.tracked import TrackedTask
from tui.services.toml_file import LoadResult, StoreError, read_toml

DB_NAME = "tasks.db"
LEGACY_NAME = "tasks.toml"

#: Each entry upgrades the schema by one version (index + 1).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        added_at REAL NOT NULL,
        status TEXT NOT NULL,
        has_task INTEGER NOT NULL,
        server_status TEXT,
        created_at INTEGER,
        error TEXT,
        first_seen REAL,
        finished_at REAL,
        gone TEXT,
        expired TEXT,
        status_at REAL
    );
    CREATE INDEX tasks_seq ON tasks (seq);
    CREATE TABLE clips (
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        clip_id TEXT,
        title TEXT,
        audio_url TEXT,
        image_url TEXT,
        duration REAL,
        tags TEXT,
        prompt TEXT,
        expire_at INTEGER,
        PRIMARY KEY (task_id, idx)
    );
    CREATE TABLE downloads (
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        clip_id TEXT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (task_id, clip_id)
    );
    -- Every status a task was seen in, with when: "took", "queued for", statistics.
    CREATE TABLE status_history (
        task_id TEXT NOT NULL,
        status TEXT NOT NULL,
        at REAL
    );
    CREATE INDEX status_history_task ON status_history (task_id);
    CREATE TRIGGER status_seen AFTER INSERT ON tasks BEGIN
        INSERT INTO status_history VALUES (new.id, new.status, new.status_at);
    END;
    CREATE TRIGGER status_changed AFTER UPDATE OF status ON tasks
        WHEN old.status IS NOT new.status BEGIN
        INSERT INTO status_history VALUES (new.id, new.status, new.status_at);
    END;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: SQLite integers are 64-bit: larger server numbers are stored as missing.
_INT64 = 2**63 - 1


@dataclass
class Changes:
    """What to write: records to insert or update (copies), IDs to delete."""

    upserts: dict[str, TrackedTask] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes)

    def merge(self, later: Changes) -> None:
        """Fold ``later`` in, as if it were applied after this one."""
        for task_id in later.deletes:
            self.upserts.pop(task_id, None)
            self.deletes.add(task_id)
        for task_id, record in later.upserts.items():
            self.deletes.discard(task_id)
            self.upserts[task_id] = record


def _int(value: int | None) -> int | None:
    return value if value is None or -_INT64 - 1 <= value <= _INT64 else None


class TaskStore:
    """The task database at ``path``; ``tasks.toml`` beside it is migrated once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.legacy = path.with_name(LEGACY_NAME)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # guards _pending, _writer
        self._write_lock = threading.Lock()  # one writer of the database at a time
        self._pending = Changes()
        self._writer: threading.Thread | None = None
        self._on_error: Callable[[StoreError], None] = lambda exc: None

    # -- reading -------------------------------------------------------------
    def load(self, read_only: bool = False) -> LoadResult:
        """Every stored task, in list order.

        ``read_only`` (export) reports problems but changes no file: it reads an
        unmigrated ``tasks.toml`` as it is, and opens the database read-only.
        """
        if read_only:
            return self._load_read_only()
        migrated: LoadResult | None = None
        if not self.path.exists() and self.legacy.exists():
            migrated = read_toml(self.legacy)
            if migrated.read_only:  # unreadable or newer: leave everything as it is
                return migrated
        try:
            conn = self._connect()
        except StoreError as exc:
            reason = str(exc)
            return LoadResult([], problem=reason, read_only=reason)
        except sqlite3.DatabaseError as exc:
            return self._corrupt(exc)
        if (version := conn.execute("PRAGMA user_version").fetchone()[0]) > SCHEMA_VERSION:
            reason = (
                f"{self.path} was written by a newer musicmint-tui (schema {version}); "
                "not saving, so it is not overwritten"
            )
            return LoadResult([], problem=reason, read_only=reason)
        if migrated is not None:
            return self._finish_migration(migrated)
        try:
            return LoadResult(_read_all(conn))
        except sqlite3.DatabaseError as exc:
            return self._corrupt(exc)

    def _load_read_only(self) -> LoadResult:
        if not self.path.exists():
            return read_toml(self.legacy, read_only=True)
        try:
            return self._read_with(f"{self.path.as_uri()}?mode=ro")
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                reason = f"cannot read {self.path}: {exc}"
                return LoadResult([], problem=reason, read_only=reason)
        except sqlite3.Error as exc:
            reason = f"cannot read {self.path}: {exc}"
            return LoadResult([], problem=reason, read_only=reason)
        # The last writer died with its journal open: only a read-write
        # connection may replay it. Still nothing is written by us.
        try:
            return self._read_with(self.path.as_uri())
        except sqlite3.Error as exc:
            reason = f"cannot read {self.path}: {exc}"
            return LoadResult([], problem=reason, read_only=reason)

    @staticmethod
    def _read_with(uri: str) -> LoadResult:
        conn = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                return LoadResult([])  # created, but no schema committed yet
            return LoadResult(_read_all(conn))
        finally:
            conn.close()

    def _finish_migration(self, migrated: LoadResult) -> LoadResult:
        """Write what ``tasks.toml`` held into the new database, then rename it."""
        for index, record in enumerate(migrated.tasks):
            record.seq = index
        try:
            self._write(Changes({r.id: r for r in migrated.tasks}))
            if self.legacy.exists():
                os.replace(self.legacy, self.legacy.with_name(LEGACY_NAME + ".migrated"))
        except (OSError, sqlite3.Error) as exc:
            reason = f"cannot import {self.legacy} into {self.path}: {exc}"
            return LoadResult(migrated.tasks, problem=reason, read_only=reason)
        return migrated

    def _corrupt(self, exc: Exception) -> LoadResult:
        """Move the damaged database (and its WAL) aside; start empty."""
        self.close()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                extra = self.path.with_name(self.path.name + suffix)
                if extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
        except OSError:
            reason = f"{self.path} is damaged ({exc}) and could not be moved aside"
            return LoadResult([], problem=reason, read_only=reason)
        return LoadResult([], moved_aside=aside, problem=f"{self.path} was damaged ({exc})")

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from exc
        try:
            conn = sqlite3.connect(
                self.path, timeout=10, isolation_level=None, check_same_thread=False
            )
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                with _transaction(conn):
                    for statement in _statements(MIGRATIONS[number]):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number + 1}")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        self._conn = conn
        return conn

    def close(self) -> None:
        with self._write_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- writing -------------------------------------------------------------
    def save(self, tasks: list[TrackedTask]) -> None:
        """Make the stored list exactly ``tasks``, in this order (now, on this
        thread); raises :class:`StoreError`."""
        records = {}
        for index, record in enumerate(tasks):
            record.seq = index
            records[record.id] = record
        conn = self._connect_or_fail()
        with self._write_lock:
            stored = {row[0] for row in conn.execute("SELECT id FROM tasks")}
        self.apply(Changes(records, stored - set(records)))

    def apply(self, changes: Changes) -> None:
        """Write ``changes`` now, after anything still waiting; raises StoreError."""
        with self._lock:
            pending, self._pending = self._pending, Changes()
        pending.merge(changes)
        self._write_or_keep(pending)

    def save_soon(self, changes: Changes, on_error: Callable[[StoreError], None]) -> None:
        """Write ``changes`` on the background writer; ``on_error`` is called
        on the writer's thread."""
        with self._lock:
            self._pending.merge(changes)
            self._on_error = on_error
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._drain, name="task-store-writer", daemon=True
                )
                self._writer.start()

    def wait_saved(self, timeout: float | None = None) -> None:
        """Block until the background writer is idle (quit and tests)."""
        writer = self._writer
        if writer is not None:
            writer.join(timeout)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._writer = None
                    return
                pending, self._pending = self._pending, Changes()
                on_error = self._on_error
            try:
                self._write_or_keep(pending)
            except StoreError as exc:
                on_error(exc)
                with self._lock:
                    self._writer = None
                return  # kept: retried with the next save

    def _write_or_keep(self, changes: Changes) -> None:
        """Write; on failure put ``changes`` back in front of anything newer."""
        try:
            self._write(changes)
        except (OSError, sqlite3.Error, StoreError) as exc:
            with self._lock:
                changes.merge(self._pending)
                self._pending = changes
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot save {self.path}: {exc}") from exc

    def _connect_or_fail(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot save {self.path}: {exc}") from exc

    def _write(self, changes: Changes) -> None:
        if not changes:
            return
        conn = self._connect_or_fail()
        with self._write_lock, _transaction(conn):
            for task_id in changes.deletes:
                conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            for record in changes.upserts.values():
                _upsert(conn, record)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> Iterable[str]:
    """The statements of a migration (triggers contain ';' inside BEGIN...END)."""
    buffer = ""
    for line in script.strip().splitlines():
        if line.strip().startswith("--"):
            continue
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""


def _upsert(conn: sqlite3.Connection, record: TrackedTask) -> None:
    task = record.task
    conn.execute(
        """
        INSERT INTO tasks (id, seq, added_at, status, has_task, server_status, created_at,
                           error, first_seen, finished_at, gone, expired, status_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            seq = excluded.seq, added_at = excluded.added_at, status = excluded.status,
            has_task = excluded.has_task,
            server_status = excluded.server_status, created_at = excluded.created_at,
            error = excluded.error, first_seen = excluded.first_seen,
            finished_at = excluded.finished_at, gone = excluded.gone,
            expired = excluded.expired, status_at = excluded.status_at
        """,
        (
            record.id,
            record.seq,
            record.added_at,
            record.status,
            task is not None,
            task.status if task else None,
            _int(task.created_at) if task else None,
            task.error if task else None,
            record.first_seen,
            record.finished_at,
            record.gone,
            record.expired,
            record.last_poll if record.last_poll is not None else record.added_at,
        ),
    )
    conn.execute("DELETE FROM clips WHERE task_id = ?", (record.id,))
    if task is not None:
        conn.executemany(
            "INSERT INTO clips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    record.id,
                    index,
                    clip.id,
                    clip.title,
                    clip.audio_url,
                    clip.image_url,
                    clip.duration,
                    clip.tags,
                    clip.prompt,
                    _int(clip.expire_at),
                )
                for index, clip in enumerate(task.results)
            ],
        )
    conn.execute("DELETE FROM downloads WHERE task_id = ?", (record.id,))
    conn.executemany(
        "INSERT INTO downloads VALUES (?, ?, ?)",
        [(record.id, clip_id, path) for clip_id, path in record.downloads.items()],
    )


def _read_all(conn: sqlite3.Connection) -> list[TrackedTask]:
    clips: dict[str, list[Clip]] = {}
    for row in conn.execute("SELECT * FROM clips ORDER BY task_id, idx"):
        clips.setdefault(row[0], []).append(
            Clip(
                as_str(row[2]),
                as_str(row[4]),
                as_str(row[5]),
                as_str(row[3]),
                as_float(row[6]),
                as_str(row[7]),
                as_str(row[8]),
                as_int(row[9]),
            )
        )
    downloads: dict[str, dict[str, str]] = {}
    for task_id, clip_id, path in conn.execute("SELECT task_id, clip_id, path FROM downloads"):
        downloads.setdefault(task_id, {})[clip_id] = path
    records = []
    query = (
        "SELECT id, seq, added_at, has_task, server_status, created_at, error, first_seen,"
        " finished_at, gone, expired FROM tasks ORDER BY seq, rowid"
    )
    for row in conn.execute(query):
        task_id = as_str(row[0])
        if not task_id or not is_valid_task_id(task_id):
            continue
        task = None
        if row[3]:
            results = tuple(clips.get(task_id, ()))
            task = Task(task_id, as_str(row[4]), as_int(row[5]), results, as_str(row[6]))
        records.append(
            TrackedTask(
                id=task_id,
                added_at=as_float(row[2]) or 0.0,
                task=task,
                first_seen=as_float(row[7]),
                finished_at=as_float(row[8]),
                gone=as_str(row[9]),
                expired=as_str(row[10]),
                downloads=downloads.get(task_id, {}),
                seq=int(row[1]),
            )
        )
    return records
