"""The tracked task list and the last known state of each task, on disk.

The file is TOML owned by the app (``<user_data_dir>/musicmint-tui/tasks.toml``)
and is always replaced whole: written to a temp file in the same folder,
fsynced, then ``os.replace``d, so a crash at any instant leaves either the old
or the new file, never a torn one. Nothing here imports Textual.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tui.api.ids import is_valid_task_id
from tui.api.models import Task, as_float, as_str
from tui.atomic import atomic_write

FORMAT_VERSION = 1
_INT64 = 2**63 - 1

#: A pseudo-status for tasks the server said it does not know.
NOT_FOUND = "not found"


@dataclass
class TrackedTask:
    """One row of the dashboard: what we asked for and what we last heard.

    ``first_seen``/``finished_at`` are wall-clock seconds; their difference is
    the "took" column. ``last_poll`` and ``last_error`` are session-only.
    """

    id: str
    added_at: float
    task: Task | None = None
    first_seen: float | None = None
    finished_at: float | None = None
    gone: str | None = None  # server's "not found" message; polling stops
    expired: str | None = None  # server said the results expired (code 4005)
    downloads: dict[str, str] = field(default_factory=dict)  # clip ID -> saved audio path
    last_poll: float | None = None
    last_error: str | None = None

    @property
    def status(self) -> str:
        if self.gone is not None:
            return NOT_FOUND
        if self.task is None:
            return "pending"
        return self.task.status or "unknown"

    def clip_expired(self, expire_at: int | None, now: float) -> str | None:
        """Why a clip's files are gone, or ``None`` while they can still be fetched."""
        if self.expired is not None:
            return f"the server says the results expired ({self.expired})"
        if expire_at and expire_at / 1000 <= now:
            return "its files expired"
        return None

    @property
    def finished(self) -> bool:
        """No automatic polling needed any more."""
        return self.gone is not None or (self.task is not None and self.task.is_terminal)

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "added_at": self.added_at}
        if self.task is not None:
            out["task"] = _drop_none(self.task.to_json())
        for name in ("first_seen", "finished_at", "gone", "expired"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.downloads:
            out["downloads"] = dict(self.downloads)
        return out

    @classmethod
    def from_toml(cls, entry: dict[str, Any]) -> TrackedTask | None:
        task_id = as_str(entry.get("id"))
        if not task_id or not is_valid_task_id(task_id):
            return None
        raw_task = entry.get("task")
        return cls(
            id=task_id,
            added_at=as_float(entry.get("added_at")) or 0.0,
            task=(
                Task.from_json(raw_task, task_id, keep_raw=False)
                if isinstance(raw_task, dict)
                else None
            ),
            first_seen=as_float(entry.get("first_seen")),
            finished_at=as_float(entry.get("finished_at")),
            gone=as_str(entry.get("gone")),
            expired=as_str(entry.get("expired")),
            downloads=_str_map(entry.get("downloads")),
        )


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _drop_none(value: Any) -> Any:
    """TOML has no null, and its integers are 64-bit: drop what cannot be written."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if _storable(v)}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if _storable(v)]
    return value


def _storable(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, int) and not -_INT64 - 1 <= value <= _INT64)


class StoreError(Exception):
    """The data file could not be written; the message says why, for a notification."""


@dataclass
class LoadResult:
    tasks: list[TrackedTask]
    moved_aside: Path | None = None  # where a corrupt file (or a copy) went
    problem: str | None = None
    #: Set when writing would destroy data we could not read: saving must stay off.
    read_only: str | None = None


class TaskStore:
    """Reads and atomically writes ``tasks.toml``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, read_only: bool = False) -> LoadResult:
        """Load the file; a corrupt one is renamed aside, never deleted or overwritten.

        ``read_only`` (export) reports problems but leaves every file as it is.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult([])
        except OSError as exc:
            reason = f"cannot read {self.path}: {exc.strerror or exc}"
            return LoadResult([], problem=reason, read_only=reason)
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
            entries = doc.get("tasks", [])
            if not isinstance(entries, list):
                raise ValueError("'tasks' is not a list")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
            aside = None if read_only else self._move_aside()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return LoadResult([], moved_aside=aside, problem=f"{self.path} was corrupt ({reason})")
        version = doc.get("version", FORMAT_VERSION)
        if isinstance(version, int) and version > FORMAT_VERSION:
            reason = (
                f"{self.path} was written by a newer musicmint-tui (format {version}); "
                "not saving, so it is not overwritten"
            )
            return LoadResult([], problem=reason, read_only=reason)
        tasks: list[TrackedTask] = []
        seen: set[str] = set()
        skipped = 0
        for entry in entries:
            tracked = TrackedTask.from_toml(entry) if isinstance(entry, dict) else None
            if tracked is None:
                skipped += 1
            elif tracked.id not in seen:
                seen.add(tracked.id)
                tasks.append(tracked)
        if skipped:
            # The next save would drop them for good: keep a copy of the original.
            copy = None if read_only else self._copy_aside(raw, "skipped")
            return LoadResult(
                tasks,
                moved_aside=copy,
                problem=f"{skipped} unreadable entr{'y' if skipped == 1 else 'ies'} in {self.path}",
            )
        return LoadResult(tasks)

    def _copy_aside(self, raw: bytes, label: str) -> Path | None:
        target = self.path.with_name(f"{self.path.name}.{label}-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            self.write(raw, target)
        except StoreError:
            return None
        return target

    def _move_aside(self) -> Path | None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        return target

    @staticmethod
    def serialise(tasks: list[TrackedTask]) -> bytes:
        """Done on the caller's thread: the snapshot must not change while we write."""
        doc = {"version": FORMAT_VERSION, "tasks": [t.to_toml() for t in tasks]}
        return tomli_w.dumps(doc).encode("utf-8")

    def write(self, payload: bytes, path: Path | None = None) -> None:
        """Atomically replace the file with ``payload`` (see :mod:`tui.atomic`)."""
        target = path or self.path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, payload)
        except OSError as exc:
            raise StoreError(f"cannot save {target}: {exc.strerror or exc}") from exc

    def save(self, tasks: list[TrackedTask]) -> None:
        self.write(self.serialise(tasks))
