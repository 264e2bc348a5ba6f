"""The task database's tables, and how a tracked task maps to their rows.

:mod:`tui.services.store` decides when and in which order to write; this
module knows what a row is. Schema changes are appended to
:data:`MIGRATIONS`, never edited, so every older database upgrades in order.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from tui.api.ids import is_valid_task_id
from tui.api.models import Clip, Task, as_duration, as_float, as_str, as_timestamp_ms
from tui.domain.tracked import TrackedTask, request_body, request_text

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
    # 2: the task count, kept by triggers in the same transaction as each write,
    # so a file that lost rows without SQLite noticing is still caught on load.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta VALUES ('task_count', (SELECT count(*) FROM tasks));
    CREATE TRIGGER count_added AFTER INSERT ON tasks BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'task_count';
    END;
    CREATE TRIGGER count_removed AFTER DELETE ON tasks BEGIN
        UPDATE meta SET value = value - 1 WHERE key = 'task_count';
    END;
    """,
    # 3: what a generated task was asked for (the request body as JSON) and when
    # the server accepted it; NULL for tasks added by ID.
    """
    ALTER TABLE tasks ADD COLUMN request TEXT;
    ALTER TABLE tasks ADD COLUMN submitted_at REAL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: SQLite integers are 64-bit: larger server numbers are stored as missing.
_INT64 = 2**63 - 1
#: The most of a stored request read back, in characters: a request within
#: the API's limits is under 10,000; a longer one was not written by us.
MAX_REQUEST_TEXT = 64 * 1024


def request_from_json(text: object) -> dict[str, Any] | None:
    """A stored request read back through :func:`~tui.domain.tracked.request_body`;
    anything else (not text, too long, not JSON, not an object) is ``None``."""
    if not isinstance(text, str) or len(text) > MAX_REQUEST_TEXT:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return request_body(value)


def _int64(value: int | None) -> int | None:
    return value if value is None or -_INT64 - 1 <= value <= _INT64 else None


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def statements(script: str) -> Iterable[str]:
    """The statements of a migration (triggers contain ';' inside BEGIN...END)."""
    buffer = ""
    for line in script.strip().splitlines():
        if line.strip().startswith("--"):
            continue
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""


def upsert(conn: sqlite3.Connection, record: TrackedTask) -> None:
    task = record.task
    conn.execute(
        """
        INSERT INTO tasks (id, seq, added_at, status, has_task, server_status, created_at,
                           error, first_seen, finished_at, gone, expired, status_at,
                           request, submitted_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            seq = excluded.seq, added_at = excluded.added_at, status = excluded.status,
            has_task = excluded.has_task,
            server_status = excluded.server_status, created_at = excluded.created_at,
            error = excluded.error, first_seen = excluded.first_seen,
            finished_at = excluded.finished_at, gone = excluded.gone,
            expired = excluded.expired, status_at = excluded.status_at,
            request = excluded.request, submitted_at = excluded.submitted_at
        """,
        (
            record.id,
            record.seq,
            record.added_at,
            record.status,
            task is not None,
            task.status if task else None,
            _int64(task.created_at) if task else None,
            task.error if task else None,
            record.first_seen,
            record.finished_at,
            record.gone,
            record.expired,
            record.last_poll if record.last_poll is not None else record.added_at,
            request_text(record.request),
            record.submitted_at,
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
                    _int64(clip.expire_at),
                )
                for index, clip in enumerate(task.results)
            ],
        )
    conn.execute("DELETE FROM downloads WHERE task_id = ?", (record.id,))
    conn.executemany(
        "INSERT INTO downloads VALUES (?, ?, ?)",
        [(record.id, clip_id, path) for clip_id, path in record.downloads.items()],
    )


def count_mismatch(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """(rows, recorded count) when they differ, else ``None``."""
    rows = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
    recorded = conn.execute("SELECT value FROM meta WHERE key = 'task_count'").fetchone()
    if recorded is None or recorded[0] == rows:
        return None
    return rows, recorded[0]


def read_all(conn: sqlite3.Connection) -> list[TrackedTask]:
    clips: dict[str, list[Clip]] = {}
    for row in conn.execute("SELECT * FROM clips ORDER BY task_id, idx"):
        clips.setdefault(row[0], []).append(
            Clip(
                as_str(row[2]),
                as_str(row[4]),
                as_str(row[5]),
                as_str(row[3]),
                as_duration(row[6]),
                as_str(row[7]),
                as_str(row[8]),
                as_timestamp_ms(row[9], "expire_at"),
            )
        )
    downloads: dict[str, dict[str, str]] = {}
    for task_id, clip_id, path in conn.execute("SELECT task_id, clip_id, path FROM downloads"):
        downloads.setdefault(task_id, {})[clip_id] = path
    records = []
    # The request is read only up to its bound: a huge value in the column
    # costs nothing (and is no request). Export reads a database as it is,
    # unmigrated: one from before schema 3 has no such columns.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}
    requests = (
        f"substr(request, 1, {MAX_REQUEST_TEXT + 1}), submitted_at"
        if {"request", "submitted_at"} <= columns
        else "NULL, NULL"
    )
    query = (
        "SELECT id, seq, added_at, has_task, server_status, created_at, error, first_seen,"
        f" finished_at, gone, expired, {requests} FROM tasks ORDER BY seq, rowid"
    )
    for row in conn.execute(query):
        task_id = as_str(row[0])
        if not task_id or not is_valid_task_id(task_id):
            continue
        task = None
        if row[3]:
            results = tuple(clips.get(task_id, ()))
            created = as_timestamp_ms(row[5], "created_at")
            task = Task(task_id, as_str(row[4]), created, results, as_str(row[6]))
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
                request=request_from_json(row[11]),
                submitted_at=as_float(row[12]),
            )
        )
    return records
