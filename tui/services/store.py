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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.logs import log
from tui.domain.tracked import TrackedTask
from tui.services.store_schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    count_mismatch,
    read_all,
    statements,
    transaction,
    upsert,
)
from tui.services.toml_file import LoadResult, StoreError, read_toml

DB_NAME = "tasks.db"
LEGACY_NAME = "tasks.toml"


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
        #: Why the last write failed (kept until a write succeeds).
        self.last_error: str | None = None
        self._fresh = False

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
            mismatch = count_mismatch(conn)
            tasks = read_all(conn)
        except sqlite3.DatabaseError as exc:
            return self._corrupt(exc)
        if mismatch is not None:
            rows, recorded = mismatch
            kept = f"; the last good copy is kept at {self.backup}" if self.backup.exists() else ""
            return LoadResult(
                tasks,
                problem=f"{self.path} holds {rows} tasks but recorded {recorded}: it was "
                f"damaged{kept}",
            )
        backed_up = self._backup_count()
        if len(tasks) >= backed_up:
            self._refresh_backup(conn)
        elif self._fresh:  # an empty or new file where a list used to be
            return LoadResult(
                tasks,
                problem=f"{self.path} was empty, but {self.backup} holds {backed_up} tasks; "
                f"to get them back, quit and copy it over {self.path.name}",
            )
        return LoadResult(tasks)

    def _backup_count(self) -> int:
        """Tasks in the backup (0 without one): it is never replaced by fewer."""
        if not self.backup.exists():
            return 0
        try:
            with contextlib.closing(
                sqlite3.connect(f"{self.backup.as_uri()}?mode=ro", uri=True)
            ) as db:
                return db.execute("SELECT count(*) FROM tasks").fetchone()[0]
        except sqlite3.Error:
            return 0  # an unreadable backup is no good copy

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + ".bak")

    def _refresh_backup(self, conn: sqlite3.Connection) -> None:
        """Copy a database that passed the integrity check and the count check,
        and holds at least as many tasks as the backup, to ``tasks.db.bak``
        (once per start). A damaged, empty or shorter reading never replaces
        it; after tasks are removed on purpose it stays the larger, older list
        until the list grows back, which loses nothing."""
        partial = self.backup.with_name(self.backup.name + ".part")
        try:
            target = sqlite3.connect(partial)
            with contextlib.suppress(OSError):
                os.chmod(partial, 0o600)  # a copy of the list: the user's alone too
            try:
                conn.backup(target)
            finally:
                target.close()
            os.replace(partial, self.backup)
        except (OSError, sqlite3.Error) as exc:
            log.warning("no backup of %s: %s", self.path, exc)
            with contextlib.suppress(OSError):
                partial.unlink()

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
            return LoadResult(read_all(conn))
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
            # Titles, prompts and task IDs are the user's: a new folder is theirs alone.
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from exc
        try:
            conn = sqlite3.connect(
                self.path, timeout=10, isolation_level=None, check_same_thread=False
            )
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        with contextlib.suppress(OSError):
            # Before WAL starts: SQLite makes its -wal and -shm files with the
            # database file's permissions.
            os.chmod(self.path, 0o600)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            self._fresh = version == 0  # a new (or empty) file: no schema yet
            for number in range(version, SCHEMA_VERSION):
                with transaction(conn):
                    for statement in statements(MIGRATIONS[number]):
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

    @property
    def unsaved(self) -> int:
        """Task changes written nowhere yet (a failed batch waits here)."""
        with self._lock:
            return len(self._pending.upserts) + len(self._pending.deletes)

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
            self.last_error = None
        except (OSError, sqlite3.Error, StoreError) as exc:
            with self._lock:
                changes.merge(self._pending)
                self._pending = changes
            if not isinstance(exc, StoreError):
                exc = StoreError(f"cannot save {self.path}: {exc}")
            self.last_error = str(exc)
            raise exc

    def _connect_or_fail(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot save {self.path}: {exc}") from exc

    def _write(self, changes: Changes) -> None:
        if not changes:
            return
        conn = self._connect_or_fail()
        with self._write_lock, transaction(conn):
            for task_id in changes.deletes:
                conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            for record in changes.upserts.values():
                upsert(conn, record)
